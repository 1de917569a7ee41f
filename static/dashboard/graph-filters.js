// Find and hide on the graph page: the two expressions (graph-expr.js) applied to the drawn elements as classes
// ("hidden", "found", "faded"), their errors shown beside the controls.

import { ExpressionError, compileExpression, isServerEvaluable } from "./graph-expr.js";

const $ = (id) => document.getElementById(id);

function compile(text, which) {
  try {
    return { predicate: compileExpression(text), error: "" };
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return { predicate: null, error: `${which}: ${error.message}` };
  }
}

/** Marks what `view.find` finds and hides what `view.hide` matches (a box with nothing left shown goes too). */
export function applyFilters(cy, view) {
  const find = compile(view.find, "Find");
  const hide = compile(view.hide, "Hide");
  $("ctl-find").setAttribute("aria-invalid", String(Boolean(find.error)));
  $("ctl-hide").setAttribute("aria-invalid", String(Boolean(hide.error)));
  $("expr-error").textContent = [find.error, hide.error].filter(Boolean).join(" · ");
  cy.batch(() => {
    cy.elements().removeClass("hidden found faded");
    if (hide.predicate) {
      cy.elements().forEach((ele) => {
        if (hide.predicate(ele.data(), ele.isNode())) ele.addClass("hidden");
      });
      // A box whose members are all hidden goes too (innermost boxes first).
      const boxes = cy.nodes().filter((n) => n.isParent());
      const depth = (n) => n.ancestors().length;
      boxes.sort((a, b) => depth(b) - depth(a)).forEach((box) => {
        if (box.children().every((c) => c.hasClass("hidden"))) box.addClass("hidden");
      });
    }
    if (find.predicate) {
      const found = cy.elements().filter((ele) => !ele.hasClass("hidden") && find.predicate(ele.data(), ele.isNode()));
      found.addClass("found");
      cy.elements().not(found).filter((ele) => !ele.isParent()).addClass("faded");
    }
  });
}

/** Shown by find/hide (class checks only: Cytoscape's visible() on 3,000 edges costs half a second). */
export function isShown(ele) {
  if (ele.hasClass("hidden")) return false;
  return ele.isNode() || (!ele.source().hasClass("hidden") && !ele.target().hasClass("hidden"));
}

/** The hide expression the API can apply itself (the payload then shrinks), else "" (applied here only). */
export function serverHide(view) {
  return isServerEvaluable(view.hide) ? view.hide.trim() : "";
}
