// Kiali-like interaction on the graph: a context menu on a node (right click, or the Menu key / Shift+F10 on the
// selected node) and hover highlighting (a node's edges and neighbours stay, the rest dims).
//
// The menu offers the node's detail pages, "Node graph" (fires "mesh-ui:node-graph" on document; the page's
// drill-down listens to it) and, for a service, its routing wizards (the service page at #wizards). It is a
// role="menu" list: arrow keys move, Escape closes and gives focus back, a click outside or a Tab away closes it.
// Everything from the cluster goes in through textContent.

import { IconOverlay } from "./graph-icons.js";
import { isLarge } from "./graph-layout.js";
import { detailLinks, detailUrl } from "./graph-panel.js";
import { gettext, interpolate } from "./i18n.js";

const MENU_ID = "graph-menu";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/** The menu's entries for a node's data: [{label, href} | {label, action}], in order. */
export function menuEntries(d) {
  const entries = detailLinks(d).map(([label, href]) => ({ label: interpolate(gettext("Details: %(page)s"), { page: label }), href, kind: "details" }));
  if (d.nodeType !== "box") entries.push({ label: gettext("Node graph"), action: "node-graph", kind: "node-graph" });
  const service = d.nodeType === "service" && d.service && !d.isServiceEntry && d.namespace;
  const wizardsBase = service ? detailUrl("service", d.namespace, d.service) : "";
  if (wizardsBase) entries.push({ label: gettext("Routing wizards"), href: `${wizardsBase}#wizards`, kind: "wizards" });
  return entries;
}

class NodeMenu {
  constructor(canvas) {
    this.canvas = canvas;
    this.menu = el("div", null, "graph-menu");
    this.menu.id = MENU_ID;
    this.menu.setAttribute("role", "menu");
    this.menu.hidden = true;
    this.menu.tabIndex = -1;
    canvas.appendChild(this.menu);
    this.returnFocus = null;
    this.menu.addEventListener("keydown", (event) => this.onKey(event));
    this.menu.addEventListener("focusout", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.relatedTarget)) this.close(false);
    });
    document.addEventListener("pointerdown", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target)) this.close(false);
    });
  }

  get open() {
    return !this.menu.hidden;
  }

  items() {
    return [...this.menu.querySelectorAll('[role="menuitem"]')];
  }

  show(node, x, y) {
    const d = node.data();
    this.menu.replaceChildren();
    this.menu.dataset.nodeId = node.id();
    const title = el("div", d.nodeType === "app" && d.version ? `${d._name} ${d.version}` : d._name, "graph-menu-title");
    title.id = `${MENU_ID}-title`;
    this.menu.setAttribute("aria-labelledby", title.id);
    this.menu.appendChild(title);
    for (const entry of menuEntries(d)) {
      let item;
      if (entry.href) {
        item = el("a", entry.label);
        item.href = entry.href;
      } else {
        item = el("button", entry.label);
        item.type = "button";
        item.addEventListener("click", () => {
          this.close(true);
          document.dispatchEvent(new CustomEvent("mesh-ui:node-graph", { detail: { nodeId: node.id() } }));
        });
      }
      item.setAttribute("role", "menuitem");
      item.tabIndex = -1;
      item.dataset.kind = entry.kind;
      this.menu.appendChild(item);
    }
    this.returnFocus = document.activeElement;
    this.menu.hidden = false;
    // Kept inside the canvas: flipped left/up when it would run over the right or bottom edge.
    const box = this.canvas.getBoundingClientRect();
    const width = this.menu.offsetWidth;
    const height = this.menu.offsetHeight;
    const left = x + width > box.width ? Math.max(0, x - width) : x;
    const top = y + height > box.height ? Math.max(0, y - height) : y;
    this.menu.style.left = `${left}px`;
    this.menu.style.top = `${top}px`;
    this.items()[0]?.focus();
  }

  close(restoreFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    delete this.menu.dataset.nodeId;
    if (restoreFocus && this.returnFocus?.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }

  onKey(event) {
    const items = this.items();
    const at = items.indexOf(document.activeElement);
    const move = (to) => items[(to + items.length) % items.length]?.focus();
    if (event.key === "Escape") this.close(true);
    else if (event.key === "ArrowDown") move(at + 1);
    else if (event.key === "ArrowUp") move(at - 1);
    else if (event.key === "Home") move(0);
    else if (event.key === "End") move(items.length - 1);
    else if (event.key === "Tab") {
      this.close(false);
      return; // the browser moves focus on
    } else return;
    // Handled here: the page's own Escape (closing the side panel) must not see it.
    event.preventDefault();
    event.stopPropagation();
  }
}

// Restyling every element costs seconds on a graph of thousands: on a large graph a hover only highlights the
// neighbourhood (a few elements), it does not dim the rest.
let highlighted = null;

/** Highlights a node's edges and neighbours and dims everything else (small graphs); null clears it. */
export function highlight(cy, node) {
  cy.batch(() => {
    if (highlighted && !highlighted.cy().destroyed()) highlighted.removeClass("hover-focus");
    cy.elements(".hover-dim").removeClass("hover-dim");
    highlighted = null;
    if (!node) return;
    const near = node.closedNeighborhood();
    const keep = near.union(near.ancestors());
    keep.addClass("hover-focus");
    highlighted = keep;
    if (!isLarge(cy)) cy.elements().not(keep).addClass("hover-dim");
  });
}

/**
 * Binds the menu, hover highlighting and the icon overlay (graph-icons.js) to a Cytoscape instance (call it for
 * every new instance; the menu element is made once per canvas). `canvas` is the positioned element around the
 * Cytoscape container.
 */
export function bindInteractions(cy, canvas) {
  new IconOverlay(cy, canvas);
  const menu = canvas.nodeMenu || (canvas.nodeMenu = new NodeMenu(canvas));
  menu.close(false);
  const container = cy.container();
  const offset = () => {
    const outer = canvas.getBoundingClientRect();
    const inner = container.getBoundingClientRect();
    return { x: inner.left - outer.left, y: inner.top - outer.top };
  };
  cy.on("cxttap", "node", (event) => {
    const node = event.target;
    if (node.isParent()) return;
    const o = offset();
    menu.show(node, event.renderedPosition.x + o.x, event.renderedPosition.y + o.y);
  });
  cy.on("cxttap", (event) => {
    if (event.target === cy) menu.close(false);
  });
  cy.on("tapstart viewport", () => menu.close(false));
  cy.on("mouseover", "node", (event) => {
    if (!event.target.isParent()) highlight(cy, event.target);
  });
  cy.on("mouseout", "node", () => highlight(cy, null));
  // Leaving the canvas straight from a node gives Cytoscape no mouseout.
  if (!canvas.dataset.hoverLeave) {
    canvas.dataset.hoverLeave = "1";
    container.addEventListener("mouseleave", () => window.cy && highlight(window.cy, null));
  }
  // The keyboard way in: the Menu key or Shift+F10 opens the menu of the keyboard's node or the selected (tapped) one.
  if (!canvas.dataset.menuKeys) {
    canvas.dataset.menuKeys = "1";
    document.addEventListener("keydown", (event) => {
      const current = window.cy;
      const wantsMenu = event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey);
      if (!wantsMenu || !current || menu.open) return;
      // The node the keyboard is on (graph-keyboard.js), else the selected one.
      const leaf = (selector) => current.nodes(selector).filter((n) => !n.isParent())[0];
      const node = leaf(".kb-focus") || leaf(":selected");
      if (!node) return;
      event.preventDefault();
      const p = node.renderedPosition();
      const o = offset();
      menu.show(node, p.x + o.x, p.y + o.y);
    });
  }
  return menu;
}
