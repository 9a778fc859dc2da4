// Model version page: the precision/coverage curve of the chosen category, with
// the threshold its calibration chose marked. Chart.js is the global the page
// loads (pinned, with its integrity hash) before this module runs.

const dataNode = document.getElementById("curve-data");
const canvas = document.getElementById("precision-coverage");
const select = document.getElementById("curve-category");

if (dataNode && canvas && select && window.Chart) {
  const curves = JSON.parse(dataNode.textContent);
  let chart = null;

  const draw = (slug) => {
    const entry = curves[slug];
    const points = entry.curve.map((p) => ({ x: p.coverage, y: p.precision, threshold: p.threshold }));
    const chosen = entry.chosen ? [{ x: entry.chosen.coverage, y: entry.chosen.precision, threshold: entry.chosen.threshold }] : [];
    chart?.destroy();
    chart = new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: `${entry.name}: precision at each coverage`, data: points, borderColor: "#0072B2", backgroundColor: "#0072B2", pointRadius: 2, tension: 0 },
          { label: "Chosen threshold", data: chosen, type: "scatter", borderColor: "#D55E00", backgroundColor: "#D55E00", pointRadius: 7, pointStyle: "rectRot" },
        ],
      },
      options: {
        animation: false,
        parsing: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { type: "linear", min: 0, max: 1, title: { display: true, text: "Coverage: share of its predictions auto-accepted" } },
          y: { min: 0, max: 1, title: { display: true, text: "Precision of those" } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => `threshold ${ctx.raw.threshold.toFixed(3)}: coverage ${(ctx.raw.x * 100).toFixed(1)} %, precision ${(ctx.raw.y * 100).toFixed(1)} %`,
            },
          },
        },
      },
    });
  };

  select.addEventListener("change", () => draw(select.value));
  draw(select.value);
}
