// Detail page: inbound/outbound charts from the metrics API over a chosen window. The server-rendered health,
// pods and neighbours are refreshed by htmx ({% live_refresh %}); the charts reload after each of those refreshes.
// Values from the cluster only ever reach the DOM as textContent.
import { drawMiniGraph } from "./mini_graph.js";

const section = document.getElementById("charts");
const live = document.getElementById("detail-live");
const statusLine = section?.querySelector("[data-chart-status]");
const WINDOWS = ["15m", "1h", "6h", "1d"];
const COLORS = { in: "#1565c0", out: "#6a1b9a", e5: "#c62828", e4: "#ef6c00", eg: "#8e24aa", en: "#424242", p50: "#2e7d32", p95: "#ef6c00", p99: "#c62828" };

// Chart name → [point key, legend label, colour] per dataset.
const SERIES = {
  "in-rate": [["inRate", "requests/s", COLORS.in]],
  "in-errors": [["errorRate5xx", "5xx %", COLORS.e5], ["errorRate4xx", "4xx %", COLORS.e4], ["errorRateGrpc", "gRPC %", COLORS.eg], ["errorRateNoResponse", "no response %", COLORS.en]],
  "in-latency": [["p50", "p50", COLORS.p50], ["p95", "p95", COLORS.p95], ["p99", "p99", COLORS.p99]],
  "out-rate": [["outRate", "requests/s", COLORS.out]],
  "out-errors": [["outErrorRate5xx", "5xx %", COLORS.e5], ["outErrorRate4xx", "4xx %", COLORS.e4], ["outErrorRateGrpc", "gRPC %", COLORS.eg], ["outErrorRateNoResponse", "no response %", COLORS.en]],
  "out-latency": [["outP50", "p50", COLORS.p50], ["outP95", "p95", COLORS.p95], ["outP99", "p99", COLORS.p99]],
};

const charts = new Map();
let windowKey = new URLSearchParams(window.location.search).get("window");
if (!WINDOWS.includes(windowKey)) windowKey = "1h";

function createChart(canvas, series) {
  return new window.Chart(canvas, {
    type: "line",
    data: {
      labels: [],
      datasets: series.map(([, label, color]) => ({
        label, data: [], borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: 1.5, spanGaps: false,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true }, x: { ticks: { maxTicksLimit: 6, autoSkip: true } } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
    },
  });
}

function timeLabel(iso) {
  const date = new Date(iso);
  const options = windowKey === "1d" || windowKey === "6h" ? { hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  return date.toLocaleTimeString([], options);
}

async function loadCharts() {
  if (!section || !window.Chart) return;
  const { kind, namespace, name, cluster, apiMetrics } = section.dataset;
  const params = new URLSearchParams({ kind, namespace, name, duration: windowKey });
  if (cluster) params.set("cluster", cluster);
  const response = await fetch(`${apiMetrics}?${params}`, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    statusLine.textContent = `Could not load metrics (HTTP ${response.status}).`;
    return;
  }
  const { points } = await response.json();
  const labels = points.map((p) => timeLabel(p.t));
  for (const canvas of section.querySelectorAll("canvas[data-chart]")) {
    const series = SERIES[canvas.dataset.chart];
    if (!series) continue;
    let chart = charts.get(canvas);
    if (!chart) {
      chart = createChart(canvas, series);
      charts.set(canvas, chart);
    }
    chart.data.labels = labels;
    series.forEach(([key], index) => {
      chart.data.datasets[index].data = points.map((p) => p[key]);
    });
    chart.update("none");
  }
  statusLine.textContent = points.length
    ? `${points.length} snapshot${points.length === 1 ? "" : "s"} in the last ${windowKey}`
    : `No snapshot in the last ${windowKey} yet.`;
}

function selectWindow(key) {
  windowKey = key;
  for (const button of section.querySelectorAll("[data-window]")) {
    button.setAttribute("aria-pressed", String(button.dataset.window === key));
  }
  const url = new URL(window.location.href);
  url.searchParams.set("window", key);
  window.history.replaceState(window.history.state, "", url);
  loadCharts().catch(() => {});
}

drawMiniGraph(document.getElementById("mini-graph"), document.getElementById("mini-graph-data"));

if (section) {
  for (const button of section.querySelectorAll("[data-window]")) {
    button.addEventListener("click", () => selectWindow(button.dataset.window));
  }
  selectWindow(windowKey);
}

live?.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target === live) loadCharts().catch(() => {});
});
