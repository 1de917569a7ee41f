// The YAML editor of Istio objects (bundled by `make install` into build/bundle/editor.js).
//
// CodeMirror 6 with YAML highlighting and line numbers; the text is checked as you type (debounced) by
// POST /api/v1/validate and its findings become line markers. "Review changes" diffs the text against the
// cluster's current version, then Save (PUT), Create (POST) or Delete go through the write API. Warnings can be
// accepted ("Apply anyway"), errors are marked on their lines, and a 409 shows base, theirs and mine with their
// diffs and can rebase onto the cluster's version. Configuration comes from the page's #editor-config block.
import { EditorState } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, linter, setDiagnostics } from "@codemirror/lint";

import {
  conflictOf,
  dependentsOf,
  describeFailure,
  diagnosticsFor,
  fillUrl,
  problemsOfError,
  problemsOfValidation,
  saveRequest,
} from "./helpers.js";
import { renderDependents, renderDiff, renderProblems } from "./render.js";
import { whatIfGraphUrl, writeWhatIf } from "../../static/dashboard/graph-whatif-contract.js";

const VALIDATE_DELAY_MS = 400;

const config = JSON.parse(document.getElementById("editor-config").textContent);
const root = document.querySelector("[data-yaml-editor]");
const part = (name) => root.querySelector(`[data-editor-${name}]`);
const csrfToken = root.dataset.csrfToken;
let view = null;
let validations = 0;

/** One call to the API: the status and the JSON body (null when there is none); status 0 when the server is gone. */
async function callApi(method, url, body, contentType = "application/json") {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken };
  if (body !== undefined) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch {
    return { status: 0, body: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, body: data };
}

function text() {
  return view.state.doc.toString();
}

function setStatus(message, kind = "") {
  const status = part("status");
  status.textContent = message;
  status.dataset.kind = kind;
}

function goToLine(problem) {
  const line = view.state.doc.line(Math.min(Math.max(problem.line || 1, 1), view.state.doc.lines));
  view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
  view.focus();
}

/** Live validation: the linter CodeMirror runs once typing pauses for VALIDATE_DELAY_MS. */
async function validateText(editorView) {
  const checked = editorView.state.doc.toString();
  const { status, body } = await callApi("POST", config.urls.validate, checked, "application/yaml");
  if (status === 0) return [];
  const problems = status === 200 ? problemsOfValidation(body) : problemsOfError(body);
  validations += 1;
  const live = part("live");
  renderProblems(live, problems, goToLine);
  // What the markers say, for people reading the list and for the browser tests.
  live.dataset.validations = String(validations);
  live.dataset.markers = problems.map((p) => `${p.line || 1}:${p.severity}:${p.code}`).join(" ");
  part("live-summary").textContent = problems.length
    ? `${problems.length} problem${problems.length === 1 ? "" : "s"} as you type`
    : "No problem found as you type";
  return diagnosticsFor(checked, problems);
}

function createView(doc) {
  return new EditorView({
    parent: part("mount"),
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        indentOnInput(),
        bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        yaml(),
        lintGutter(),
        linter(validateText, { delay: VALIDATE_DELAY_MS }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) part("live-summary").textContent = "Checking as you type…";
        }),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        // Its styles go in a <style> element: the page's Content-Security-Policy admits it by the request's nonce.
        EditorView.cspNonce.of(root.dataset.cspNonce),
        EditorView.contentAttributes.of({ "aria-label": `YAML of ${config.kind} ${config.name || "(new)"}` }),
      ],
    }),
  });
}

function showOnly(panelName) {
  for (const name of ["review", "outcome", "conflict"]) part(name).hidden = name !== panelName;
}

/** Step 1 of saving: the diff of the text against what the cluster holds now. */
async function review() {
  part("review").hidden = true; // shown again with the fresh diff
  let current = "";
  let note = "A new object: everything is added.";
  let label = "nothing";
  if (config.mode === "edit") {
    const { status, body } = await callApi("GET", fillUrl(config.urls.object, config));
    if (status !== 200) {
      setStatus(describeFailure(status, body), "error");
      return;
    }
    current = body.yaml;
    const latest = String(body.metadata?.resourceVersion ?? "");
    label = `cluster (resourceVersion ${latest})`;
    note =
      latest === config.resourceVersion
        ? "The cluster still holds the version you started from."
        : `The object changed in the cluster since you started from resourceVersion ${config.resourceVersion}: ` +
          "saving will be refused with a conflict you can rebase from.";
    part("review").dataset.stale = String(latest !== config.resourceVersion);
  }
  part("review-note").textContent = note;
  renderDiff(part("review-diff"), current, text(), [label, "yours"]);
  showOnly("review");
  part("save").focus();
}

/** Step 2: the write (PUT or POST); `acceptWarnings` after the user chose "Apply anyway". */
async function save(acceptWarnings) {
  const written = text();
  const request = saveRequest(config, written, acceptWarnings);
  showOnly("");
  delete root.dataset.saved;
  setStatus("Saving…", "busy");
  const { status, body } = await callApi(request.method, request.url, JSON.stringify(request.body));
  if (status === 200 || status === 201) {
    saved(body, status);
  } else if (status === 409 && body?.code === "conflict") {
    showConflict(conflictOf(body));
  } else {
    showFailure(status, body, written);
  }
}

function saved(body, status) {
  const object = body.object;
  if (config.mode === "create") {
    window.location.assign(fillUrl(config.urls.objectPage, object));
    return;
  }
  config.yaml = object.yaml;
  config.resourceVersion = String(object.metadata?.resourceVersion ?? "");
  const warnings = problemsOfValidation({ findings: body.warnings || [] });
  showOnly(warnings.length ? "outcome" : "");
  if (warnings.length) {
    part("outcome-message").textContent = "Saved with these warnings:";
    renderProblems(part("outcome-problems"), warnings, goToLine);
    part("apply-anyway").hidden = true;
  }
  root.dataset.saved = config.resourceVersion;
  setStatus(`Saved (${status}): the cluster now holds resourceVersion ${config.resourceVersion}.`, "ok");
}

function showFailure(status, body, written) {
  const problems = problemsOfError(body);
  part("outcome-message").textContent = describeFailure(status, body);
  part("outcome").dataset.code = body?.code || String(status);
  renderProblems(part("outcome-problems"), problems, goToLine);
  part("apply-anyway").hidden = body?.code !== "warnings-not-accepted";
  showOnly("outcome");
  setStatus("Nothing was written.", "error");
  if (text() === written && problems.some((p) => p.line)) {
    view.dispatch(setDiagnostics(view.state, diagnosticsFor(written, problems)));
  }
}

/** A 409: what you started from, what the cluster has now and what you wrote, with the three diffs. */
function showConflict(conflict) {
  const panel = part("conflict");
  panel.dataset.theirsResourceVersion = conflict.theirsResourceVersion;
  for (const [name, value] of [["base", conflict.base], ["theirs", conflict.theirs], ["mine", conflict.mine]]) {
    panel.querySelector(`[data-conflict-text="${name}"]`).textContent = value;
  }
  renderDiff(panel.querySelector('[data-conflict-diff="baseToTheirs"]'), conflict.base, conflict.theirs, ["base", "theirs"]);
  renderDiff(panel.querySelector('[data-conflict-diff="baseToMine"]'), conflict.base, conflict.mine, ["base", "mine"]);
  renderDiff(panel.querySelector('[data-conflict-diff="theirsToMine"]'), conflict.theirs, conflict.mine, ["theirs", "mine"]);
  panel.conflict = conflict;
  showOnly("conflict");
  setStatus(describeFailure(409, { code: "conflict" }), "error");
}

/** Take the cluster's version as the new base; the user's text stays in the editor to be reviewed again. */
function rebase() {
  const conflict = part("conflict").conflict;
  config.yaml = conflict.theirs;
  config.resourceVersion = conflict.theirsResourceVersion;
  showOnly("");
  setStatus(`Rebased onto the cluster's resourceVersion ${config.resourceVersion}: your text is kept; review it again.`, "ok");
  root.dataset.rebased = config.resourceVersion;
  view.focus();
}

async function confirmDelete() {
  const dialog = document.querySelector("[data-delete-dialog]");
  const list = dialog.querySelector("[data-delete-dependents]");
  const message = dialog.querySelector("[data-delete-message]");
  message.textContent = "";
  const { status, body } = await callApi("GET", fillUrl(config.urls.dependents, config));
  if (status === 200) {
    renderDependents(list, dependentsOf(body));
  } else {
    list.replaceChildren();
    message.textContent = `Could not list what depends on this object: ${describeFailure(status, body)}`;
  }
  dialog.showModal();
}

async function deleteObject() {
  const dialog = document.querySelector("[data-delete-dialog]");
  const url = `${fillUrl(config.urls.object, config)}?resourceVersion=${encodeURIComponent(config.resourceVersion)}`;
  const { status, body } = await callApi("DELETE", url);
  if (status === 200 || status === 204) {
    window.location.assign(config.urls.list);
    return;
  }
  dialog.querySelector("[data-delete-message]").textContent = describeFailure(status, body);
}

function startEditing() {
  const readOnly = document.querySelector("[data-readonly-yaml]");
  if (readOnly) readOnly.hidden = true;
  root.hidden = false;
  for (const button of document.querySelectorAll('[data-editor-action="edit"]')) button.hidden = true;
  if (!view) view = createView(config.yaml);
  document.body.dataset.editing = "true";
  view.focus();
}

function stopEditing() {
  if (text() !== config.yaml && !window.confirm("Discard your changes?")) return;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: config.yaml } });
  showOnly("");
  root.hidden = true;
  const readOnly = document.querySelector("[data-readonly-yaml]");
  if (readOnly) readOnly.hidden = false;
  for (const button of document.querySelectorAll('[data-editor-action="edit"]')) button.hidden = false;
  delete document.body.dataset.editing;
}

/** The create page's kind and namespace pickers load another starter document: only after asking, if edited. */
function watchStarterPickers() {
  const form = document.querySelector("[data-starter-form]");
  if (!form) return;
  for (const select of form.querySelectorAll("select")) {
    const chosen = select.value;
    select.addEventListener("change", () => {
      if (text() !== config.yaml && !window.confirm("Discard your text and start from the new template?")) {
        select.value = chosen;
        return;
      }
      form.submit();
    });
  }
}

const actions = {
  edit: startEditing,
  cancel: stopEditing,
  review,
  back: () => showOnly(""),
  save: () => save(false),
  "apply-anyway": () => save(true),
  rebase,
  delete: confirmDelete,
  "delete-confirm": deleteObject,
  "delete-cancel": () => document.querySelector("[data-delete-dialog]").close(),
};
/** "Preview on graph": hand the text to the graph page's what-if preview (docs/whatif.md) in a new tab, which
 * inherits this tab's sessionStorage; the editor and its text stay here. */
function previewOnGraph() {
  const contract = writeWhatIf(window.sessionStorage, {
    cluster: config.cluster,
    namespace: config.namespace,
    objects: [text()],
    source: "editor",
  });
  const opened = window.open(whatIfGraphUrl(config.urls.graph, contract), "_blank");
  if (!opened) window.location.assign(whatIfGraphUrl(config.urls.graph, contract));
}
actions.preview = previewOnGraph;

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-editor-action]");
  if (button && actions[button.dataset.editorAction]) actions[button.dataset.editorAction]();
});

if (config.mode === "create") {
  startEditing();
  watchStarterPickers();
}
document.body.dataset.editorReady = "true";
