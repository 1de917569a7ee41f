// Layouts. Dagre gives the clearest mesh picture but is super-linear: at 1,000 nodes / 3,000 edges it runs for
// minutes, and even per namespace it needs ~65 ms for 10 nodes with 24 cyclic edges. Above LARGE_NODES /
// LARGE_EDGES, "dagre" becomes a linear-time layered layout per namespace, namespaces packed on a grid.
// dagre and cytoscape-dagre are loaded the first time a small graph needs them. The force-directed choice ("cose"
// in URLs) runs fCoSE (cytoscape-fcose): a spectral first draft refined by CoSE, seconds faster than Cytoscape's
// own cose on a thousand nodes and aware of the compound boxes; its scripts load on first use too.

import { loadScripts } from "./graph-scripts.js";

export const LARGE_NODES = 300;
export const LARGE_EDGES = 900;

const OPTIONS = {
  dagre: { name: "dagre", rankDir: "LR", nodeSep: 24, rankSep: 70, edgeSep: 10, nodeDimensionsIncludeLabels: true },
  cose: {
    name: "fcose",
    quality: "default",
    randomize: true,
    nodeDimensionsIncludeLabels: true,
    idealEdgeLength: 80,
    nodeRepulsion: 8000,
    nestingFactor: 0.1,
    tile: true,
  },
  breadthfirst: { name: "breadthfirst", directed: true, spacingFactor: 1.1, nodeDimensionsIncludeLabels: true },
  concentric: {
    name: "concentric",
    minNodeSpacing: 24,
    concentric: (node) => node.degree(),
    levelWidth: () => 2,
    nodeDimensionsIncludeLabels: true,
  },
};

export function isLarge(cy) {
  return cy.nodes().length > LARGE_NODES || cy.edges().length > LARGE_EDGES;
}

/** The same test on an API answer, before anything is drawn. */
export function isLargeGraph(graph) {
  const elements = graph.elements || {};
  return (elements.nodes || []).length > LARGE_NODES || (elements.edges || []).length > LARGE_EDGES;
}

function groupKey(node) {
  return `${node.data("cluster") || ""}/${node.data("namespace") || ""}`;
}

/**
 * A layered layout in O(nodes + edges), the idea of dagre without its costly ranking and crossing reduction:
 * back edges found by a depth-first search are ignored, each node's layer is its distance from a root, and
 * nodes in a layer are ordered by the mean position of their callers (one sweep).
 */
function layeredGroup(members, memberIds) {
  const outgoing = new Map(members.map((n) => [n.id(), []]));
  for (const n of members) {
    n.outgoers("edge").forEach((e) => {
      const target = e.target().id();
      if (memberIds.has(target) && target !== n.id()) outgoing.get(n.id()).push(target);
    });
  }
  // Depth-first search: post-order gives a topological order of the graph without its back edges.
  const state = new Map();
  const order = [];
  const forward = new Map(members.map((n) => [n.id(), []]));
  for (const start of members.map((n) => n.id())) {
    if (state.has(start)) continue;
    const stack = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = outgoing.get(top[0])[top[1]++];
      if (next === undefined) {
        state.set(top[0], 2);
        order.push(top[0]);
        stack.pop();
      } else if (!state.has(next)) {
        forward.get(top[0]).push(next);
        state.set(next, 1);
        stack.push([next, 0]);
      } else if (state.get(next) === 2) {
        forward.get(top[0]).push(next);
      }
    }
  }
  // Layer = distance from the nearest root (breadth-first): shallower and squarer than dagre's longest path on
  // dense meshes, which matters when a hundred namespaces share the screen.
  const callers = new Map();
  for (const id of order) {
    for (const next of forward.get(id)) {
      if (!callers.has(next)) callers.set(next, []);
      callers.get(next).push(id);
    }
  }
  const layer = new Map();
  const queue = order.filter((id) => !callers.has(id));
  for (const id of queue) layer.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    for (const next of forward.get(queue[i])) {
      if (!layer.has(next)) {
        layer.set(next, layer.get(queue[i]) + 1);
        queue.push(next);
      }
    }
  }
  const layers = [];
  for (const id of queue) {
    const l = layer.get(id);
    (layers[l] ||= []).push(id);
  }
  const row = new Map();
  const byId = new Map(members.map((n) => [n.id(), n]));
  layers.forEach((ids) => {
    const weight = (id) => {
      const from = (callers.get(id) || []).filter((c) => row.has(c));
      return from.length ? from.reduce((sum, c) => sum + row.get(c), 0) / from.length : 0;
    };
    const app = (id) => byId.get(id).data("app") || "";
    ids.sort((a, b) => weight(a) - weight(b) || app(a).localeCompare(app(b)));
    ids.forEach((id, i) => row.set(id, i));
  });
  const positions = new Map();
  for (const [id, l] of layer) positions.set(id, { x: l * 140, y: row.get(id) * 70 });
  const tallest = Math.max(...layers.map((ids) => ids.length));
  return { positions, width: (layers.length - 1) * 140, height: (tallest - 1) * 70 };
}

/**
 * Shelf packing: blocks ({width, height}, tallest first) in rows about `aspect` times as wide as the whole is tall,
 * `gapX` / `gapY` apart. Returns each block's top-left corner, in the blocks' order.
 */
function shelfPack(blocks, gapX, gapY, aspect) {
  const area = blocks.reduce((sum, b) => sum + (b.width + gapX) * (b.height + gapY), 0);
  const rowWidth = Math.max(blocks[0]?.width || 0, Math.sqrt(area * aspect));
  const offsets = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const b of blocks) {
    if (x > 0 && x + b.width > rowWidth) {
      x = 0;
      y += rowHeight + gapY;
      rowHeight = 0;
    }
    offsets.push({ x, y });
    x += b.width + gapX;
    rowHeight = Math.max(rowHeight, b.height);
  }
  return offsets;
}

/** A layered layout per namespace, groups packed in rows (shelf packing) to about the viewport's aspect ratio. */
function groupedLayers(cy, nodes) {
  const groups = new Map();
  nodes.forEach((n) => {
    if (n.isParent()) return;
    const key = groupKey(n);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(n);
  });
  const results = [...groups.values()]
    .map((members) => layeredGroup(members, new Set(members.map((n) => n.id()))))
    .sort((a, b) => b.height - a.height);
  // Gaps leave room for labels and the compound boxes' padding.
  const offsets = shelfPack(results, 140, 110, cy.width() / Math.max(cy.height(), 1));
  const placed = new Map();
  results.forEach((r, i) => {
    for (const [id, p] of r.positions) placed.set(id, { x: offsets[i].x + p.x, y: offsets[i].y + p.y });
  });
  cy.batch(() => {
    cy.nodes().forEach((n) => {
      if (!n.isParent() && placed.has(n.id())) n.position(placed.get(n.id()));
    });
  });
  cy.fit(nodes, 20);
}

function runOne(eles, options) {
  return new Promise((resolve) => {
    const layout = eles.layout(options);
    layout.one("layoutstop", () => resolve());
    layout.run();
  });
}

/**
 * The concentric layout with boxes: Cytoscape's concentric places every node on one set of rings, so a box's
 * members end up among another box's and the boxes overlap (istio-system inside bookinfo). Here each box is laid
 * out on its own, inside out: its loose nodes on concentric rings, then its inner boxes and that ring block
 * packed in rows; the top level is packed the same way. Boxes are blocks that never share space.
 */
async function concentricBoxes(cy, eles) {
  const shown = (nodes) => nodes.filter((n) => eles.contains(n));
  const leavesOf = (node) => (node.isParent() ? node.descendants().filter((d) => !d.isParent()) : node);
  const aspect = cy.width() / Math.max(cy.height(), 1);
  async function layoutMembers(members) {
    const blocks = [];
    for (const box of members.filter((n) => n.isParent())) {
      await layoutMembers(shown(box.children()));
      blocks.push({ nodes: shown(leavesOf(box)), bb: box.boundingBox({ includeLabels: true }) });
    }
    const loose = members.filter((n) => !n.isParent());
    if (loose.length) {
      await runOne(loose, { ...OPTIONS.concentric, fit: false, animate: false, boundingBox: { x1: 0, y1: 0, w: 1, h: 1 } });
      blocks.push({ nodes: loose, bb: loose.boundingBox({ includeLabels: true }) });
    }
    const sized = blocks.map((b) => ({ ...b, width: b.bb.w, height: b.bb.h })).sort((a, b) => b.height - a.height);
    const offsets = shelfPack(sized, 40, 40, aspect);
    cy.batch(() => {
      sized.forEach((b, i) => {
        const dx = offsets[i].x - b.bb.x1;
        const dy = offsets[i].y - b.bb.y1;
        b.nodes.positions((n) => ({ x: n.position("x") + dx, y: n.position("y") + dy }));
      });
    });
  }
  await layoutMembers(eles.nodes().filter((n) => !n.parent().length || !eles.contains(n.parent())));
  cy.fit(eles, 20);
}

const scripts = { dagre: [], fcose: [] };

/** Where dagre and cytoscape-dagre are served (the template knows the static URLs). */
export function setDagreScripts(sources) {
  scripts.dagre = sources;
}

/** Where layout-base, cose-base and cytoscape-fcose are served, in that order (each needs the one before). */
export function setFcoseScripts(sources) {
  scripts.fcose = sources;
}

/**
 * Loads the scripts a layout needs (none for a large graph's "dagre", which is the layered layout). Call it before
 * adding a new graph's elements: while scripts load the page may paint, and painting thousands of elements that
 * are not laid out yet costs more than the layout.
 */
export async function prepareLayout(name, large) {
  const options = OPTIONS[name] || OPTIONS.dagre;
  if (options.name === "dagre" && !large && !window.cytoscapeDagre) await loadScripts(scripts.dagre);
  if (options.name === "fcose" && !window.cytoscapeFcose) await loadScripts(scripts.fcose);
}

/** Runs a layout over the whole graph; resolves when positions are final. */
export async function runLayout(cy, name) {
  // Hidden elements keep their place; the rest is laid out as if they were gone.
  const eles = cy.elements().not(".hidden");
  if (eles.nodes().length === 0) return;
  if (name === "dagre" && isLarge(cy)) {
    groupedLayers(cy, eles.nodes());
    return;
  }
  if (name === "concentric" && eles.nodes().some((n) => n.isParent())) {
    await concentricBoxes(cy, eles);
    return;
  }
  const options = { ...(OPTIONS[name] || OPTIONS.dagre), fit: true, padding: 20, animate: false };
  await prepareLayout(name, false);
  await runOne(eles, options);
}
