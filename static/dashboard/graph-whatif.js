// The graph page's what-if preview (?whatif=1): the proposed routing change handed over in sessionStorage
// (graph-whatif-contract.js) is sent to POST /api/v1/graph/whatif, and its prediction is drawn beside the current
// graph: a second Cytoscape graph in the same positions, the edges whose traffic changes dashed and labelled
// with the predicted rate, and a table of those edges (now → predicted). Once the cluster holds the change, the
// prediction made before it is kept and each new snapshot's rates are shown beside it (predicted vs observed).
//
// It hooks into graph.js only through the "graph:ready" event and window.cy (positions): every poll of the main
// graph refreshes the preview. Tests read window.whatifCy and #whatif's data-ready / data-state.

import { buildElements } from "./graph-data.js";
import { buildStyle } from "./graph-style.js";
import { readWhatIf, updateWhatIf } from "./graph-whatif-contract.js";
import { gettext, interpolate } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const section = $("whatif");
const PREDICTED = "#6753ac";
// Always true of a prediction (docs/whatif.md); the API's notes add what is particular to this one.
const ASSUMPTIONS = [
  gettext("Callers keep sending what they send today; a workload makes the same calls per request as today."),
  gettext("A workload keeps today's error ratio; one without traffic today has an unknown one."),
  gettext("Matches on headers, URIs or query parameters catch an unknown share unless today's routing measures it."),
  gettext("TCP routes and retries are not modelled."),
];

let cy = null;
let inFlight = false;
let fitted = false;

function fmt(value) {
  if (value === null || value === undefined) return "?";
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** "12.0 rps", or "0.00–12.0 rps" when only bounds are known (a match share telemetry cannot tell). */
export function predictedRate(predicted) {
  if (predicted.rate !== null) return `${fmt(predicted.rate)} rps`;
  return `${fmt(predicted.low)}–${fmt(predicted.high)} rps`;
}

/** " · 12.5% err", " · 0–100% err" when only bounds are known (an unknown share is aborted), "" for none. */
function errorText(rates) {
  if (rates.errorRate === null || rates.errorRate === undefined) {
    if (rates.rate === 0) return "";
    if (rates.rate && rates.errorsHigh !== undefined) {
      const pct = (errors) => Math.min(100, (100 * errors) / rates.rate).toFixed(0);
      return ` · ${pct(rates.errorsLow)}–${pct(rates.errorsHigh)}% err`;
    }
    return " · err ?";
  }
  return rates.errorRate > 0 ? ` · ${rates.errorRate.toFixed(1)}% err` : "";
}

function edgeLabel(edge) {
  if (!edge.changed) return edge.predicted.rate ? `${fmt(edge.predicted.rate)} rps` : "";
  const delta = edge.delta === null ? "" : ` (${edge.delta >= 0 ? "+" : ""}${fmt(edge.delta)})`;
  const delay = edge.delayMs ? ` · +${edge.delayMs} ms delay` : "";
  return `${predictedRate(edge.predicted)}${delta}${errorText(edge.predicted)}${delay}`;
}

function showMessage(text) {
  const box = $("whatif-message");
  box.textContent = text;
  box.hidden = !text;
}

function requestBody(contract) {
  const page = $("graph-page");
  // The window the current graph shows (the toolbar's), so that now, predicted and observed compare alike.
  const duration = $("ctl-duration")?.value || page?.dataset.defaultDuration || "";
  const body = { namespace: contract.namespace, objects: contract.objects };
  const cluster = contract.cluster || page?.dataset.cluster || "";
  if (cluster) body.cluster = cluster;
  if (duration) body.duration = duration;
  return body;
}

async function fetchPrediction(contract) {
  const response = await fetch(section.dataset.apiWhatif, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": section.dataset.csrfToken },
    body: JSON.stringify(requestBody(contract)),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  return { ok: response.ok, status: response.status, answer };
}

// --- The predicted graph ---------------------------------------------------------------------------------------

function predictedStyle() {
  return [
    ...buildStyle({ large: false }),
    { selector: "edge.whatif-same", style: { opacity: 0.55 } },
    {
      selector: "edge.whatif-changed",
      style: {
        "line-style": "dashed",
        "line-dash-pattern": [7, 4],
        "line-color": PREDICTED,
        "target-arrow-color": PREDICTED,
        width: 2.5,
        color: "#3c2a78",
        "font-weight": "bold",
      },
    },
    { selector: "edge.whatif-gone", style: { "line-style": "dotted", "line-color": "#b0b3b8", "target-arrow-color": "#b0b3b8" } },
    { selector: "node[?isWhatIf]", style: { "border-style": "dashed", "border-color": PREDICTED } },
  ];
}

function predictedElements(prediction) {
  const nodes = prediction.nodes.map(({ data }) => {
    const { parent, ...rest } = data; // the boxes are not drawn here
    return { data: rest };
  });
  const drawn = buildElements({ graphType: "versionedApp", elements: { nodes, edges: [] } }, "none");
  const ids = new Set(drawn.map((e) => e.data.id));
  const edges = prediction.edges
    .filter((e) => e.protocol !== "tcp" && ids.has(e.source) && ids.has(e.target))
    .filter((e) => e.predicted.high > 0 || (e.current.rate || 0) > 0)
    .map((e) => {
      const classes = [e.changed ? "whatif-changed" : "whatif-same"];
      if (e.predicted.high === 0) classes.push("whatif-gone");
      return {
        group: "edges",
        data: { id: `whatif:${e.source}>${e.target}`, source: e.source, target: e.target, label: edgeLabel(e), kind: e.kind },
        classes: classes.join(" "),
      };
    });
  return [...drawn, ...edges];
}

function mainPositions() {
  const main = window.cy;
  const positions = {};
  if (!main) return positions;
  main.nodes().forEach((n) => {
    if (!n.isParent()) positions[n.id()] = { ...n.position() };
  });
  return positions;
}

function drawPrediction(prediction) {
  const elements = predictedElements(prediction);
  if (!cy) {
    cy = cytoscape({ container: $("whatif-cy"), style: predictedStyle(), minZoom: 0.05, maxZoom: 4, boxSelectionEnabled: false });
    window.whatifCy = cy;
  }
  const signature = elements.map((e) => e.data.id).sort().join(",");
  if (signature === cy.scratch("_signature")) {
    cy.batch(() => {
      for (const e of elements) {
        const ele = cy.getElementById(e.data.id);
        ele.data(e.data);
        if (e.classes !== undefined) ele.classes(e.classes);
      }
    });
    return;
  }
  cy.scratch("_signature", signature);
  cy.batch(() => {
    cy.elements().remove();
    cy.add(elements);
  });
  const positions = mainPositions();
  const nodes = cy.nodes();
  const placed = nodes.filter((n) => positions[n.id()]);
  if (placed.length === nodes.length && nodes.length > 0) {
    cy.layout({ name: "preset", positions: (n) => positions[n.id()], fit: true, padding: 20 }).run();
  } else {
    const roots = nodes.filter((n) => n.indegree(false) === 0);
    cy.layout({ name: "breadthfirst", directed: true, roots, fit: true, padding: 20, spacingFactor: 1.1 }).run();
  }
}

// --- The table of changed edges --------------------------------------------------------------------------------

function observedByEdge(answer) {
  const found = new Map();
  for (const e of answer.edges || []) found.set(`${e.sourceLabel}>${e.targetLabel}`, e.current);
  return found;
}

function cell(row, text, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function renderTable(prediction, observed) {
  const body = $("whatif-edges").tBodies[0];
  body.replaceChildren();
  $("whatif-observed-head").hidden = !observed;
  $("whatif-now-head").textContent = observed ? gettext("Before") : gettext("Now");
  const changed = prediction.edges.filter((e) => e.changed && e.protocol !== "tcp");
  for (const e of changed) {
    const row = document.createElement("tr");
    row.dataset.source = e.sourceLabel;
    row.dataset.target = e.targetLabel;
    row.dataset.kind = e.kind;
    cell(row, `${e.sourceLabel} → ${e.targetLabel}${e.kind === "mirror" ? ` ${gettext("(mirror)")}` : ""}`);
    cell(row, `${fmt(e.current.rate)} rps${errorText(e.current)}`, "num");
    const predicted = cell(row, `${predictedRate(e.predicted)}${errorText(e.predicted)}`, "num predicted");
    if (e.delayMs) predicted.textContent += ` · +${e.delayMs} ms delay`;
    if (e.notes.length) predicted.title = e.notes.join("; ");
    if (observed) {
      const now = observed.get(`${e.sourceLabel}>${e.targetLabel}`) || { rate: 0, errorRate: 0 };
      cell(row, `${fmt(now.rate)} rps${errorText(now)}`, "num observed");
    }
    body.appendChild(row);
  }
  $("whatif-none").hidden = changed.length > 0;
}

function renderNotes(notes) {
  const list = $("whatif-notes");
  list.replaceChildren(
    ...[...notes, ...ASSUMPTIONS].map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
}

// --- States ----------------------------------------------------------------------------------------------------

function describeApplied(answer, appliedAt) {
  const snap = answer.snapshot;
  if (!snap) return gettext("Applied: waiting for a snapshot.");
  const after = (new Date(snap.takenAt).getTime() - new Date(appliedAt).getTime()) / 1000;
  const seconds = answer.duration || 0;
  if (after < 0) return interpolate(gettext("Applied: waiting for a snapshot taken after the change (newest #%(id)s)."), { id: snap.id });
  const mixed = after < seconds ? interpolate(gettext("; its %(seconds)s s window still holds traffic from before the change"), { seconds }) : "";
  const text = gettext("Applied: observed from snapshot #%(id)s, taken %(after)s s after the change was seen%(mixed)s.");
  return interpolate(text, { id: snap.id, after: Math.round(after), mixed });
}

function render(contract, answer) {
  const state = answer.state;
  section.dataset.state = state;
  let prediction = contract.prediction || null;
  let appliedAt = contract.appliedAt || null;
  const fresh = {
    snapshot: answer.snapshot,
    duration: answer.duration,
    nodes: answer.elements.nodes,
    edges: answer.edges,
    notes: answer.notes,
    affectedServices: answer.affectedServices,
  };
  if (state !== "applied") {
    prediction = fresh;
    appliedAt = null;
    updateWhatIf(sessionStorage, { prediction, appliedAt });
  } else if (!appliedAt) {
    // When the history recorded the change; else when this page first saw it applied.
    appliedAt = answer.appliedAt || new Date().toISOString();
    updateWhatIf(sessionStorage, { appliedAt });
  }
  const held = state === "applied" && prediction !== null;
  const status = $("whatif-state");
  if (state === "proposed") {
    const snap = answer.snapshot;
    status.textContent = snap
      ? interpolate(gettext("Proposed, not applied: predicted from snapshot #%(id)s (%(seconds)s s window)."), { id: snap.id, seconds: answer.duration })
      : gettext("Proposed, not applied: no snapshot to predict from yet.");
  } else if (state === "partly-applied") {
    const done = answer.objects.filter((o) => o.applied).length;
    const text = gettext("Partly applied (%(done)s of %(total)s objects): predicted from the cluster as it is now.");
    status.textContent = interpolate(text, { done, total: answer.objects.length });
  } else if (held) {
    status.textContent = describeApplied(answer, appliedAt);
  } else {
    prediction = fresh;
    status.textContent = gettext("The cluster already held this change when the preview opened: nothing was predicted before it.");
  }
  const rerouted = prediction.affectedServices || [];
  const affected = rerouted.length ? interpolate(gettext("Rerouted: %(services)s."), { services: rerouted.join(", ") }) : gettext("No service is rerouted.");
  const objects = answer.objects.map((o) => `${o.action === "delete" ? `${gettext("delete")} ` : ""}${o.kind} ${o.namespace}/${o.name}`).join(", ");
  $("whatif-summary").textContent = `${affected} ${interpolate(gettext("Objects: %(objects)s."), { objects })}`;
  $("whatif-predicted-caption").textContent = held ? gettext("Predicted before the change (dashed: changed)") : gettext("Predicted (dashed: changed)");
  drawPrediction(prediction);
  renderTable(prediction, held ? observedByEdge(answer) : null);
  renderNotes(prediction.notes || []);
  showMessage(answer.warning || "");
}

async function refresh() {
  if (inFlight) return;
  const contract = readWhatIf(sessionStorage);
  if (!contract) {
    showMessage(gettext("No routing change to preview: use “Preview on graph” in the YAML editor or a routing wizard."));
    section.dataset.ready = "true";
    return;
  }
  inFlight = true;
  try {
    const { ok, status, answer } = await fetchPrediction(contract);
    if (!ok) {
      showMessage(interpolate(gettext("The preview could not be computed: %(reason)s"), { reason: answer?.message || `HTTP ${status}` }));
    } else {
      render(readWhatIf(sessionStorage) || contract, answer);
    }
  } catch {
    showMessage(gettext("Cannot reach mesh-ui; retrying with the next refresh."));
  } finally {
    inFlight = false;
    section.dataset.ready = "true";
    document.dispatchEvent(new CustomEvent("whatif:ready"));
  }
}

function close() {
  section.hidden = true;
  $("whatif-canvas").hidden = true;
  document.querySelector(".graph-body")?.classList.remove("whatif-on");
  const params = new URLSearchParams(location.search);
  params.delete("whatif");
  history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
  document.removeEventListener("graph:ready", onGraphReady);
  window.cy?.resize();
  window.cy?.fit(undefined, 20);
}

function onGraphReady() {
  if (!fitted && window.cy) {
    // The main graph now has half the width it was laid out for.
    window.cy.resize();
    window.cy.fit(undefined, 20);
    fitted = true;
  }
  refresh();
}

function start() {
  section.hidden = false;
  $("whatif-canvas").hidden = false;
  document.querySelector(".graph-body")?.classList.add("whatif-on");
  $("whatif-close").addEventListener("click", close);
  document.addEventListener("graph:ready", onGraphReady);
  if (window.graphReady) onGraphReady();
}

if (section && new URLSearchParams(location.search).get("whatif") === "1") start();
