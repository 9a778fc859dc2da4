// A merchant's own uploads per day, by outcome, above their product list.
// Chart.js is the global the page loads (pinned, with its integrity hash).

const OUTCOME_COLOR = { sorted: "#009E73", review: "#E69F00", failed: "#D55E00", in_progress: "#56B4E9" };
const canvas = document.getElementById("merchant-summary-chart");
const data = JSON.parse(document.getElementById("merchant-summary-data").textContent);
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

function dayLabel(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return dayFormat.format(new Date(year, month - 1, day));
}

if (window.Chart && canvas && !data.empty) {
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels.map(dayLabel),
      datasets: data.datasets.map((s) => ({ label: s.label, data: s.data, backgroundColor: OUTCOME_COLOR[s.key] })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 250 },
      scales: {
        x: { stacked: true, ticks: { maxTicksLimit: 8 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    },
  });
  canvas.closest(".merchant-summary").dataset.state = "ready";
}
