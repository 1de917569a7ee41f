// Pure helpers of the YAML editor: no DOM, no CodeMirror, no network. They turn the API's answers (findings,
// schema errors, error bodies, conflicts) into plain data the page renders, and are tested with `node --test`.
import { diffLines } from "diff";

/** Severities CodeMirror's lint knows, from the API's finding severities. */
const SEVERITY = { error: "error", warning: "warning", info: "info", hint: "hint" };

/** The [from, to) offsets of 1-based `line` in `text`, clamped to its first and last lines. */
export function lineRange(text, line) {
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === "\n") starts.push(i + 1);
  const index = Math.min(Math.max(Number(line) || 1, 1), starts.length) - 1;
  const from = starts[index];
  const end = index + 1 < starts.length ? starts[index + 1] - 1 : text.length;
  return { from, to: Math.max(end, from) };
}

/** The 1-based line a YAML parser's message names ("... line 4, column 3"), or null. */
export function lineInMessage(message) {
  const match = /line (\d+)/.exec(String(message || ""));
  return match ? Number(match[1]) : null;
}

/** One problem as the editor lists and marks it. */
function problem(line, severity, message, code = "", path = "") {
  return { line: line == null ? null : Number(line), severity: SEVERITY[severity] || "error", message, code, path };
}

/** The problems of a `POST /api/v1/validate` answer: schema errors (errors) first, then the findings. */
export function problemsOfValidation(result) {
  const schema = (result.schemaErrors || []).map((e) => problem(e.line, "error", e.message, "schema", e.path));
  const findings = (result.findings || []).map((f) => problem(f.line, f.severity, f.message, f.code, f.path));
  return [...schema, ...findings];
}

/** The problems of an error answer of the validate or write API (`{code, message, details}` or `{error}`). */
export function problemsOfError(body) {
  if (!body || typeof body !== "object") return [];
  const details = Array.isArray(body.details) ? body.details : [];
  if (details.length) {
    return details.map((d) =>
      problem(d.line, d.severity || "error", d.message, d.code || d.reason || body.code || "", d.path || d.field || ""),
    );
  }
  const message = body.message || body.error || body.detail;
  return message ? [problem(lineInMessage(message), "error", message, body.code || "")] : [];
}

/** CodeMirror diagnostics for `problems` in `text`: each marks its whole line (the first when it has none). */
export function diagnosticsFor(text, problems) {
  return problems.map((p) => {
    const { from, to } = lineRange(text, p.line || 1);
    const label = p.code ? `${p.code}: ${p.message}` : p.message;
    return { from, to, severity: p.severity, message: label, source: p.path || undefined };
  });
}

/** The rows of a line diff from `before` to `after`: `{kind: "same"|"add"|"del", oldLine, newLine, text}`. */
export function diffRows(before, after) {
  const rows = [];
  let oldLine = 1;
  let newLine = 1;
  for (const part of diffLines(before || "", after || "")) {
    const lines = part.value.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const text of lines) {
      if (part.added) rows.push({ kind: "add", oldLine: null, newLine: newLine++, text });
      else if (part.removed) rows.push({ kind: "del", oldLine: oldLine++, newLine: null, text });
      else rows.push({ kind: "same", oldLine: oldLine++, newLine: newLine++, text });
    }
  }
  return rows;
}

/** How many lines `rows` add and remove. */
export function diffCounts(rows) {
  return {
    added: rows.filter((r) => r.kind === "add").length,
    removed: rows.filter((r) => r.kind === "del").length,
  };
}

/**
 * `rows` with long runs of unchanged lines folded: `context` lines are kept around each change and every other
 * run becomes one `{kind: "skip", count}` row.
 */
export function foldUnchanged(rows, context = 3) {
  const keep = rows.map(() => false);
  rows.forEach((row, i) => {
    if (row.kind === "same") return;
    for (let j = Math.max(0, i - context); j <= Math.min(rows.length - 1, i + context); j += 1) keep[j] = true;
  });
  const folded = [];
  let skipped = 0;
  rows.forEach((row, i) => {
    if (keep[i]) {
      if (skipped) folded.push({ kind: "skip", count: skipped });
      skipped = 0;
      folded.push(row);
    } else {
      skipped += 1;
    }
  });
  if (skipped) folded.push({ kind: "skip", count: skipped });
  return folded;
}

/** `pattern` with its `__namespace__`, `__kind__` and `__name__` placeholders filled in (URL-encoded). */
export function fillUrl(pattern, parts) {
  return pattern.replace(/__(namespace|kind|name)__/g, (_, key) => encodeURIComponent(parts[key] ?? ""));
}

/** The request that saves `text`: a POST that creates, or a PUT against the resourceVersion editing started from. */
export function saveRequest(config, text, acceptWarnings) {
  if (config.mode === "create") {
    return {
      method: "POST",
      url: config.urls.create,
      body: { cluster: config.cluster, yaml: text, acceptWarnings: Boolean(acceptWarnings) },
    };
  }
  return {
    method: "PUT",
    url: fillUrl(config.urls.object, config),
    body: { yaml: text, resourceVersion: config.resourceVersion, acceptWarnings: Boolean(acceptWarnings) },
  };
}

/** The three texts and resourceVersion of a 409 answer (the conflict may sit in `details` or at the top). */
export function conflictOf(body) {
  const source = body && body.details && typeof body.details === "object" && "theirs" in body.details ? body.details : body;
  return {
    base: String(source?.base ?? ""),
    mine: String(source?.mine ?? ""),
    theirs: String(source?.theirs ?? ""),
    theirsResourceVersion: String(source?.theirsResourceVersion ?? ""),
  };
}

/** The objects a delete confirmation lists, from the dependents answer (a list, or `{dependents: [...]}`). */
export function dependentsOf(body) {
  const list = Array.isArray(body) ? body : body?.dependents || body?.results || [];
  return list.map((d) => ({
    kind: String(d.kind || ""),
    namespace: String(d.namespace || ""),
    name: String(d.name || ""),
    reason: String(d.reason || d.message || ""),
  }));
}

/** What the page says about a failed write, by the API's stable error code. */
export function describeFailure(status, body) {
  const code = body?.code || "";
  const message = body?.message || body?.error || body?.detail || "";
  const lead = {
    "invalid-yaml": "The YAML does not parse",
    "invalid-object": "This is not an Istio object mesh-ui can write",
    "validation-failed": "Validation found errors: nothing was written",
    "warnings-not-accepted": "Validation found warnings: nothing was written unless you apply anyway",
    "dry-run-failed": "The cluster refused the change in its dry run: nothing was written",
    forbidden: "You may not change objects in this namespace",
    conflict: "The object changed in the cluster since you started editing: nothing was written",
    "already-exists": "An object of this kind and name already exists in the namespace: nothing was written",
    "not-found": "The object is not in the cluster (any more): nothing was written",
    "cluster-unreachable": "The cluster did not answer: nothing was written",
    "api-error": "The cluster's API server refused the write: nothing was written",
  }[code];
  if (lead) return message ? `${lead}. ${message}` : `${lead}.`;
  if (status === 502) return `The cluster did not answer: nothing was written. ${message}`.trim();
  if (status === 0) return "The server did not answer: nothing was written.";
  return message ? `Error ${status}: ${message}` : `Error ${status}.`;
}
