// The keyboard navigation's pure part (graph-keynav.js): where an arrow key leads, the Tab order, what is read out.
import assert from "node:assert/strict";
import { test } from "node:test";

import { describeEdge, describeNode, nearestInDirection, readingOrder } from "../../static/dashboard/graph-keynav.js";

//        a(0,0)      b(100,0)
//                    c(100,30)     d(300,-10)
// e(-50,200)
const POINTS = [
  { id: "a", x: 0, y: 0 },
  { id: "b", x: 100, y: 0 },
  { id: "c", x: 100, y: 30 },
  { id: "d", x: 300, y: -10 },
  { id: "e", x: -50, y: 200 },
];
const at = (id) => POINTS.find((p) => p.id === id);

test("an arrow goes to the nearest point that way, in line before a nearer one off to the side", () => {
  assert.equal(nearestInDirection(POINTS, at("a"), "ArrowRight"), "b");
  assert.equal(nearestInDirection(POINTS, at("b"), "ArrowRight"), "d");
  assert.equal(nearestInDirection(POINTS, at("b"), "ArrowDown"), "c");
  assert.equal(nearestInDirection(POINTS, at("c"), "ArrowUp"), "b");
  assert.equal(nearestInDirection(POINTS, at("a"), "ArrowDown"), "c"); // 30 down and 100 across beats 200 and 50
  assert.equal(nearestInDirection(POINTS, at("c"), "ArrowLeft"), "a");
});

test("an arrow with nothing that way leads nowhere", () => {
  assert.equal(nearestInDirection(POINTS, at("e"), "ArrowDown"), "");
  assert.equal(nearestInDirection(POINTS, at("d"), "ArrowRight"), "");
  assert.equal(nearestInDirection(POINTS, at("a"), "PageDown"), "");
});

test("reading order is by rows, left to right, rows close in height counting as one", () => {
  assert.deepEqual(readingOrder(POINTS), ["a", "b", "d", "c", "e"]);
  assert.deepEqual(readingOrder(POINTS, 50), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(readingOrder([]), []);
});

test("a node is read out with its name, type, namespace and rate; an edge with its ends", () => {
  const reviews = { id: "n1", _name: "reviews", nodeType: "service", namespace: "bookinfo", _rps: 12.345 };
  const v2 = { id: "n2", _name: "reviews", version: "v2", nodeType: "app", namespace: "bookinfo", _rps: 0.5 };
  assert.equal(describeNode(reviews), "reviews, service, namespace bookinfo, 12.3 rps");
  assert.equal(describeNode({ ...v2, _rps: 0 }), "reviews v2, app, namespace bookinfo, no traffic");
  assert.equal(describeEdge({ _protocol: "http", _rps: 0.5 }, reviews, v2), "Edge from reviews to reviews v2, http, 0.50 rps");
  assert.equal(describeEdge({ _protocol: "tcp", _rps: 0, _bytes: 2048 }, reviews, v2), "Edge from reviews to reviews v2, tcp, 2.0 kB/s");
});
