// Draws the spend report's charts from the data the page passes with json_script.
// Loaded after the vendored Chart.js (global `Chart`); no inline script, for the CSP.
// The words drawn (legends, notices) come with the data, in the page's language.

const PALETTE = ["#417690", "#79aec8", "#e0a030", "#c0504d", "#6a9f4b", "#8064a2", "#4bacc6", "#f79646"];

function readData() {
  const element = document.getElementById("spend-chart-data");
  return element ? JSON.parse(element.textContent) : null;
}

function textColour() {
  return getComputedStyle(document.body).getPropertyValue("--body-quiet-color").trim() || "#666";
}

function tokensChart(canvas, data) {
  const series = [
    [data.labels.input, data.tokens.input],
    [data.labels.cached, data.tokens.cached],
    [data.labels.reasoning, data.tokens.reasoning],
    [data.labels.answer, data.tokens.answer],
  ];
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.days,
      datasets: series.map(([label, values], index) => ({
        label, data: values, backgroundColor: PALETTE[index], stack: "tokens",
      })),
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      plugins: { legend: { labels: { color: textColour() } } },
    },
  });
}

function costChart(canvas, data) {
  const currencies = Object.keys(data.cost);
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: data.days,
      datasets: currencies.map((currency, index) => ({
        label: currency,
        data: data.cost[currency].map(Number),
        borderColor: PALETTE[index % PALETTE.length],
        backgroundColor: PALETTE[index % PALETTE.length],
        tension: 0.2,
      })),
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true } },
      plugins: {
        legend: { labels: { color: textColour() } },
        title: { display: currencies.length === 0, text: data.labels.no_priced },
      },
    },
  });
}

function modelsChart(canvas, data) {
  return new Chart(canvas, {
    type: "doughnut",
    data: {
      labels: data.models.map((row) => row.model || data.labels.no_model),
      datasets: [{
        data: data.models.map((row) => row.tokens),
        backgroundColor: data.models.map((_, index) => PALETTE[index % PALETTE.length]),
      }],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom", labels: { color: textColour() } } },
    },
  });
}

function drawCharts() {
  const data = readData();
  if (!data || typeof Chart === "undefined") return;
  const charts = [
    ["chart-tokens", tokensChart],
    ["chart-cost", costChart],
    ["chart-models", modelsChart],
  ];
  for (const [id, draw] of charts) {
    const canvas = document.getElementById(id);
    if (canvas) draw(canvas, data);
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawCharts);
} else {
  drawCharts();
}
