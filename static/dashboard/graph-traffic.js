// Traffic animation: dots on a canvas over the graph, one pass per frame (no per-element DOM or Cytoscape
// animations). More and faster dots for higher request rates; each trip is red with the edge's error probability.
// Dots never cover an edge label (or its lock): each frame erases the labels' boxes from the canvas. Above
// MAX_EDGES visible edges it switches itself off; the page stops it while its data is stale.

import { edgeLabelBox, textScale } from "./graph-icons.js";

export const MAX_EDGES = 600;

function dotCount(rps) {
  return Math.max(1, Math.min(6, Math.ceil(Math.log2(rps + 1))));
}

export class TrafficAnimation {
  constructor(cy, canvas) {
    this.cy = cy;
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.enabled = false;
    this.dots = [];
    this.frame = 0;
    this.last = 0;
    this.tick = this.tick.bind(this);
  }

  /** Rebuilds the dots from the edges' rates; returns false when the graph is too large to animate. */
  rebuild(isShown) {
    this.dots = [];
    this.isShown = isShown;
    this.labelled = this.cy.edges().filter(isShown); // labels can change without a rebuild (edge label mode)
    const edges = this.cy.edges().filter((e) => e.data("_rps") > 0 && isShown(e));
    if (edges.length > MAX_EDGES) return false;
    edges.forEach((edge) => {
      const rps = edge.data("_rps");
      const errorShare = Math.min(1, (edge.data("_err") || 0) / 100);
      const count = dotCount(rps);
      // Seconds per trip: 3 s for a trickle, down to 0.8 s for busy edges.
      const period = Math.max(0.8, 3 - Math.log10(rps + 1));
      for (let i = 0; i < count; i++) {
        this.dots.push({ edge, offset: i / count, period, errorShare, seed: this.dots.length * 7.31 });
      }
    });
    return true;
  }

  start() {
    this.enabled = true;
    if (!this.frame) this.frame = requestAnimationFrame(this.tick);
  }

  stop() {
    this.enabled = false;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.clear();
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  resize() {
    const ratio = window.devicePixelRatio || 1;
    const { clientWidth, clientHeight } = this.canvas;
    this.canvas.width = clientWidth * ratio;
    this.canvas.height = clientHeight * ratio;
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  /** Erases the dots over edge labels (a union of rotated boxes, so overlapping labels need no care). */
  clearLabels(zoom, pan) {
    const ctx = this.ctx;
    const scale = textScale(this.cy);
    ctx.save();
    ctx.globalCompositeOperation = "destination-out";
    ctx.fillStyle = "#000";
    ctx.beginPath();
    this.labelled.forEach((edge) => {
      if (edge.removed() || !this.isShown(edge)) return;
      const box = edgeLabelBox(edge, scale);
      if (!box) return;
      // A pixel of margin so antialiased dot edges do not touch the label either.
      const hw = box.w / 2 + 1;
      const hh = box.h / 2 + 1;
      const cos = Math.cos(box.angle);
      const sin = Math.sin(box.angle);
      const corners = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]].map(([u, v]) => [
        (box.x + u * cos - v * sin) * zoom + pan.x,
        (box.y + u * sin + v * cos) * zoom + pan.y,
      ]);
      ctx.moveTo(...corners[0]);
      for (const c of corners.slice(1)) ctx.lineTo(...c);
      ctx.closePath();
    });
    ctx.fill();
    ctx.restore();
  }

  tick(now) {
    this.frame = 0;
    if (!this.enabled) return;
    if (this.canvas.width !== this.canvas.clientWidth * (window.devicePixelRatio || 1)) this.resize();
    this.clear();
    const t = now / 1000;
    const zoom = this.cy.zoom();
    const pan = this.cy.pan();
    const radius = Math.max(1.5, Math.min(4, 2.5 * zoom));
    const ctx = this.ctx;
    // A white rim keeps red dots visible on red (failing) edges.
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1;
    for (const dot of this.dots) {
      const edge = dot.edge;
      if (edge.removed() || !this.isShown(edge)) continue;
      const s = edge.sourceEndpoint();
      const e = edge.targetEndpoint();
      const progress = t / dot.period + dot.offset;
      const f = progress % 1;
      // Each trip of a dot is a request: it is an error with the edge's error probability (a cheap hash per trip).
      const roll = Math.abs(Math.sin(dot.seed + Math.floor(progress) * 12.9898) * 43758.5453) % 1;
      const x = (s.x + (e.x - s.x) * f) * zoom + pan.x;
      const y = (s.y + (e.y - s.y) * f) * zoom + pan.y;
      ctx.fillStyle = roll < dot.errorShare ? "#c9190b" : "#0066cc";
      // Dots dim with their edge (hover highlighting, find).
      ctx.globalAlpha = edge.hasClass("hover-dim") || edge.hasClass("faded") ? 0.15 : 1;
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    this.clearLabels(zoom, pan);
    this.frame = requestAnimationFrame(this.tick);
  }
}
