// DOM rendering of the editor's panels: diffs, problem lists, dependents. Text from the cluster goes in through
// textContent only, and colours through classes (the Content-Security-Policy forbids inline style).
import { diffCounts, diffRows, foldUnchanged } from "./helpers.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Render the diff from `before` to `after` into `container` as a table; returns the added/removed counts. */
export function renderDiff(container, before, after, labels) {
  const rows = diffRows(before, after);
  const counts = diffCounts(rows);
  container.replaceChildren();
  const head = element("p", "diff-head");
  head.append(element("span", "diff-label", `${labels[0]} → ${labels[1]}: `));
  head.append(element("span", "diff-added", `+${counts.added}`), " ", element("span", "diff-removed", `-${counts.removed}`));
  container.append(head);
  if (!counts.added && !counts.removed) {
    container.append(element("p", "empty", "No difference."));
    return counts;
  }
  const table = element("table", "diff");
  const body = element("tbody");
  for (const row of foldUnchanged(rows)) {
    const tr = element("tr", `diff-${row.kind}`);
    tr.dataset.diff = row.kind;
    if (row.kind === "skip") {
      const cell = element("td", "diff-skip", `… ${row.count} unchanged line${row.count === 1 ? "" : "s"}`);
      cell.colSpan = 4;
      tr.append(cell);
    } else {
      const sign = { add: "+", del: "-", same: " " }[row.kind];
      tr.append(
        element("td", "ln", row.oldLine ?? ""),
        element("td", "ln", row.newLine ?? ""),
        element("td", "diff-sign", sign),
        element("td", "src", row.text),
      );
    }
    body.append(tr);
  }
  table.append(body);
  container.append(table);
  return counts;
}

/** Render `problems` into the list `list`; clicking one calls `onPick(problem)` (to move the cursor to its line). */
export function renderProblems(list, problems, onPick) {
  list.replaceChildren();
  for (const p of problems) {
    const item = element("li", `problem sev-${p.severity}`);
    item.dataset.severity = p.severity;
    item.dataset.code = p.code;
    if (p.line) item.dataset.line = String(p.line);
    item.append(element("span", `badge sev-${p.severity}`, p.severity));
    if (p.code) item.append(" ", element("strong", "", p.code));
    item.append(" ", element("span", "", p.message));
    if (p.path) item.append(" ", element("code", "", p.path));
    if (p.line) {
      const link = element("button", "link-button", `line ${p.line}`);
      link.type = "button";
      link.addEventListener("click", () => onPick(p));
      item.append(" ", link);
    }
    list.append(item);
  }
}

/** Render the objects that depend on the one being deleted into `list` (or say there are none). */
export function renderDependents(list, dependents) {
  list.replaceChildren();
  if (!dependents.length) {
    list.append(element("li", "empty", "Nothing in the inventory depends on this object."));
    return;
  }
  for (const d of dependents) {
    const item = element("li", "dependent");
    item.dataset.dependent = `${d.namespace}/${d.kind}/${d.name}`;
    item.append(element("strong", "", `${d.kind} ${d.namespace}/${d.name}`));
    if (d.reason) item.append(" ", element("span", "muted", d.reason));
    list.append(item);
  }
}
