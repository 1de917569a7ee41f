// The service graph page: reads the view from the query string, fetches /api/v1/graph, draws it with Cytoscape,
// and keeps polling (fast while the tab is visible, not at all while it is hidden or replaying).
//
// A hide expression made of terms the server evaluates (label:, name, node, healthy, idle) is sent as hide= so a
// large mesh sends only what is shown; it is applied here too, as every other expression.
//
// Tests and the benchmark read window.cy, and window.graphReady (true once the graph is drawn and laid out; a
// "graph:ready" event fires on document each time).
//
// Node graphs (Kiali's): double-clicking a node, or a "mesh-ui:node-graph" event on document with
// detail {nodeId}, shows the graph of that node (URL state node=kind:namespace:name[:version]); the breadcrumb
// leads back.

import { badgeList, badgeStyle, withoutBadges } from "./graph-badges.js";
import { buildElements, edgeLabel } from "./graph-data.js";
import { ExpressionError, compileExpression, isServerEvaluable } from "./graph-expr.js";
import { exportGraph } from "./graph-export.js";
import { bindInteractions } from "./graph-interact.js";
import { isLargeGraph, prepareLayout, runLayout, setDagreScripts, setFcoseScripts } from "./graph-layout.js";
import { focusStyle, nodeGraphUrl, nodeRefLabel, nodeRefOf, parseNodeRef } from "./graph-node.js";
import { setBadgeList, setDetailUrls, showPanel } from "./graph-panel.js";
import { graphApiQuery, readState, saveState } from "./graph-state.js";
import { buildStyle } from "./graph-style.js";
import { MAX_EDGES, TrafficAnimation } from "./graph-traffic.js";
import { gettext, interpolate } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const root = $("graph-page");
const form = $("graph-toolbar");
// Every control applies itself; Enter in a search box must not submit the toolbar (no inline handler: the CSP).
form.addEventListener("submit", (event) => event.preventDefault());
// The cluster the header chose (the server applies the one rule); API calls name it explicitly.
const defaults = { duration: root.dataset.defaultDuration || "", cluster: root.dataset.cluster || "" };
setDetailUrls(JSON.parse($("graph-urls")?.textContent || "{}"));
const RELOAD_KEYS = [
  "cluster", "namespaces", "graphType", "duration", "idle", "boxBy", "at", "node", "services", "rateHttp", "rateGrpc",
  "rateTcp", "ambientTraffic", "queryTime",
];
const SELECTS = [
  "graphType", "duration", "refresh", "edgeLabels", "rtStat", "rateHttp", "rateGrpc", "rateTcp", "ambientTraffic",
  "layout", "boxBy",
];
const badgeBase = root.dataset.badgeBase || "";
setBadgeList((d) => badgeList(d, badgeBase));

// The values each toolbar select offers (rendered by the server) are the only ones a URL may choose.
const choices = Object.fromEntries(
  ["graphType", "edgeLabels", "rtStat", "rateHttp", "rateGrpc", "rateTcp", "ambientTraffic", "layout", "refresh"]
    .filter((name) => form.elements[name])
    .map((name) => [name, [...form.elements[name].options].map((o) => o.value)]),
);

let state = readState(location.search, defaults, choices);
if (state.node && !parseNodeRef(state.node)) state.node = "";
// The node graphs drilled through to reach the current one (the breadcrumb), oldest first.
let trail = [];
let cy = null;
let large = false;
let traffic = null;
let rawJson = "";
let graph = null;
let snapshots = [];
let pollTimer = 0;
let loadSequence = 0;
let exprTimer = 0;
let userMovedView = false;

function setReady(ready) {
  window.graphReady = ready;
  document.body.dataset.graphReady = String(ready);
  if (!ready) return;
  // Milliseconds from navigation to the first drawn graph (the benchmark reads it).
  if (window.graphFirstReadyMs === undefined) window.graphFirstReadyMs = performance.now();
  document.dispatchEvent(new CustomEvent("graph:ready"));
}

// --- Cytoscape -------------------------------------------------------------------------------------------------

function createCy(forLarge) {
  if (cy) cy.destroy();
  large = forLarge;
  cy = cytoscape({
    container: $("graph-cy"),
    style: [...buildStyle({ large }), ...badgeStyle(), ...focusStyle()],
    minZoom: 0.02,
    maxZoom: 4,
    boxSelectionEnabled: false,
    // Cheap rendering while panning/zooming big graphs.
    textureOnViewport: large,
    hideEdgesOnViewport: large,
    pixelRatio: large ? 1 : "auto",
  });
  cy.on("scrollzoom pinchzoom dragpan", () => {
    userMovedView = true;
  });
  cy.on("tap", "node, edge", (event) => openPanel(event.target));
  cy.on("dbltap", "node", (event) => drillInto(event.target));
  cy.on("tap", (event) => {
    if (event.target === cy) openPanel(null);
  });
  window.cy = cy;
  bindInteractions(cy, document.querySelector(".graph-canvas"));
  traffic?.stop();
  traffic = new TrafficAnimation(cy, $("graph-traffic"));
}

function signature(elements) {
  return elements.map((e) => `${e.data.id}|${e.data.parent || ""}`).sort().join(",");
}

function currentSignature() {
  return cy
    .elements()
    .map((e) => `${e.id()}|${e.isNode() ? e.data("parent") || "" : ""}`)
    .sort()
    .join(",");
}

async function draw(relayout) {
  const wantLarge = isLargeGraph(graph);
  const elements = buildElements(graph, state.edgeLabels, wantLarge, { rtStat: state.rtStat, badgeBase });
  if (!cy || wantLarge !== large) createCy(wantLarge);
  const sameShape = !relayout && cy.elements().length > 0 && signature(elements) === currentSignature();
  if (!sameShape) await prepareLayout(state.layout, wantLarge);
  if (sameShape) {
    // Same nodes and edges: refresh the numbers in place and keep the user's positions.
    cy.batch(() => {
      for (const e of elements) {
        const ele = cy.getElementById(e.data.id);
        const { id, source, target, parent, ...rest } = e.data;
        for (const key of Object.keys(ele.data())) {
          if (!(key in e.data)) ele.removeData(key);
        }
        ele.data(rest);
      }
    });
  } else {
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements);
    });
  }
  performance.mark("graph:added");
  applyFilters();
  if (!sameShape) {
    await runLayout(cy, state.layout);
    userMovedView = false;
  }
  performance.mark("graph:laid-out");
  refreshPanel();
  updateTraffic();
  updateCounts();
}

function openPanel(element) {
  const panel = $("graph-panel");
  const wasHidden = panel.hidden;
  showPanel(panel, $("panel-body"), element);
  // The panel takes width from the canvas: Cytoscape must know, or taps land beside their targets. Unless the
  // user has moved the view, the graph is fitted to the new width.
  if (wasHidden === panel.hidden) return;
  cy.resize();
  if (!userMovedView) fitView();
}

function fitView() {
  cy.fit(cy.elements().not(".hidden"), 20);
}

function refreshPanel() {
  const panel = $("graph-panel");
  if (panel.hidden) return;
  const ele = cy.getElementById(panel.dataset.elementId || "");
  openPanel(ele.length ? ele : null);
}

/** Shown by find/hide (class checks only: Cytoscape's visible() on 3,000 edges costs half a second). */
function isShown(ele) {
  if (ele.hasClass("hidden")) return false;
  return ele.isNode() || (!ele.source().hasClass("hidden") && !ele.target().hasClass("hidden"));
}

function updateCounts() {
  const nodes = cy.nodes().filter((n) => !n.isParent() && isShown(n)).length;
  const edges = cy.edges().filter(isShown).length;
  $("graph-counts").textContent = interpolate(gettext("%(nodes)s nodes · %(edges)s edges"), { nodes, edges });
  $("graph-empty").hidden = cy.nodes().length > 0;
  const notes = [];
  if (large && state.layout === "dagre") notes.push("large graph: fast layered layout per namespace instead of dagre");
  if (large && state.layout === "cose") notes.push("the force-directed layout takes a second or two on a graph this large");
  if (state.traffic && traffic && !traffic.enabled && edges > MAX_EDGES) notes.push(`animation off above ${MAX_EDGES} edges`);
  if (state.traffic && graph?.snapshot?.stale) notes.push("animation paused: the data is stale");
  $("graph-note").textContent = notes.join(" · ");
}

function updateTraffic() {
  if (!traffic) return;
  // Moving dots would say traffic flows now; stale data cannot say that.
  if (state.traffic && !graph?.snapshot?.stale && traffic.rebuild(isShown)) traffic.start();
  else traffic.stop();
}

// --- Find and hide ---------------------------------------------------------------------------------------------

function compile(text, which) {
  try {
    return { predicate: compileExpression(text), error: "" };
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return { predicate: null, error: `${which}: ${error.message}` };
  }
}

function applyFilters() {
  const find = compile(state.find, "Find");
  const hide = compile(state.hide, "Hide");
  $("ctl-find").setAttribute("aria-invalid", String(Boolean(find.error)));
  $("ctl-hide").setAttribute("aria-invalid", String(Boolean(hide.error)));
  $("expr-error").textContent = [find.error, hide.error].filter(Boolean).join(" · ");
  cy.batch(() => {
    cy.elements().removeClass("hidden found faded");
    if (hide.predicate) {
      cy.elements().forEach((ele) => {
        if (hide.predicate(ele.data(), ele.isNode())) ele.addClass("hidden");
      });
      // A box whose members are all hidden goes too (innermost boxes first).
      const boxes = cy.nodes().filter((n) => n.isParent());
      const depth = (n) => n.ancestors().length;
      boxes.sort((a, b) => depth(b) - depth(a)).forEach((box) => {
        if (box.children().every((c) => c.hasClass("hidden"))) box.addClass("hidden");
      });
    }
    if (find.predicate) {
      const found = cy.elements().filter((ele) => !ele.hasClass("hidden") && find.predicate(ele.data(), ele.isNode()));
      found.addClass("found");
      cy.elements().not(found).filter((ele) => !ele.isParent()).addClass("faded");
    }
  });
}

// --- Loading and polling ---------------------------------------------------------------------------------------

function showBanner(text) {
  const banner = $("graph-banner");
  banner.textContent = text;
  banner.hidden = !text;
}

function renderSnapshot() {
  const snap = graph.snapshot;
  const label = $("graph-snapshot");
  if (!snap) {
    label.textContent = graph.warning || gettext("No snapshot yet");
    delete root.dataset.snapshotId;
    showBanner("");
    return;
  }
  root.dataset.snapshotId = String(snap.id);
  root.dataset.snapshotTakenAt = snap.takenAt;
  const taken = new Date(snap.takenAt);
  const mode = state.at ? gettext("Replaying snapshot") : gettext("Snapshot");
  const age = state.at ? "" : ` · ${interpolate(gettext("%(age)s old"), { age: formatAge(snap.ageSeconds) })}`;
  const built = snap.onDemand
    ? ` · ${interpolate(gettext("built on demand for %(time)s"), { time: new Date(snap.queryTime).toLocaleString() })}`
    : "";
  label.textContent = `${mode} #${snap.id} · ${taken.toLocaleString()}${age} · ${snap.source}${built}`;
  const ageText = formatAge(snap.ageSeconds);
  if (snap.stale && snap.sourceError) {
    showBanner(`Stale data: the metrics source is failing (${snap.sourceError}); this snapshot is ${ageText} old.`);
  } else if (snap.stale) {
    showBanner(`Stale data: the newest snapshot is ${ageText} old; new snapshots are not arriving.`);
  } else {
    showBanner("");
  }
}

function formatAge(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The hide expression the API can apply itself (the payload then shrinks), else "" (applied here only). */
function serverHide(view) {
  return isServerEvaluable(view.hide) ? view.hide.trim() : "";
}

async function fetchGraph() {
  const params = new URLSearchParams(graphApiQuery(state));
  const hide = serverHide(state);
  if (hide) params.set("hide", hide);
  const url = (state.node && nodeGraphUrl(root.dataset.apiRoot, state.node)) || root.dataset.apiGraph;
  const response = await fetch(`${url}?${params}`, {
    headers: { Accept: "application/json" },
  });
  return { response, text: await response.text() };
}

async function load({ relayout = false, prefetched = null } = {}) {
  const sequence = ++loadSequence;
  setReady(false);
  let response;
  let text;
  try {
    ({ response, text } = await (prefetched || fetchGraph()));
  } catch (error) {
    if (sequence === loadSequence) {
      showBanner("Cannot reach mesh-ui; retrying.");
      setReady(true);
    }
    return;
  }
  if (sequence !== loadSequence) return;
  let body;
  try {
    body = JSON.parse(text);
  } catch (error) {
    body = { error: `unexpected answer (HTTP ${response.status})` };
  }
  if (response.status === 202 && body.build) {
    // Built on demand (a window or moment no snapshot holds): follow the build, then load again.
    if (await followBuild(body.build, sequence)) await load({ relayout });
    return;
  }
  showBuilding(null);
  if (!response.ok) {
    showBanner(`The graph could not be loaded: ${body.error || response.status}`);
    setReady(true);
    return;
  }
  performance.mark("graph:fetched");
  rawJson = text;
  graph = body;
  renderSnapshot();
  await draw(relayout);
  if (sequence === loadSequence) setReady(true);
}

/** Shows what an on-demand build is doing ("" / null hides it). */
function showBuilding(build) {
  const box = $("graph-building");
  if (!box) return;
  box.hidden = !build;
  document.body.dataset.graphBuilding = String(Boolean(build));
  if (!build) return;
  const span = build.window % 60 === 0 ? `${build.window / 60} min` : `${build.window} s`;
  const moment = new Date(build.queryTime).toLocaleString();
  box.textContent = `Building the graph of ${span} at ${moment} on demand… ${Math.round(build.elapsedSeconds)} s (times out after ${Math.round(build.timeoutSeconds)} s)`;
}

/** Polls an on-demand build until it is complete (true) or failed, or another load took over (false). */
async function followBuild(build, sequence) {
  let current = build;
  while (sequence === loadSequence) {
    showBuilding(current);
    if (current.status === "complete") return true;
    if (current.status === "failed") {
      showBuilding(null);
      showBanner(`The graph built on demand failed: ${current.error || "unknown error"}`);
      setReady(true);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      const response = await fetch(current.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) current = await response.json();
    } catch (error) {
      // a hiccup: ask again in a second
    }
  }
  return false;
}

async function loadSnapshots() {
  const params = new URLSearchParams();
  if (state.cluster) params.set("cluster", state.cluster);
  if (state.at) {
    // Show the hour around the replayed moment.
    const at = new Date(state.at);
    if (!Number.isNaN(at.getTime())) {
      params.set("since", new Date(at.getTime() - 3600e3).toISOString());
      params.set("until", new Date(Math.max(Date.now(), at.getTime() + 60e3)).toISOString());
    }
  }
  try {
    const response = await fetch(`${root.dataset.apiSnapshots}?${params}`);
    if (!response.ok) return;
    snapshots = (await response.json()).snapshots || [];
  } catch (error) {
    return;
  }
  const slider = $("ctl-replay");
  slider.max = String(Math.max(0, snapshots.length - 1));
  slider.disabled = snapshots.length < 2;
  slider.value = String(replayIndex());
  updateReplayLabel();
}

function replayIndex() {
  if (!state.at || snapshots.length === 0) return Math.max(0, snapshots.length - 1);
  const target = new Date(state.at).getTime();
  let best = snapshots.length - 1;
  snapshots.forEach((s, i) => {
    if (new Date(s.takenAt).getTime() <= target) best = i;
  });
  return best;
}

function updateReplayLabel() {
  const slider = $("ctl-replay");
  const snap = snapshots[Number(slider.value)];
  $("replay-time").textContent = state.at && snap ? new Date(snap.takenAt).toLocaleTimeString() : gettext("live");
  $("btn-live").disabled = !state.at;
}

function schedule() {
  clearTimeout(pollTimer);
  const seconds = Number(state.refresh);
  if (state.at || state.queryTime || !seconds || document.visibilityState !== "visible") return;
  pollTimer = setTimeout(async () => {
    await Promise.all([load(), loadSnapshots()]);
    schedule();
  }, seconds * 1000);
}

document.addEventListener("visibilitychange", async () => {
  // Hidden tabs do not poll; coming back refreshes at once.
  if (document.visibilityState === "visible" && !state.at && Number(state.refresh)) {
    await load();
  }
  schedule();
});

// --- Toolbar ---------------------------------------------------------------------------------------------------

function writeControls() {
  for (const box of form.querySelectorAll('input[name="namespaces"]')) box.checked = state.namespaces.includes(box.value);
  for (const name of SELECTS) {
    const control = form.elements[name];
    if (!control || !state[name]) continue;
    if (![...control.options].some((o) => o.value === state[name])) control.add(new Option(state[name], state[name]));
    control.value = state[name];
  }
  if (!state.duration) state.duration = form.elements.duration.value;
  $("ctl-idle").checked = state.idle;
  if ($("ctl-services")) $("ctl-services").checked = state.services;
  if ($("ctl-queryTime")) $("ctl-queryTime").value = localInputValue(state.queryTime);
  $("ctl-traffic").checked = state.traffic;
  $("ctl-find").value = state.find;
  $("ctl-hide").value = state.hide;
  updateNamespaceSummary();
}

function readControls() {
  const next = { ...state };
  next.namespaces = [...form.querySelectorAll('input[name="namespaces"]:checked')].map((b) => b.value);
  for (const name of SELECTS) {
    if (form.elements[name]) next[name] = form.elements[name].value;
  }
  next.idle = $("ctl-idle").checked;
  if ($("ctl-services")) next.services = $("ctl-services").checked;
  const moment = $("ctl-queryTime")?.value || "";
  // The control shows minutes in local time: keep the state's own value while the control still shows it.
  if (moment !== localInputValue(state.queryTime)) next.queryTime = moment ? new Date(moment).toISOString() : "";
  next.traffic = $("ctl-traffic").checked;
  next.find = $("ctl-find").value.trim();
  next.hide = $("ctl-hide").value.trim();
  return next;
}

/** A moment (ISO) as a datetime-local control's value, in local time to the minute. */
function localInputValue(iso) {
  const moment = iso ? new Date(iso) : null;
  if (!moment || Number.isNaN(moment.getTime())) return "";
  const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60e3);
  return local.toISOString().slice(0, 16);
}

function updateNamespaceSummary() {
  $("ns-summary").textContent = state.namespaces.length
    ? interpolate(gettext("Namespaces: %(names)s"), { names: state.namespaces.join(", ") })
    : gettext("Namespaces: all");
}

async function onControlsChanged() {
  const previous = state;
  state = readControls();
  saveState(state, defaults);
  updateNamespaceSummary();
  const changed = (key) => JSON.stringify(previous[key]) !== JSON.stringify(state[key]);
  // A hide expression the server applies changes what it sends; applyFilters() still runs on every draw.
  if (RELOAD_KEYS.some(changed) || serverHide(previous) !== serverHide(state)) {
    await load({ relayout: true });
  } else if (changed("layout")) {
    setReady(false);
    await prepareLayout(state.layout, large);
    await runLayout(cy, state.layout);
    userMovedView = false;
    updateCounts();
    setReady(true);
  } else if (changed("find") || changed("hide")) {
    applyFilters();
    if (changed("hide")) {
      await runLayout(cy, state.layout);
      userMovedView = false;
    }
    updateTraffic();
    updateCounts();
  } else if (changed("rtStat")) {
    setReady(false);
    await draw(false); // the same elements with the other statistic's numbers
    setReady(true);
  } else if (changed("edgeLabels")) {
    cy.batch(() => cy.edges().forEach((e) => e.data("label", edgeLabel(e.data(), state.edgeLabels, large))));
  } else if (changed("traffic")) {
    updateTraffic();
    updateCounts();
  }
  if (changed("refresh") || changed("at") || changed("queryTime")) schedule();
}

form.addEventListener("change", (event) => {
  if (event.target.id === "ctl-replay") return;
  onControlsChanged();
});
for (const id of ["ctl-find", "ctl-hide"]) {
  $(id).addEventListener("input", () => {
    clearTimeout(exprTimer);
    exprTimer = setTimeout(onControlsChanged, 400);
  });
  $(id).addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(exprTimer);
      onControlsChanged();
    }
  });
}

$("ctl-replay").addEventListener("input", () => {
  const snap = snapshots[Number($("ctl-replay").value)];
  if (snap) $("replay-time").textContent = new Date(snap.takenAt).toLocaleTimeString();
});
$("ctl-replay").addEventListener("change", async () => {
  const snap = snapshots[Number($("ctl-replay").value)];
  if (!snap) return;
  state = { ...state, at: snap.takenAt };
  saveState(state, defaults);
  schedule();
  updateReplayLabel();
  await load();
});
$("btn-live").addEventListener("click", async () => {
  state = { ...state, at: "" };
  saveState(state, defaults);
  await Promise.all([load(), loadSnapshots()]);
  schedule();
});
$("btn-fit").addEventListener("click", () => {
  fitView();
  userMovedView = false;
});
$("panel-close").addEventListener("click", () => openPanel(null));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !$("graph-panel").hidden) openPanel(null);
});
for (const button of form.querySelectorAll("[data-export]")) {
  button.addEventListener("click", () => {
    const snap = graph?.snapshot;
    const stamp = snap ? snap.takenAt.replace(/[^0-9T]/g, "").slice(0, 15) : "empty";
    const run = () =>
      exportGraph(button.dataset.export, cy, rawJson, {
        svgScript: root.dataset.svgScript,
        baseName: `mesh-graph-${state.graphType}-${stamp}`,
      });
    (button.dataset.export === "svg" ? withoutBadges(cy, run) : run()).catch((error) => showBanner(error.message));
  });
}

// --- Node graphs ---------------------------------------------------------------------------------------------

function renderBreadcrumb() {
  const nav = $("graph-breadcrumb");
  if (!nav) return;
  const list = $("graph-crumbs");
  list.replaceChildren();
  nav.hidden = !state.node;
  if (!state.node) return;
  const crumb = (text, index) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link-button";
    button.textContent = text;
    button.dataset.crumb = String(index);
    button.addEventListener("click", () => goBack(index));
    item.appendChild(button);
    return item;
  };
  list.appendChild(crumb("Full graph", -1));
  trail.forEach((ref, index) => list.appendChild(crumb(nodeRefLabel(ref), index)));
  const current = document.createElement("li");
  current.textContent = nodeRefLabel(state.node);
  current.setAttribute("aria-current", "page");
  list.appendChild(current);
}

async function showNodeGraph(ref, nextTrail) {
  trail = nextTrail;
  state = { ...state, node: ref };
  saveState(state, defaults);
  renderBreadcrumb();
  openPanel(null);
  await load({ relayout: true });
}

/** Drill into a node's graph (Kiali's double-click), from the full graph or from another node graph. */
async function drillInto(element) {
  if (!element || !element.isNode() || element.isParent()) return;
  const ref = nodeRefOf(element.data(), graph?.graphType || state.graphType);
  if (!ref || ref === state.node) return;
  await showNodeGraph(ref, state.node ? [...trail, state.node] : []);
}

async function goBack(index) {
  await showNodeGraph(index < 0 ? "" : trail[index], index < 0 ? [] : trail.slice(0, index));
}

document.addEventListener("mesh-ui:node-graph", (event) => {
  const id = event.detail?.nodeId;
  if (cy && id) drillInto(cy.getElementById(String(id)));
});

// --- Start -----------------------------------------------------------------------------------------------------

function librariesLoaded() {
  // Deferred classic scripts run before DOMContentLoaded; this module is async and may run earlier.
  if (window.cytoscape) return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

writeControls();
saveState(state, defaults);
renderBreadcrumb();
setDagreScripts((root.dataset.dagreScripts || "").split(" ").filter(Boolean));
setFcoseScripts((root.dataset.fcoseScripts || "").split(" ").filter(Boolean));
const firstGraph = fetchGraph();
firstGraph.catch(() => {}); // load() reports the failure
await librariesLoaded();
createCy(false);
Promise.all([load({ relayout: true, prefetched: firstGraph }), loadSnapshots()]).then(schedule);
