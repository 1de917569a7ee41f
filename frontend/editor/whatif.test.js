// The what-if hand-over between the editor (or a wizard) and the graph page (`npm test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  WHATIF_KEY,
  readWhatIf,
  updateWhatIf,
  whatIfGraphUrl,
  writeWhatIf,
} from "../../static/dashboard/graph-whatif-contract.js";

function fakeStorage() {
  const values = new Map();
  return {
    getItem: (key) => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => values.set(key, String(value)),
  };
}

test("a proposal written is read back, and a new one forgets the old prediction", () => {
  const storage = fakeStorage();
  writeWhatIf(storage, { cluster: "east", namespace: "bookinfo", objects: ["kind: VirtualService"], source: "editor" });
  updateWhatIf(storage, { prediction: { edges: [] }, appliedAt: "2026-01-01T00:00:00Z" });
  assert.deepEqual(readWhatIf(storage).prediction, { edges: [] });
  writeWhatIf(storage, { namespace: "bookinfo", objects: [{ action: "delete", kind: "VirtualService", name: "reviews" }] });
  const read = readWhatIf(storage);
  assert.equal(read.prediction, undefined);
  assert.equal(read.cluster, "");
  assert.equal(read.objects[0].action, "delete");
});

test("what is not a proposal reads as none", () => {
  const storage = fakeStorage();
  assert.equal(readWhatIf(storage), null);
  storage.setItem(WHATIF_KEY, "{not json");
  assert.equal(readWhatIf(storage), null);
  storage.setItem(WHATIF_KEY, JSON.stringify({ namespace: "bookinfo", objects: [] }));
  assert.equal(readWhatIf(storage), null);
  assert.equal(updateWhatIf(storage, { appliedAt: "x" }), null);
  assert.throws(() => writeWhatIf(storage, { namespace: "", objects: ["x"] }));
});

test("the graph URL opens the overlay on the proposal's namespace and cluster", () => {
  const url = whatIfGraphUrl("/graph/", { cluster: "east", namespace: "bookinfo", objects: ["x"] });
  assert.equal(url, "/graph/?namespaces=bookinfo&whatif=1&cluster=east");
  assert.equal(whatIfGraphUrl("/graph/", { namespace: "a b", objects: ["x"] }), "/graph/?namespaces=a+b&whatif=1");
});
