// Unit tests of the traffic-shifting sliders' arithmetic (static/dashboard/wizard-weights.js), run by `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { apportion, rebalance } from "../../static/dashboard/wizard-weights.js";

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

test("apportion splits evenly when every part is 0, extra points to the first", () => {
  assert.deepEqual(apportion([0, 0, 0], 100), [34, 33, 33]);
  assert.deepEqual(apportion([0, 0], 5), [3, 2]);
  assert.deepEqual(apportion([], 10), []);
});

test("apportion keeps proportions and sums exactly", () => {
  assert.deepEqual(apportion([50, 50], 40), [20, 20]);
  assert.deepEqual(apportion([1, 2], 10), [3, 7]); // 3.33 and 6.67: the larger remainder gets the point
  assert.deepEqual(apportion([33, 33, 34], 0), [0, 0, 0]);
});

test("moving one slider rebalances the others in proportion and keeps 100", () => {
  assert.deepEqual(rebalance([34, 33, 33], 0, 50), [50, 25, 25]);
  assert.deepEqual(rebalance([50, 25, 25], 2, 75), [17, 8, 75]); // 25 shared 2:1 is 16.67 / 8.33
  assert.deepEqual(rebalance([100, 0, 0], 1, 30), [70, 30, 0]);
  assert.deepEqual(rebalance([0, 100, 0], 1, 0), [50, 0, 50]); // nothing left to scale: evenly
  for (const [weights, index, value] of [[[34, 33, 33], 1, 71], [[10, 20, 30, 40], 3, 3], [[1, 0, 99], 0, 98]]) {
    const out = rebalance(weights, index, value);
    assert.equal(sum(out), 100);
    assert.equal(out[index], value);
  }
});

test("values are clamped and rounded; a single subset is always 100", () => {
  assert.deepEqual(rebalance([50, 50], 0, 150), [100, 0]);
  assert.deepEqual(rebalance([50, 50], 0, -5), [0, 100]);
  assert.deepEqual(rebalance([50, 50], 1, "40.6"), [59, 41]);
  assert.deepEqual(rebalance([100], 0, 10), [100]);
});
