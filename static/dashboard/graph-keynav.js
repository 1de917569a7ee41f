// The pure part of the graph's keyboard navigation (graph-keyboard.js binds it to the page): which node an arrow
// key leads to, the Tab order of the nodes, and the sentence a screen reader hears for a node or an edge.
// Points are plain {id, x, y} in model coordinates (y grows downwards, as on screen).

import { formatBytes, formatRate } from "./graph-data.js";
import { gettext, interpolate } from "./i18n.js";

// A candidate off to the side costs this much more per unit than one straight ahead: the arrow favours the node
// in line with the focused one over a nearer one at a steep angle.
const SIDEWAYS_WEIGHT = 2;

const DIRECTIONS = {
  ArrowRight: [1, 0],
  ArrowLeft: [-1, 0],
  ArrowDown: [0, 1],
  ArrowUp: [0, -1],
};

/** True for the four arrow keys' names (KeyboardEvent.key). */
export function isArrowKey(key) {
  return key in DIRECTIONS;
}

/**
 * The id of the point nearest `from` in the direction of an arrow key, or "" when none lies that way.
 *
 * Only points strictly ahead count (a positive distance along the arrow); among them the score is the distance
 * ahead plus twice the distance sideways, so a node in line wins over a nearer one far to the side.
 */
export function nearestInDirection(points, from, key) {
  const [ux, uy] = DIRECTIONS[key] || [0, 0];
  if (!ux && !uy) return "";
  let best = "";
  let bestScore = Infinity;
  for (const p of points) {
    if (p.id === from.id) continue;
    const dx = p.x - from.x;
    const dy = p.y - from.y;
    const ahead = dx * ux + dy * uy;
    if (ahead <= 0) continue;
    const sideways = Math.abs(dx * uy - dy * ux);
    const score = ahead + SIDEWAYS_WEIGHT * sideways;
    if (score < bestScore) {
      bestScore = score;
      best = p.id;
    }
  }
  return best;
}

/**
 * The ids in reading order: top to bottom, left to right within a row. Points whose y differ by less than
 * `rowHeight` share a row (a layered layout's nodes are never exactly level once labels push them).
 */
export function readingOrder(points, rowHeight = 20) {
  const sorted = [...points].sort((a, b) => a.y - b.y || a.x - b.x);
  const rows = [];
  for (const p of sorted) {
    const row = rows[rows.length - 1];
    if (row && p.y - row[0].y < rowHeight) row.push(p);
    else rows.push([p]);
  }
  return rows.flatMap((row) => row.sort((a, b) => a.x - b.x || a.y - b.y).map((p) => p.id));
}

/** "12.5 rps", "3.0 kB/s" (TCP only) or "no traffic" for a node's or an edge's data. */
export function rateText(d) {
  if (d._rps > 0) return `${formatRate(d._rps)} rps`; // units stay English (docs/dashboard.md, "Language")
  if (d._bytes > 0) return formatBytes(d._bytes);
  return gettext("no traffic");
}

/** The name a screen reader hears for a node: its display name, with the version of a versioned app. */
function spokenName(d) {
  return d.version && d.nodeType === "app" ? `${d._name} ${d.version}` : d._name || d.id;
}

/** What a screen reader hears when a node gets the keyboard focus: name, type, namespace and request rate. */
export function describeNode(d) {
  // Node types are data values (docs/dashboard.md, "Language"): not translated.
  return interpolate(gettext("%(name)s, %(type)s, namespace %(namespace)s, %(rate)s"), {
    name: spokenName(d),
    type: d.nodeType || "",
    namespace: d.namespace || "",
    rate: rateText(d),
  });
}

/** What a screen reader hears for an edge: its ends (data of source and target), protocol and rate. */
export function describeEdge(d, source, target) {
  return interpolate(gettext("Edge from %(source)s to %(target)s, %(protocol)s, %(rate)s"), {
    source: spokenName(source),
    target: spokenName(target),
    protocol: d._protocol || "",
    rate: rateText(d),
  });
}
