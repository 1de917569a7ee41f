// Unit tests of the editor's pure helpers (`npm test`, run by `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  conflictOf,
  dependentsOf,
  describeFailure,
  diagnosticsFor,
  diffCounts,
  diffRows,
  fillUrl,
  foldUnchanged,
  lineInMessage,
  lineRange,
  problemsOfError,
  problemsOfValidation,
  saveRequest,
} from "./helpers.js";

const TEXT = "kind: VirtualService\nspec:\n  hosts: [reviews]\n";

test("lineRange gives the offsets of a line and clamps lines outside the text", () => {
  assert.deepEqual(lineRange(TEXT, 2), { from: 21, to: 26 });
  assert.equal(TEXT.slice(21, 26), "spec:");
  assert.deepEqual(lineRange(TEXT, 1), { from: 0, to: 20 });
  assert.deepEqual(lineRange(TEXT, 0), lineRange(TEXT, 1));
  assert.deepEqual(lineRange(TEXT, 99), { from: TEXT.length, to: TEXT.length });
});

test("a validation answer becomes schema errors then findings, with their severity", () => {
  const problems = problemsOfValidation({
    schemaErrors: [{ path: "spec.http[0].timeout", message: "bad duration", line: 5 }],
    findings: [{ code: "KIA1107", severity: "warning", message: "Subset not found", path: "spec.http[0]", line: 3 }],
  });
  assert.deepEqual(
    problems.map((p) => [p.line, p.severity, p.code]),
    [[5, "error", "schema"], [3, "warning", "KIA1107"]],
  );
});

test("diagnostics mark the whole line each problem names, the first line when it names none", () => {
  const [onLine, noLine] = diagnosticsFor(TEXT, [
    { line: 3, severity: "warning", message: "no such host", code: "KIA1101", path: "spec.hosts[0]" },
    { line: null, severity: "error", message: "broken", code: "", path: "" },
  ]);
  assert.equal(TEXT.slice(onLine.from, onLine.to), "  hosts: [reviews]");
  assert.equal(onLine.severity, "warning");
  assert.equal(onLine.message, "KIA1101: no such host");
  assert.equal(TEXT.slice(noLine.from, noLine.to), "kind: VirtualService");
  assert.equal(noLine.message, "broken");
});

test("error answers give their detail lines, or the line a YAML message names", () => {
  const invalid = problemsOfError({
    code: "invalid-yaml",
    message: "The YAML does not parse",
    details: [{ line: 4, message: "mapping values are not allowed here" }],
  });
  assert.deepEqual(invalid.map((p) => [p.line, p.severity, p.code]), [[4, "error", "invalid-yaml"]]);
  const dryRun = problemsOfError({
    code: "dry-run-failed",
    message: "admission webhook denied it",
    details: [{ field: "spec.hosts", message: "must not be empty", reason: "FieldValueRequired" }],
  });
  assert.deepEqual(dryRun.map((p) => [p.line, p.path, p.code]), [[null, "spec.hosts", "FieldValueRequired"]]);
  const refused = problemsOfError({ error: "the body is not a JSON or YAML object: ... in \"<unicode string>\", line 7, column 3" });
  assert.equal(refused[0].line, 7);
  assert.equal(lineInMessage("no line here"), null);
  assert.deepEqual(problemsOfError(null), []);
});

test("diffRows numbers old and new lines and counts additions and removals", () => {
  const rows = diffRows("a\nb\nc\n", "a\nB\nc\nd\n");
  assert.deepEqual(
    rows.map((r) => [r.kind, r.oldLine, r.newLine, r.text]),
    [
      ["same", 1, 1, "a"],
      ["del", 2, null, "b"],
      ["add", null, 2, "B"],
      ["same", 3, 3, "c"],
      ["add", null, 4, "d"],
    ],
  );
  assert.deepEqual(diffCounts(rows), { added: 2, removed: 1 });
  assert.deepEqual(diffCounts(diffRows("same\n", "same\n")), { added: 0, removed: 0 });
});

test("foldUnchanged keeps context around changes and folds the rest", () => {
  const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
  const after = before.replace("line 10\n", "line ten\n");
  const folded = foldUnchanged(diffRows(before, after), 2);
  assert.deepEqual(folded[0], { kind: "skip", count: 7 });
  assert.deepEqual(
    folded.slice(1, -1).map((r) => r.text),
    ["line 8", "line 9", "line 10", "line ten", "line 11", "line 12"],
  );
  assert.deepEqual(folded.at(-1), { kind: "skip", count: 8 });
});

const CONFIG = {
  mode: "edit",
  cluster: "east",
  namespace: "book info",
  kind: "VirtualService",
  name: "reviews",
  resourceVersion: "41",
  urls: { create: "/api/v1/istio-objects", object: "/api/v1/istio-objects/east/__namespace__/__kind__/__name__" },
};

test("fillUrl fills and encodes the placeholders", () => {
  assert.equal(fillUrl(CONFIG.urls.object, CONFIG), "/api/v1/istio-objects/east/book%20info/VirtualService/reviews");
});

test("an edit saves with PUT from its resourceVersion, a new object with POST to its cluster", () => {
  assert.deepEqual(saveRequest(CONFIG, "x: 1\n", false), {
    method: "PUT",
    url: "/api/v1/istio-objects/east/book%20info/VirtualService/reviews",
    body: { yaml: "x: 1\n", resourceVersion: "41", acceptWarnings: false },
  });
  assert.deepEqual(saveRequest({ ...CONFIG, mode: "create" }, "x: 1\n", true), {
    method: "POST",
    url: "/api/v1/istio-objects",
    body: { cluster: "east", yaml: "x: 1\n", acceptWarnings: true },
  });
});

test("conflictOf reads the three texts at the top or in details", () => {
  const texts = { base: "a", mine: "b", theirs: "c", theirsResourceVersion: 42 };
  const expected = { base: "a", mine: "b", theirs: "c", theirsResourceVersion: "42" };
  assert.deepEqual(conflictOf({ code: "conflict", ...texts }), expected);
  assert.deepEqual(conflictOf({ code: "conflict", message: "changed", details: texts }), expected);
});

test("dependentsOf accepts a list or an object holding one", () => {
  const one = { kind: "VirtualService", namespace: "bookinfo", name: "reviews", reason: "routes to subset v1" };
  assert.deepEqual(dependentsOf([one]), [one]);
  assert.deepEqual(dependentsOf({ dependents: [one] }), [one]);
  assert.deepEqual(dependentsOf({}), []);
});

test("describeFailure says what happened by error code and status", () => {
  assert.match(describeFailure(409, { code: "conflict" }), /changed in the cluster/);
  assert.match(describeFailure(422, { code: "warnings-not-accepted", message: "1 warning" }), /unless you apply anyway\. 1 warning/);
  assert.match(describeFailure(502, { code: "bad-gateway", message: "timeout" }), /did not answer: nothing was written\. timeout/);
  assert.match(describeFailure(409, { code: "already-exists" }), /already exists/);
  assert.match(describeFailure(502, { code: "cluster-unreachable", message: "timed out" }), /did not answer: nothing was written\. timed out/);
  assert.equal(describeFailure(500, null), "Error 500.");
  assert.match(describeFailure(0, null), /server did not answer/);
});
