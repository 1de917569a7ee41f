"""What devtools/walkthrough.py reads from a graph answer: reviews' shares, ratings' flags, misplaced boxes."""

from __future__ import annotations

from typing import Any

from devtools.walkthrough import ABORT_FOR_JASON, DELAY_FOR_JASON, FIFTY_V1_V3, SPREAD, GraphView, only


def node(id: str, **data: Any) -> dict[str, Any]:
    return {"data": {"id": id, **data}}


def edge(source: str, target: str, rps: str, responses: dict[str, Any] | None = None) -> dict[str, Any]:
    traffic = {"rates": {"http": rps}, "responses": responses or {"200": {"flags": {"-": "100.0"}}}}
    return {"data": {"id": f"{source}-{target}", "source": source, "target": target, "traffic": traffic}}


def graph(v1: str, v2: str, v3: str, ratings: dict[str, Any] | None = None, *, stray: bool = False) -> GraphView:
    nodes = [
        node("ns", isBox="namespace", namespace="bookinfo"),
        node("rs", nodeType="service", namespace="bookinfo", service="reviews", parent="ns"),
        node("r1", nodeType="app", namespace="bookinfo", app="reviews", version="v1", parent="ns"),
        node("r2", nodeType="app", namespace="bookinfo", app="reviews", version="v2", parent="ns"),
        node("r3", nodeType="app", namespace="bookinfo", app="reviews", version="v3", parent="ns"),
        node("ra", nodeType="service", namespace="bookinfo", service="ratings", parent="ns2" if stray else "ns"),
    ]
    if stray:
        nodes.append(node("ns2", isBox="namespace", namespace="bookinfo"))
    edges = [edge("rs", "r1", v1), edge("rs", "r2", v2), edge("rs", "r3", v3), edge("r3", "ra", v3, ratings)]
    return GraphView({"elements": {"nodes": nodes, "edges": edges}})


def test_shares_of_the_reviews_versions():
    view = graph("5.00", "0.00", "5.00")
    assert view.reviews_versions() == {"v1": 5.0, "v2": 0.0, "v3": 5.0}
    assert FIFTY_V1_V3.done(view) and not only("v3").sign(view)  # from 50/50, v3 is no sign of "all to v3"
    assert only("v3").sign(graph("2", "0", "8")) and not only("v3").done(graph("2", "0", "8"))
    assert SPREAD.done(graph("3.3", "3.3", "3.4")) and not SPREAD.done(graph("5", "2.5", "2.5"))


def test_fault_flags_on_the_edge_to_ratings():
    delayed = graph("0", "0", "10", {"-": {"flags": {"DI,DC": "1.5"}}, "200": {"flags": {"-": "98.5"}}})
    aborted = graph("0", "0", "10", {"500": {"flags": {"FI": "10"}}, "200": {"flags": {"-": "90"}}})
    assert DELAY_FOR_JASON.done(delayed) and not ABORT_FOR_JASON.sign(delayed)
    assert ABORT_FOR_JASON.done(aborted) and not DELAY_FOR_JASON.sign(aborted)
    assert not SPREAD.done(graph("3.3", "3.3", "3.4", {"500": {"flags": {"FI": "10"}}}))


def test_a_second_namespace_box_is_flagged():
    assert graph("1", "1", "1").duplicate_boxes() == []
    assert graph("1", "1", "1", stray=True).duplicate_boxes() == ["namespace box bookinfo/ drawn 2 times"]
