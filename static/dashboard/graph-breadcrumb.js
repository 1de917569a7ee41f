// The breadcrumb above a node graph: "Full graph", the node graphs drilled through, then the current one.

import { nodeRefLabel } from "./graph-node.js";
import { gettext } from "./i18n.js";

const $ = (id) => document.getElementById(id);

/** Shows the way to `node` (hidden on the full graph); `goBack(index)` is called with -1 for the full graph. */
export function renderBreadcrumb(node, trail, goBack) {
  const nav = $("graph-breadcrumb");
  if (!nav) return;
  const list = $("graph-crumbs");
  list.replaceChildren();
  nav.hidden = !node;
  if (!node) return;
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
  list.appendChild(crumb(gettext("Full graph"), -1));
  trail.forEach((ref, index) => list.appendChild(crumb(nodeRefLabel(ref), index)));
  const current = document.createElement("li");
  current.textContent = nodeRefLabel(node);
  current.setAttribute("aria-current", "page");
  list.appendChild(current);
}
