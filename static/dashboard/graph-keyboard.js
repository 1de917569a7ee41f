// The graph from the keyboard: the Cytoscape container is one Tab stop (tabindex=0, a focus ring); inside it a
// "keyboard focus" moves over the shown nodes, marked with the class kb-focus (keyboardFocusStyle() draws it) and read
// out by an aria-live region (name, type, namespace, request rate).
//
// Keys while the graph has focus: arrows go to the nearest node that way, Tab / Shift+Tab to the next / previous
// node in reading order (past the last or first one, Tab leaves the graph), Home / End the first / last node,
// Enter selects the focused node or edge and opens the side panel (a click), Shift+Enter or "d" opens its node
// graph (a double-click), "e" cycles the focused node's edges, Escape clears the selection and closes the panel,
// Backspace goes back one node graph, "?" shows the keys. The Menu key / Shift+F10 (graph-interact.js) opens the
// focused node's menu.

import { isShown } from "./graph-filters.js";
import { describeEdge, describeNode, isArrowKey, nearestInDirection, readingOrder } from "./graph-keynav.js";

export const FOCUS_CLASS = "kb-focus";

/** The Cytoscape style of the keyboard focus: an outline around a node, a halo on an edge. */
export function keyboardFocusStyle() {
  return [
    {
      selector: `node.${FOCUS_CLASS}`,
      style: { "outline-width": 4, "outline-color": "#0066cc", "outline-offset": 3, "outline-opacity": 1 },
    },
    { selector: `edge.${FOCUS_CLASS}`, style: { "overlay-color": "#0066cc", "overlay-opacity": 0.3, "overlay-padding": 6 } },
  ];
}

/** The nodes the keyboard can reach: drawn, not boxes, not hidden by the hide expression. */
function reachableNodes(cy) {
  return cy.nodes().filter((n) => !n.isParent() && isShown(n));
}

function pointsOf(nodes) {
  return nodes.map((n) => ({ id: n.id(), x: n.position("x"), y: n.position("y") }));
}

/**
 * Binds the keys to the Cytoscape container (once per page; Cytoscape instances come and go, `actions.cy()` gives
 * the current one). `actions`: `openPanel(element|null)`, `drillInto(node)`, `goBack()`, `canGoBack()`.
 */
export class GraphKeyboard {
  constructor(container, announcer, help, actions) {
    this.container = container;
    this.announcer = announcer;
    this.help = help;
    this.actions = actions;
    // The focused element's id, kept across redraws; the node an edge was reached from (arrows continue there).
    this.focusedId = "";
    this.edgeHomeId = "";
    // True from the first key the graph handles until focus leaves: a redraw then keeps the outline shown.
    this.active = false;
    container.addEventListener("keydown", (event) => this.onKey(event));
    container.addEventListener("focus", () => this.onFocus());
    container.addEventListener("blur", () => {
      this.active = false;
      container.classList.remove("pointer-focus");
      this.mark(null);
    });
    // Escape on the key list's own button closes it too.
    help.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !help.open) return;
      help.open = false;
      event.stopPropagation();
    });
  }

  get cy() {
    return this.actions.cy();
  }

  /** Follows the mouse: a tapped node or edge is where the keyboard carries on (call for each new instance). */
  attach(cy) {
    // Cytoscape keeps a click from focusing the container: focus it, so keys work after a click too.
    // Given by the mouse, that focus shows neither the ring (class pointer-focus) nor a node outline until a key.
    cy.on("tap", () => {
      if (this.hasFocus()) return;
      this.container.classList.add("pointer-focus");
      this.container.focus({ preventScroll: true });
    });
    cy.on("tap", "node, edge", (event) => {
      const target = event.target;
      if (target.isNode() && target.isParent()) return;
      this.focusedId = target.id();
      this.edgeHomeId = target.isEdge() ? target.source().id() : "";
      // Only where the keyboard focus is already shown: a mouse user gets no outline.
      if (this.hasFocus() && cy.elements(`.${FOCUS_CLASS}`).length) this.mark(target);
    });
  }

  hasFocus() {
    return document.activeElement === this.container;
  }

  focused() {
    const cy = this.cy;
    if (!cy || !this.focusedId) return null;
    const ele = cy.getElementById(this.focusedId);
    return ele.length && isShown(ele) ? ele : null;
  }

  /** After a redraw: the focus stays on its element, else goes to the node graph's node or the first node. */
  refresh() {
    if (!this.cy) return;
    if (!this.focused()) {
      this.focusedId = "";
      this.edgeHomeId = "";
    }
    if (this.hasFocus()) this.onFocus();
  }

  onFocus() {
    // Focus given by a click is not the keyboard's: no outline, no announcement (Tab and keys bring them).
    const byKeyboard = this.container.matches(":focus-visible") && !this.container.classList.contains("pointer-focus");
    if (!this.active && !byKeyboard) return;
    const current = this.focused();
    if (current) {
      this.mark(current);
      return;
    }
    const nodes = reachableNodes(this.cy);
    if (!nodes.length) return;
    const start = nodes.filter("[?isFocus]")[0] || nodes.filter(":selected")[0] || this.byOrder(nodes, 0);
    this.moveTo(start);
  }

  byOrder(nodes, index) {
    const order = readingOrder(pointsOf(nodes));
    const id = order[(index + order.length) % order.length];
    return this.cy.getElementById(id);
  }

  /** Marks `ele` as focused (or nothing), brings it into view and announces it. */
  moveTo(ele, { edgeHome = "" } = {}) {
    this.focusedId = ele.id();
    this.edgeHomeId = edgeHome;
    this.mark(ele);
    const extent = this.cy.extent();
    const bb = ele.boundingBox();
    if (bb.x1 < extent.x1 || bb.x2 > extent.x2 || bb.y1 < extent.y1 || bb.y2 > extent.y2) this.cy.center(ele);
    this.announce(ele);
  }

  mark(ele) {
    const cy = this.cy;
    if (!cy) return;
    cy.elements(`.${FOCUS_CLASS}`).removeClass(FOCUS_CLASS);
    if (ele) ele.addClass(FOCUS_CLASS);
  }

  announce(ele) {
    const text = ele.isEdge() ? describeEdge(ele.data(), ele.source().data(), ele.target().data()) : describeNode(ele.data());
    this.announcer.textContent = text;
    this.container.dataset.focusedElement = ele.id();
  }

  /** The node navigation starts from: the focused node, or the node the focused edge was reached from. */
  homeNode() {
    const current = this.focused();
    if (!current) return null;
    if (current.isNode()) return current;
    const home = this.cy.getElementById(this.edgeHomeId);
    return home.length ? home : current.source();
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !this.cy) return;
    const handled = this.handle(event.key, event.shiftKey);
    if (handled) {
      this.active = true;
      this.container.classList.remove("pointer-focus");
      event.preventDefault();
      event.stopPropagation();
    }
  }

  /** Runs the key's action; false when the key is not the graph's (Tab past the last node leaves the graph). */
  handle(key, shift) {
    const cy = this.cy;
    const nodes = reachableNodes(cy);
    const home = this.homeNode();
    if (isArrowKey(key)) {
      if (!home) return this.startAt(nodes, 0);
      const id = nearestInDirection(pointsOf(nodes), { id: home.id(), ...home.position() }, key);
      if (id) this.moveTo(cy.getElementById(id));
      else if (this.focused()) this.announce(this.focused()); // nothing that way: say where the focus is
      return true;
    }
    if (key === "Tab") return this.tab(nodes, home, shift);
    if (key === "Home") return this.startAt(nodes, 0);
    if (key === "End") return this.startAt(nodes, -1);
    if ((key === "Enter" && shift) || key === "d" || key === "D") return this.drill();
    if (key === "Enter") {
      const ele = this.focused();
      if (!ele) return this.startAt(nodes, 0);
      cy.elements(":selected").unselect();
      ele.select();
      this.actions.openPanel(ele);
      return true;
    }
    if (key === "e" || key === "E") return this.cycleEdges(home, shift || key === "E");
    if (key === "Escape") return this.clear();
    if (key === "Backspace") {
      if (!this.actions.canGoBack()) return false;
      this.focusedId = "";
      this.actions.goBack();
      return true;
    }
    if (key === "?") {
      this.help.open = !this.help.open;
      return true;
    }
    return false;
  }

  startAt(nodes, index) {
    if (!nodes.length) return true;
    this.moveTo(this.byOrder(nodes, index));
    return true;
  }

  tab(nodes, home, back) {
    if (!nodes.length) return false;
    const order = readingOrder(pointsOf(nodes));
    const at = home ? order.indexOf(home.id()) : -1;
    const next = at < 0 ? (back ? order.length - 1 : 0) : at + (back ? -1 : 1);
    if (next < 0 || next >= order.length) {
      this.mark(null); // leaving the graph: the browser moves focus on
      return false;
    }
    this.moveTo(this.cy.getElementById(order[next]));
    return true;
  }

  drill() {
    const home = this.homeNode();
    if (home) this.actions.drillInto(home);
    return true;
  }

  /** Focuses the next (or previous) edge of `home`, in the order Cytoscape keeps them. */
  cycleEdges(home, back) {
    if (!home) return true;
    const edges = home.connectedEdges().filter((e) => isShown(e));
    if (!edges.length) {
      this.announce(home);
      return true;
    }
    const current = this.focused();
    const at = current && current.isEdge() ? edges.toArray().findIndex((e) => e.id() === current.id()) : -1;
    const next = at < 0 ? (back ? edges.length - 1 : 0) : (at + (back ? -1 : 1) + edges.length) % edges.length;
    this.moveTo(edges[next], { edgeHome: home.id() });
    return true;
  }

  clear() {
    this.cy.elements(":selected").unselect();
    this.help.open = false;
    this.actions.openPanel(null);
    return true;
  }
}
