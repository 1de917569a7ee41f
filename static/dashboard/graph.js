// The service graph page: reads the view from the query string, fetches /api/v1/graph, draws it with Cytoscape,
// and keeps polling (fast while the tab is visible, not at all while it is hidden or replaying).
//
// Its parts, each a module of its own: the view state in the query string (graph-state.js) and the toolbar that
// edits it (graph-toolbar.js), find and hide (graph-filters.js), the snapshot line, banner and on-demand builds
// (graph-status.js), the replay slider (graph-replay.js), polling (graph-polling.js), the node-graph breadcrumb
// (graph-breadcrumb.js), the keyboard (graph-keyboard.js); this module holds the state and draws.
//
// A hide expression made of terms the server evaluates (label:, name, node, healthy, idle) is sent as hide= so a
// large mesh sends only what is shown; it is applied here too, as every other expression.
//
// Tests and the benchmark read window.cy, and window.graphReady (true once the graph is drawn and laid out; a
// "graph:ready" event fires on document each time).
//
// Node graphs (Kiali's): double-clicking a node (Shift+Enter or "d" on the keyboard's node), or a "mesh-ui:node-graph" event on document with
// detail {nodeId}, shows the graph of that node (URL state node=kind:namespace:name[:version]); the breadcrumb
// leads back.

import { badgeList, badgeStyle, withoutBadges } from "./graph-badges.js";
import { renderBreadcrumb } from "./graph-breadcrumb.js";
import { buildElements, edgeLabel } from "./graph-data.js";
import { exportGraph } from "./graph-export.js";
import { applyFilters, isShown, serverHide } from "./graph-filters.js";
import { bindInteractions } from "./graph-interact.js";
import { GraphKeyboard, keyboardFocusStyle } from "./graph-keyboard.js";
import { isLargeGraph, prepareLayout, runLayout, setDagreScripts, setFcoseScripts } from "./graph-layout.js";
import { focusStyle, nodeGraphUrl, nodeRefOf, parseNodeRef } from "./graph-node.js";
import { setBadgeList, setDetailUrls, showPanel } from "./graph-panel.js";
import { createPolling } from "./graph-polling.js";
import { loadReplaySnapshots, sliderSnapshot, updateReplayLabel } from "./graph-replay.js";
import { graphApiQuery, readState, saveState } from "./graph-state.js";
import { followBuild, renderSnapshot, showBanner, showBuilding } from "./graph-status.js";
import { buildStyle } from "./graph-style.js";
import { readControls, toolbarChoices, updateNamespaceSummary, writeControls } from "./graph-toolbar.js";
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
const badgeBase = root.dataset.badgeBase || "";
setBadgeList((d) => badgeList(d, badgeBase));

let state = readState(location.search, defaults, toolbarChoices(form));
if (state.node && !parseNodeRef(state.node)) state.node = "";
// The node graphs drilled through to reach the current one (the breadcrumb), oldest first.
let trail = [];
let cy = null;
let large = false;
let traffic = null;
let rawJson = "";
let graph = null;
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
    style: [...buildStyle({ large }), ...badgeStyle(), ...focusStyle(), ...keyboardFocusStyle()],
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
  keyboard.attach(cy);
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
  applyFilters(cy, state);
  if (!sameShape) {
    await runLayout(cy, state.layout);
    userMovedView = false;
  }
  performance.mark("graph:laid-out");
  refreshPanel();
  updateTraffic();
  updateCounts();
  keyboard.refresh();
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

// --- Loading and polling ---------------------------------------------------------------------------------------

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

function loadSnapshots() {
  return loadReplaySnapshots(root.dataset.apiSnapshots, () => state);
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
    if (await followBuild(body.build, () => sequence === loadSequence)) await load({ relayout });
    else if (sequence === loadSequence) setReady(true); // the build failed: the banner says why
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
  renderSnapshot(root, graph, Boolean(state.at));
  await draw(relayout);
  if (sequence === loadSequence) setReady(true);
}

const schedule = createPolling(
  () => state,
  () => Promise.all([load(), loadSnapshots()]),
  () => load(),
);

// --- Toolbar ---------------------------------------------------------------------------------------------------

async function onControlsChanged() {
  const previous = state;
  state = readControls(form, state);
  saveState(state, defaults);
  updateNamespaceSummary(state.namespaces);
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
    applyFilters(cy, state);
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
  const snap = sliderSnapshot();
  if (snap) $("replay-time").textContent = new Date(snap.takenAt).toLocaleTimeString();
});
$("ctl-replay").addEventListener("change", async () => {
  const snap = sliderSnapshot();
  if (!snap) return;
  state = { ...state, at: snap.takenAt };
  saveState(state, defaults);
  schedule();
  updateReplayLabel(state.at);
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

async function showNodeGraph(ref, nextTrail) {
  trail = nextTrail;
  state = { ...state, node: ref };
  saveState(state, defaults);
  renderBreadcrumb(state.node, trail, goBack);
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

// The keyboard way through the graph (graph-keyboard.js): the same actions as the mouse's.
const keyboard = new GraphKeyboard($("graph-cy"), $("graph-announce"), $("graph-keys"), {
  cy: () => cy,
  openPanel,
  drillInto,
  goBack: () => goBack(trail.length - 1),
  canGoBack: () => Boolean(state.node),
});

// --- Start -----------------------------------------------------------------------------------------------------

function librariesLoaded() {
  // Deferred classic scripts run before DOMContentLoaded; this module is async and may run earlier.
  if (window.cytoscape) return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

writeControls(form, state);
saveState(state, defaults);
renderBreadcrumb(state.node, trail, goBack);
setDagreScripts((root.dataset.dagreScripts || "").split(" ").filter(Boolean));
setFcoseScripts((root.dataset.fcoseScripts || "").split(" ").filter(Boolean));
const firstGraph = fetchGraph();
firstGraph.catch(() => {}); // load() reports the failure
await librariesLoaded();
createCy(false);
Promise.all([load({ relayout: true, prefetched: firstGraph }), loadSnapshots()]).then(schedule);
