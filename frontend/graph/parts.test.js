// The pure parts of the graph page's modules (`npm test`): ages, the replay slider's position, the server's hide.
import assert from "node:assert/strict";
import { test } from "node:test";

import { serverHide } from "../../static/dashboard/graph-filters.js";
import { replayIndex } from "../../static/dashboard/graph-replay.js";
import { formatAge } from "../../static/dashboard/graph-status.js";

test("an age is told in seconds, then minutes, then hours", () => {
  assert.equal(formatAge(42.4), "42 s");
  assert.equal(formatAge(600), "10 min");
  assert.equal(formatAge(9000), "2.5 h");
});

test("the replay slider stands on the last snapshot taken at or before the moment, else on the newest", () => {
  const list = [
    { takenAt: "2026-01-01T10:00:00Z" },
    { takenAt: "2026-01-01T10:01:00Z" },
    { takenAt: "2026-01-01T10:02:00Z" },
  ];
  assert.equal(replayIndex(list, ""), 2);
  assert.equal(replayIndex(list, "2026-01-01T10:01:30Z"), 1);
  assert.equal(replayIndex(list, "2026-01-01T10:01:00Z"), 1);
  assert.equal(replayIndex([], "2026-01-01T10:01:00Z"), 0);
});

test("only a hide expression the server evaluates is sent to it", () => {
  assert.equal(serverHide({ hide: " healthy " }), "healthy");
  assert.equal(serverHide({ hide: "rps > 5" }), ""); // a metric: applied in the page only
  assert.equal(serverHide({ hide: "" }), "");
});
