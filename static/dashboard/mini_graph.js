// The detail page's mini-graph: the node and its direct neighbours, read-only, drawn with Cytoscape.
// Elements come from a json_script block; Cytoscape draws labels on a canvas, so nothing reaches the DOM as HTML.
const HEALTH_COLORS = { Healthy: "#2e7d32", Degraded: "#b26a00", Failure: "#c62828" };
const SHAPES = { service: "triangle", app: "round-rectangle", workload: "ellipse", unknown: "diamond" };

export function drawMiniGraph(container, dataElement) {
  if (!container || !dataElement || !window.cytoscape) return null;
  const elements = JSON.parse(dataElement.textContent);
  if (elements.edges.length === 0) {
    container.classList.add("empty");
    container.textContent = "No traffic to or from it in the latest snapshot.";
    return null;
  }
  const cy = window.cytoscape({
    container,
    elements,
    userZoomingEnabled: false,
    userPanningEnabled: false,
    boxSelectionEnabled: false,
    autoungrabify: true,
    maxZoom: 1.3,
    layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1, padding: 10 },
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18, "background-color": "#90a4ae" } },
      { selector: "node[kind]", style: { shape: (node) => SHAPES[node.data("kind")] || "ellipse" } },
      { selector: "node[?center]", style: { "background-color": "#1565c0", width: 24, height: 24, "font-weight": "bold" } },
      { selector: "node[url]", style: { cursor: "pointer" } },
      { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", label: "data(label)", "font-size": 8, "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8, "line-color": "#90a4ae", "target-arrow-color": "#90a4ae" } },
      ...Object.entries(HEALTH_COLORS).map(([status, color]) => ({ selector: `edge[health = "${status}"]`, style: { "line-color": color, "target-arrow-color": color } })),
    ],
  });
  cy.on("tap", "node", (event) => {
    const url = event.target.data("url");
    if (url) window.location.assign(url);
  });
  return cy;
}
