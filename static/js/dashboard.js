// Staff dashboard: draw every chart from the data the page carries, and fetch
// and redraw when the filters change. Chart.js is the global the page loads
// (pinned, with its integrity hash) before this module runs.

const root = document.getElementById("dashboard");
const form = document.getElementById("dashboard-filters");
const statusLine = document.getElementById("dashboard-status");
const emptyBanner = document.getElementById("dashboard-empty");
const scopeLine = document.getElementById("dashboard-scope");
const customDates = form.querySelectorAll(".custom-dates");
const charts = new Map();

// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const COLOR = {
  blue: "#0072B2",
  orange: "#E69F00",
  green: "#009E73",
  vermillion: "#D55E00",
  purple: "#CC79A7",
  sky: "#56B4E9",
  yellow: "#F0E442",
  grey: "#6B7280",
};
const SERIES = [COLOR.blue, COLOR.orange, COLOR.green, COLOR.vermillion, COLOR.purple, COLOR.sky, COLOR.grey];
const OUTCOME_COLOR = { sorted: COLOR.green, review: COLOR.orange, failed: COLOR.vermillion, in_progress: COLOR.sky };
const INK = "#1d2433";

const number = new Intl.NumberFormat();
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

function dayLabel(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return dayFormat.format(new Date(year, month - 1, day));
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
}

function milliseconds(value) {
  return value === null || value === undefined ? "—" : `${number.format(Math.round(value))} ms`;
}

const sum = (values) => values.reduce((a, b) => a + (b || 0), 0);

// --- One builder per chart: Chart.js config and a sentence for screen readers.

const builders = {
  activity(d) {
    return {
      summary: `${number.format(sum(d.uploads))} uploads and ${number.format(sum(d.classified))} classifications over ${d.labels.length} days.`,
      config: {
        type: "bar",
        data: {
          labels: d.labels.map(dayLabel),
          datasets: [
            { label: "Uploads", data: d.uploads, backgroundColor: COLOR.blue, order: 2 },
            {
              label: "Classifications",
              data: d.classified,
              type: "line",
              borderColor: COLOR.orange,
              backgroundColor: COLOR.orange,
              pointRadius: 2,
              order: 1,
            },
          ],
        },
        options: { scales: { y: countAxis() } },
      },
    };
  },

  categories(d) {
    return {
      summary: `${d.labels.length} categories; most predicted: ${d.labels[0] ?? "none"}.`,
      height: Math.max(240, 26 * d.labels.length + 70),
      config: {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "Predicted", data: d.predicted, backgroundColor: COLOR.blue },
            { label: "Confirmed by a reviewer", data: d.confirmed, backgroundColor: COLOR.green },
          ],
        },
        options: { indexAxis: "y", scales: { x: countAxis() } },
      },
    };
  },

  confidence(d) {
    return {
      summary: `${number.format(sum(d.auto_accepted))} accepted automatically, ${number.format(sum(d.sent_to_review))} sent to review.`,
      config: {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "Accepted automatically", data: d.auto_accepted, backgroundColor: COLOR.green },
            { label: "Sent to review", data: d.sent_to_review, backgroundColor: COLOR.orange },
          ],
        },
        options: {
          scales: {
            x: { stacked: true, title: { display: true, text: "Confidence" } },
            y: { ...countAxis(), stacked: true },
          },
        },
      },
    };
  },

  backlog(d) {
    return {
      summary: `Backlog went from ${number.format(d.backlog[0] ?? 0)} to ${number.format(d.backlog.at(-1) ?? 0)}.`,
      config: {
        type: "line",
        data: {
          labels: d.labels.map(dayLabel),
          datasets: [
            {
              label: "Waiting for review",
              data: d.backlog,
              borderColor: COLOR.orange,
              backgroundColor: "rgba(230, 159, 0, 0.2)",
              fill: true,
              pointRadius: 2,
            },
          ],
        },
        options: { scales: { y: countAxis() } },
      },
    };
  },

  backlog_age(d) {
    const oldest = d.oldest_hours === null ? "" : ` The oldest has waited ${formatHours(d.oldest_hours)}.`;
    return {
      summary: `${number.format(sum(d.counts))} waiting for review.${oldest}`,
      note: oldest.trim(),
      config: {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            {
              label: "Waiting for review",
              data: d.counts,
              backgroundColor: [COLOR.sky, COLOR.blue, COLOR.orange, COLOR.vermillion],
            },
          ],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: countAxis() } },
      },
    };
  },

  outcomes(d) {
    return {
      summary: d.labels.map((name, i) => `${name}: precision ${percent(d.precision[i])}`).join("; "),
      config: {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "Accepted", data: d.accepted, backgroundColor: COLOR.green, stack: "decisions" },
            { label: "Corrected", data: d.corrected, backgroundColor: COLOR.vermillion, stack: "decisions" },
            {
              label: "Live precision",
              data: d.precision,
              type: "line",
              yAxisID: "precision",
              borderColor: COLOR.blue,
              backgroundColor: COLOR.blue,
              pointRadius: 4,
            },
          ],
        },
        options: {
          scales: {
            x: { stacked: true },
            y: { ...countAxis(), stacked: true },
            precision: {
              position: "right",
              min: 0,
              max: 1,
              grid: { drawOnChartArea: false },
              ticks: { callback: (v) => `${Math.round(v * 100)} %` },
            },
          },
          plugins: {
            tooltip: {
              callbacks: {
                label: (ctx) =>
                  ctx.dataset.yAxisID === "precision"
                    ? `Live precision: ${percent(ctx.raw)}`
                    : `${ctx.dataset.label}: ${number.format(ctx.raw)}`,
              },
            },
          },
        },
      },
    };
  },

  confusion(d) {
    const n = d.labels.length;
    const max = Math.max(1, ...d.cells.map((c) => c.count));
    const right = sum(d.cells.filter((c) => c.actual === c.predicted).map((c) => c.count));
    const axis = (title) => ({
      type: "linear",
      min: -0.5,
      max: n - 0.5,
      offset: false,
      grid: { display: false },
      title: { display: true, text: title },
      afterBuildTicks: (scale) => {
        scale.ticks = d.labels.map((_, i) => ({ value: i }));
      },
      ticks: { autoSkip: false, callback: (v) => d.labels[v] ?? "" },
    });
    return {
      summary: `${d.model_version ?? "No active model"}: ${right} of ${d.total} reviewed predictions right.`,
      note: d.model_version ? `Model version ${d.model_version}.` : "",
      height: Math.max(320, 34 * n + 120),
      config: {
        type: "scatter",
        data: {
          datasets: [
            {
              label: "Reviews",
              data: d.cells.map((c) => ({ x: c.predicted, y: c.actual, v: c.count })),
              pointStyle: "rect",
              pointRadius: (ctx) => cellRadius(ctx.chart, n),
              pointHoverRadius: (ctx) => cellRadius(ctx.chart, n),
              backgroundColor: (ctx) => heat((ctx.raw?.v ?? 0) / max),
              borderColor: (ctx) => (ctx.raw && ctx.raw.x === ctx.raw.y ? INK : "transparent"),
              borderWidth: 1,
            },
          ],
        },
        options: {
          scales: { x: axis("Model predicted"), y: { ...axis("Reviewers decided"), reverse: true } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                title: () => "",
                label: (ctx) =>
                  `${d.labels[ctx.raw.y]} predicted as ${d.labels[ctx.raw.x]}: ${number.format(ctx.raw.v)}`,
              },
            },
          },
        },
        plugins: [cellCounts(max)],
      },
    };
  },

  latency(d) {
    const p95 = d.p95.filter((v) => v !== null);
    return {
      summary: p95.length ? `p95 between ${milliseconds(Math.min(...p95))} and ${milliseconds(Math.max(...p95))}.` : "",
      config: {
        type: "line",
        data: {
          labels: d.labels.map(dayLabel),
          datasets: [
            { label: "p50", data: d.p50, borderColor: COLOR.blue, backgroundColor: COLOR.blue, pointRadius: 2 },
            {
              label: "p95",
              data: d.p95,
              borderColor: COLOR.vermillion,
              backgroundColor: COLOR.vermillion,
              borderDash: [6, 4],
              pointRadius: 2,
            },
          ],
        },
        options: {
          scales: { y: { beginAtZero: true, title: { display: true, text: "ms" } } },
          plugins: {
            tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${milliseconds(ctx.raw)}` } },
          },
        },
      },
    };
  },

  failures(d) {
    return {
      summary: `${number.format(d.total)} failures; ${d.datasets.map((s) => s.label).join("; ")}.`,
      config: {
        type: "bar",
        data: {
          labels: d.labels.map(dayLabel),
          datasets: d.datasets.map((s, i) => ({
            label: s.label.length > 60 ? `${s.label.slice(0, 57)}…` : s.label,
            data: s.data,
            backgroundColor: s.label === "Other reasons" ? COLOR.grey : SERIES[(i + 3) % SERIES.length],
          })),
        },
        options: { scales: { x: { stacked: true }, y: { ...countAxis(), stacked: true } } },
      },
    };
  },

  merchants(d) {
    return {
      summary: d.labels.map((name, i) => `${name}: ${number.format(d.totals[i])}`).join("; "),
      height: Math.max(240, 30 * d.labels.length + 80),
      config: {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: d.datasets.map((s) => ({
            label: s.label,
            data: s.data,
            backgroundColor: OUTCOME_COLOR[s.key] ?? COLOR.grey,
          })),
        },
        options: {
          indexAxis: "y",
          scales: { x: { ...countAxis(), stacked: true }, y: { stacked: true } },
        },
      },
    };
  },
};

function countAxis() {
  return { beginAtZero: true, ticks: { precision: 0 } };
}

function formatHours(hours) {
  return hours < 48 ? `${Math.round(hours)} hours` : `${Math.round(hours / 24)} days`;
}

// Light to dark blue; white text goes on the darker half.
function heat(t) {
  const from = [222, 235, 247];
  const to = [8, 48, 107];
  const mix = from.map((f, i) => Math.round(f + (to[i] - f) * Math.min(1, Math.max(0.15, t))));
  return `rgb(${mix.join(",")})`;
}

// A "rect" point of radius r is a square of side r * sqrt(2).
function cellRadius(chart, n) {
  const area = chart.chartArea;
  if (!area || !n) return 8;
  const side = Math.min(area.width, area.height) / n;
  return Math.max(2, (Math.min(area.width / n, area.height / n, side) - 3) / Math.SQRT2);
}

function cellCounts(max) {
  return {
    id: "cellCounts",
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const meta = chart.getDatasetMeta(0);
      ctx.save();
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = "600 12px system-ui, sans-serif";
      meta.data.forEach((point, i) => {
        const value = chart.data.datasets[0].data[i].v;
        ctx.fillStyle = value / max > 0.5 ? "#fff" : INK;
        ctx.fillText(number.format(value), point.x, point.y);
      });
      ctx.restore();
    },
  };
}

// --- Drawing -------------------------------------------------------------

function card(key) {
  return root.querySelector(`[data-chart="${key}"]`);
}

function drawChart(key, chartData) {
  const section = card(key);
  const box = section.querySelector(".chart-box");
  const canvas = section.querySelector("canvas");
  const empty = section.querySelector(".chart-empty");
  charts.get(key)?.destroy();
  charts.delete(key);
  box.hidden = chartData.empty;
  empty.hidden = !chartData.empty;
  if (chartData.empty) return;
  const built = builders[key](chartData);
  box.style.height = built.height ? `${built.height}px` : "";
  const title = section.querySelector("h2").textContent;
  canvas.setAttribute("aria-label", `${title}. ${built.summary}`.trim());
  let note = section.querySelector(".chart-note");
  if (built.note) {
    if (!note) {
      note = document.createElement("p");
      note.className = "muted chart-note";
      box.after(note);
    }
    note.textContent = built.note;
  } else {
    note?.remove();
  }
  const config = built.config;
  config.options = { responsive: true, maintainAspectRatio: false, ...config.options };
  charts.set(key, new window.Chart(canvas, config));
}

function showNumbers(numbers) {
  const formats = {
    images_today: (v) => number.format(v),
    backlog: (v) => number.format(v),
    auto_accept_rate: percent,
    live_precision: percent,
    audit_precision: percent,
    p95_latency_ms: milliseconds,
  };
  const interval = numbers.audit_interval;
  document.querySelector('[data-number="audit_interval"]').textContent = interval
    ? `95 % interval ${percent(interval[0])}–${percent(interval[1])}, ${number.format(numbers.audited)} audits`
    : "no audit decided yet";
  for (const [key, format] of Object.entries(formats)) {
    document.querySelector(`[data-number="${key}"]`).textContent = format(numbers[key]);
  }
}

function showChanges(changes) {
  for (const [key, change] of Object.entries(changes)) {
    const element = document.querySelector(`[data-change="${key}"]`);
    if (element) element.textContent = change.text;
  }
}

function render(data) {
  showNumbers(data.numbers);
  showChanges(data.changes);
  emptyBanner.hidden = !data.empty;
  scopeLine.textContent = `${data.period.start} to ${data.period.end} · ${data.merchant ? data.merchant.name : "All merchants"}`;
  for (const [key, chartData] of Object.entries(data.charts)) {
    if (builders[key]) drawChart(key, chartData);
  }
}

// --- Filters -------------------------------------------------------------

function query() {
  const params = new URLSearchParams();
  const fields = new FormData(form);
  const period = fields.get("period") || "30";
  params.set("period", period);
  if (period === "custom") {
    params.set("start", fields.get("start") || "");
    params.set("end", fields.get("end") || "");
  }
  if (fields.get("merchant")) params.set("merchant", fields.get("merchant"));
  return params.toString();
}

function showCustomDates() {
  const custom = form.elements.period.value === "custom";
  for (const field of customDates) field.hidden = !custom;
}

function say(message, isError = false) {
  statusLine.replaceChildren();
  if (!message) return;
  const line = document.createElement("p");
  line.className = isError ? "message error" : "muted";
  line.textContent = message;
  statusLine.append(line);
}

async function reload() {
  const params = query();
  if (params.includes("period=custom") && (!form.elements.start.value || !form.elements.end.value)) {
    say("Choose both dates of the custom period.");
    return;
  }
  root.setAttribute("aria-busy", "true");
  say("Loading…");
  try {
    const response = await fetch(`${root.dataset.jsonUrl}?${params}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.status === 400) {
      const body = await response.json();
      const messages = Object.values(body.errors).flat().map((e) => e.message);
      say(messages.join(" "), true);
      return;
    }
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    render(await response.json());
    for (const link of root.querySelectorAll("[data-csv]")) {
      link.href = `${root.dataset.csvUrl.replace("CHART", link.dataset.csv)}?${params}`;
    }
    window.history.replaceState(null, "", `?${params}`);
    say("");
  } catch (error) {
    say(`Could not load the dashboard: ${error.message}`, true);
  } finally {
    root.removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  reload();
});
form.addEventListener("change", (event) => {
  showCustomDates();
  const isDate = event.target.type === "date";
  if (!isDate || (form.elements.start.value && form.elements.end.value)) reload();
});

// --- Start ---------------------------------------------------------------

showCustomDates();
if (window.Chart) {
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.color = INK;
  window.Chart.defaults.animation = reduceMotion ? false : { duration: 250 };
  render(JSON.parse(document.getElementById("dashboard-data").textContent));
  root.dataset.state = "ready";
} else {
  root.dataset.state = "no-chartjs";
  say("The charts could not be drawn because Chart.js did not load. The figures above and the CSV exports still work.", true);
}
