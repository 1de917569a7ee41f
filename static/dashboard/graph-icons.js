// Icons on the graph as SVG paths, never emoji (an emoji glyph is a box where no emoji font is installed): the
// mTLS lock beside an edge's label and the config error/warning mark on a node's corner.
//
// Cytoscape draws labels as canvas text and cannot put an image in an edge label, so the lock is drawn just before
// the label, on the edge's line: on the page by an SVG overlay that follows pan and zoom, in PNG and SVG exports by
// drawIcons() / iconsSvg() on the exported picture. Positions come from the label geometry Cytoscape keeps for
// each edge (rstyle: labelX, labelY, labelWidth, labelHeight, labelAngle); edgeLabelBox() is the label and its
// lock as one rotated box, which the traffic animation keeps its dots out of.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Icon paths on a 16 x 16 grid: [path, fill] layers, drawn in order. */
export const ICONS = {
  lock: [
    ["M1 0h14v16H1z", "#ffffff"],
    ["M3 7h10v8H3z M4 7V5a4 4 0 0 1 8 0v2h-1.6V5a2.4 2.4 0 0 0-4.8 0v2z", "#2f3b48"],
  ],
  "config-error": [
    ["M8 1a7 7 0 1 0 0.01 0z", "#c9190b"],
    ["M5.2 4.1 8 6.9l2.8-2.8 1.1 1.1L9.1 8l2.8 2.8-1.1 1.1L8 9.1l-2.8 2.8-1.1-1.1L6.9 8 4.1 5.2z", "#ffffff"],
  ],
  "config-warning": [
    ["M8 .8l7.6 13.9H.4z", "#ec7a08"],
    ["M7.1 5.2h1.8l-.3 5.1H7.4z M7.1 11.3h1.8v1.8H7.1z", "#ffffff"],
  ],
};

const LOCK_SIZE = 9;
const CONFIG_SIZE = 12;

/** Cytoscape's own rule (eleTextBiggerThanMin): a label is drawn when its font, at the zoom's texture level, is
 * at least min-zoomed-font-size. Exports follow the page's zoom too. */
export function textScale(cy) {
  const ratio = cy.renderer().getPixelRatio?.() || window.devicePixelRatio || 1;
  return 2 ** Math.ceil(Math.log2(cy.zoom() * ratio));
}

function edgeLabelShown(edge, scale) {
  return edge.pstyle("font-size").pfValue * scale >= edge.pstyle("min-zoomed-font-size").pfValue;
}

/**
 * An edge's label with its lock as one box in model coordinates, `{x, y, w, h, angle}` (x, y: the centre; w runs
 * along the label), or null when neither is drawn (zoomed out too far, no text and no lock). Without label text
 * the lock sits at the edge's midpoint. Whether the edge is shown at all is the caller's question.
 */
export function edgeLabelBox(edge, scale) {
  if (!edgeLabelShown(edge, scale)) return null;
  const rs = edge._private.rstyle;
  const lock = Boolean(edge.data("_lock"));
  const hasText = Boolean(edge.data("label")) && Number.isFinite(rs.labelX) && rs.labelWidth > 0;
  if (!hasText && !lock) return null;
  const pad = edge.pstyle("text-background-padding").pfValue;
  if (!hasText) {
    const m = edge.midpoint();
    const angle = Number.isFinite(rs.labelAngle) ? rs.labelAngle : 0;
    return { x: m.x, y: m.y, w: LOCK_SIZE, h: LOCK_SIZE, angle, lockAt: 0 };
  }
  const angle = rs.labelAngle || 0;
  const w = rs.labelWidth + 2 * pad;
  const h = Math.max(rs.labelHeight + 2 * pad, lock ? LOCK_SIZE : 0);
  if (!lock) return { x: rs.labelX, y: rs.labelY, w, h, angle, lockAt: null };
  // The lock is prepended: the box grows by its width on the label's left, its centre moves half that way.
  const shift = -LOCK_SIZE / 2;
  return {
    x: rs.labelX + shift * Math.cos(angle),
    y: rs.labelY + shift * Math.sin(angle),
    w: w + LOCK_SIZE,
    h,
    angle,
    lockAt: -(w + LOCK_SIZE) / 2 + LOCK_SIZE / 2,
  };
}

/**
 * Where icons go, in model coordinates: [{kind, x, y, size, angle, opacity}]. Hidden elements get none; a lock goes
 * when its label does (zoomed out below the minimum font size).
 */
export function iconPlacements(cy) {
  const out = [];
  const scale = textScale(cy);
  cy.edges("[?_lock]").forEach((edge) => {
    const box = edge.visible() ? edgeLabelBox(edge, scale) : null;
    if (!box || box.lockAt === null) return;
    out.push({
      kind: "lock",
      x: box.x + box.lockAt * Math.cos(box.angle),
      y: box.y + box.lockAt * Math.sin(box.angle),
      size: LOCK_SIZE,
      angle: box.angle,
      opacity: edge.effectiveOpacity() * edge.pstyle("text-opacity").value,
    });
  });
  cy.nodes(".config-error, .config-warning").forEach((node) => {
    if (!node.visible()) return;
    const p = node.position();
    out.push({
      kind: node.hasClass("config-error") ? "config-error" : "config-warning",
      x: p.x + node.width() / 2,
      y: p.y - node.height() / 2,
      size: CONFIG_SIZE,
      angle: 0,
      opacity: node.effectiveOpacity(),
    });
  });
  return out;
}

function placementTransform(p) {
  const s = p.size / 16;
  const deg = (p.angle * 180) / Math.PI;
  return `translate(${p.x.toFixed(2)} ${p.y.toFixed(2)}) rotate(${deg.toFixed(2)}) scale(${s}) translate(-8 -8)`;
}

/** The icons as SVG markup (a <g> in model coordinates), for the SVG export. */
export function iconsSvg(placements) {
  return placements
    .map((p) => {
      const layers = ICONS[p.kind].map(([d, fill]) => `<path d="${d}" fill="${fill}"/>`).join("");
      const opacity = p.opacity < 1 ? ` opacity="${p.opacity.toFixed(2)}"` : "";
      return `<g class="mesh-icon mesh-icon-${p.kind}" transform="${placementTransform(p)}"${opacity}>${layers}</g>`;
    })
    .join("");
}

/** Draws the icons on a 2D context whose transform maps model coordinates (PNG export). */
export function drawIcons(ctx, placements) {
  for (const p of placements) {
    ctx.save();
    ctx.globalAlpha = p.opacity;
    ctx.translate(p.x, p.y);
    ctx.rotate(p.angle);
    ctx.scale(p.size / 16, p.size / 16);
    ctx.translate(-8, -8);
    for (const [d, fill] of ICONS[p.kind]) {
      ctx.fillStyle = fill;
      ctx.fill(new Path2D(d));
    }
    ctx.restore();
  }
}

/** Fills every `[data-graph-icon]` element under `root` (the legend) with its icon as inline SVG, once. */
export function renderIconElements(root) {
  for (const holder of root.querySelectorAll("[data-graph-icon]")) {
    const layers = ICONS[holder.dataset.graphIcon];
    if (!layers || holder.firstElementChild) continue;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "legend-icon");
    svg.setAttribute("aria-hidden", "true");
    for (const [d, fill] of layers) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", fill);
      svg.appendChild(path);
    }
    holder.replaceWith(svg);
  }
}

/** The page's overlay: an <svg> over the Cytoscape canvas that redraws its icons when Cytoscape renders. */
export class IconOverlay {
  constructor(cy, canvas) {
    this.cy = cy;
    this.svg = canvas.querySelector("svg.graph-icons");
    if (!this.svg) {
      this.svg = document.createElementNS(SVG_NS, "svg");
      this.svg.setAttribute("class", "graph-icons");
      this.svg.setAttribute("aria-hidden", "true");
      canvas.appendChild(this.svg);
    }
    this.layer = document.createElementNS(SVG_NS, "g");
    this.svg.replaceChildren(this.layer);
    this.signature = "";
    this.pending = 0;
    renderIconElements(document);
    cy.on("render", () => this.schedule());
  }

  schedule() {
    if (!this.pending) this.pending = requestAnimationFrame(() => this.update());
  }

  update() {
    this.pending = 0;
    if (this.cy.destroyed()) return;
    const zoom = this.cy.zoom();
    const pan = this.cy.pan();
    this.layer.setAttribute("transform", `translate(${pan.x} ${pan.y}) scale(${zoom})`);
    const placements = iconPlacements(this.cy);
    const signature = iconsSvg(placements);
    if (signature === this.signature) return;
    this.signature = signature;
    const doc = new DOMParser().parseFromString(`<svg xmlns="${SVG_NS}">${signature}</svg>`, "image/svg+xml");
    this.layer.replaceChildren(...[...doc.documentElement.childNodes].map((n) => document.importNode(n, true)));
  }
}
