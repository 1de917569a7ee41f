// The detail page's mini-graph: the node and its direct neighbours, read-only, drawn with Cytoscape.
// Elements come from a json_script block; Cytoscape draws labels on a canvas, so nothing reaches the DOM as HTML.
//
// The layout is computed here, not left to a generic one: callers in a column on the left, the node in the middle,
// what it calls in a column on the right, rows far enough apart for a node and its label and columns far enough
// apart for the widest node label and edge label, so no two labels overlap. Edge labels stay horizontal.
// Tests read the instance as `container.cy` (and window.miniCy).
const HEALTH_COLORS = { Healthy: "#2e7d32", Degraded: "#b26a00", Failure: "#c62828" };
const SHAPES = { service: "triangle", app: "round-rectangle", workload: "ellipse", unknown: "diamond" };
const FONT = "Helvetica Neue, Helvetica, sans-serif";
const NODE_FONT = 10;
const EDGE_FONT = 8;
const ROW = 48; // node (18-24) + label line (13) + a gap

function textWidth(text, size, weight = "normal") {
  const ctx = (textWidth.canvas ||= document.createElement("canvas")).getContext("2d");
  ctx.font = `${weight} ${size}px ${FONT}`;
  return ctx.measureText(text || "").width;
}

/**
 * Positions for the mini-graph's elements: {id: {x, y}}. A neighbour that both calls and is called by the node
 * stays on the callers' side.
 */
export function miniGraphPositions(elements) {
  const center = elements.nodes.find((n) => n.data.center)?.data.id;
  const callers = [];
  const callees = [];
  for (const { data } of elements.edges) {
    if (data.target === center && !callers.includes(data.source)) callers.push(data.source);
  }
  for (const { data } of elements.edges) {
    if (data.source === center && !callers.includes(data.target) && !callees.includes(data.target)) callees.push(data.target);
  }
  const labelOf = new Map(elements.nodes.map((n) => [n.data.id, n.data.label || ""]));
  const widest = Math.max(...elements.nodes.map((n) => textWidth(labelOf.get(n.data.id), NODE_FONT, n.data.center ? "bold" : "normal")));
  const edgeWidest = Math.max(0, ...elements.edges.map((e) => textWidth(e.data.label, EDGE_FONT)));
  // Half a column gap holds half a node label, an edge label and half the next node label, with air around.
  const gap = widest + edgeWidest + 40;
  const positions = { [center]: { x: 0, y: 0 } };
  const column = (ids, x) => ids.forEach((id, i) => (positions[id] = { x, y: (i - (ids.length - 1) / 2) * ROW }));
  column(callers, -gap);
  column(callees, gap);
  return positions;
}

export function drawMiniGraph(container, dataElement) {
  if (!container || !dataElement || !window.cytoscape) return null;
  const elements = JSON.parse(dataElement.textContent);
  if (elements.edges.length === 0) {
    container.classList.add("empty");
    container.textContent = "No traffic to or from it in the latest snapshot.";
    return null;
  }
  const positions = miniGraphPositions(elements);
  const cy = window.cytoscape({
    container,
    elements,
    userZoomingEnabled: false,
    userPanningEnabled: false,
    boxSelectionEnabled: false,
    autoungrabify: true,
    maxZoom: 1.3,
    layout: { name: "preset", positions: (node) => positions[node.id()] || { x: 0, y: 0 }, padding: 12 },
    style: [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "font-family": FONT,
          "font-size": NODE_FONT,
          "text-valign": "bottom",
          "text-margin-y": 3,
          width: 18,
          height: 18,
          "background-color": "#90a4ae",
        },
      },
      { selector: "node[kind]", style: { shape: (node) => SHAPES[node.data("kind")] || "ellipse" } },
      { selector: "node[?center]", style: { "background-color": "#1565c0", width: 24, height: 24, "font-weight": "bold" } },
      { selector: "node[url]", style: { cursor: "pointer" } },
      {
        selector: "edge",
        style: {
          width: 1.5,
          "curve-style": "bezier",
          "control-point-step-size": 28,
          "target-arrow-shape": "triangle",
          label: "data(label)",
          "font-family": FONT,
          "font-size": EDGE_FONT,
          "text-background-color": "#fff",
          "text-background-opacity": 0.9,
          "text-background-padding": 1,
          "line-color": "#90a4ae",
          "target-arrow-color": "#90a4ae",
        },
      },
      ...Object.entries(HEALTH_COLORS).map(([status, color]) => ({ selector: `edge[health = "${status}"]`, style: { "line-color": color, "target-arrow-color": color } })),
    ],
  });
  cy.on("tap", "node", (event) => {
    const url = event.target.data("url");
    if (url) window.location.assign(url);
  });
  container.cy = cy;
  window.miniCy = cy;
  return cy;
}
