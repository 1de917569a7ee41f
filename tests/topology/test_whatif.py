"""The what-if computation on hand-derived Bookinfo cases (``topology.whatif``): no database, literal graphs.

The graph is a versioned-app graph with service nodes, readable ids. Every number in an assertion is derived in
the comment beside it from the literal rates of the graph and the routing proposed.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.istio_config.checks_support import BOOKINFO_NETWORKING
from topology.whatif import compute_whatif
from topology.whatif_model import (
    Estimate,
    MeshInventory,
    PredictedEdge,
    ProposedChange,
    RoutingObject,
    ServiceBackend,
    WhatIfResult,
    WorkloadBackend,
)
from topology.whatif_routing import Caller, RoutingConfig, evaluate_match, parse_duration_ms

NS = "bookinfo"
GW = "gw"
JASON = [{"headers": {"end-user": {"exact": "jason"}}}]

INVENTORY = MeshInventory(
    services=tuple(
        ServiceBackend(NS, name, {"app": name}) for name in ("productpage", "details", "reviews", "ratings")
    ),
    workloads=(
        WorkloadBackend(NS, "productpage-v1", {"app": "productpage", "version": "v1"}),
        WorkloadBackend(NS, "details-v1", {"app": "details", "version": "v1"}),
        WorkloadBackend(NS, "reviews-v1", {"app": "reviews", "version": "v1"}),
        WorkloadBackend(NS, "reviews-v2", {"app": "reviews", "version": "v2"}),
        WorkloadBackend(NS, "reviews-v3", {"app": "reviews", "version": "v3"}),
        WorkloadBackend(NS, "ratings-v1", {"app": "ratings", "version": "v1"}),
    ),
)


def svc(name: str) -> str:
    return f"svc-{name}"


def node(node_id: str) -> dict[str, Any]:
    if node_id == GW:
        data: dict[str, Any] = {"nodeType": "app", "namespace": "istio-system", "workload": "istio-ingressgateway"}
        data.update(app="istio-ingressgateway", isGateway={"ingressInfo": {}})
    elif node_id.startswith("svc-"):
        data = {"nodeType": "service", "namespace": NS, "service": node_id[4:]}
    else:
        app, version = node_id.rsplit("-", 1)
        data = {"nodeType": "app", "namespace": NS, "workload": node_id, "app": app, "version": version}
    return {"data": {"id": node_id, "cluster": "Kubernetes", **data}}


def graph(edges: list[tuple[str, str, float]], errors: dict[tuple[str, str], float] | None = None) -> dict[str, Any]:
    """A versioned-app graph of http edges ``(source, target, requests/s)``; ``errors``: 5xx/s of some edges."""
    ids = sorted({e[0] for e in edges} | {e[1] for e in edges})
    wire_edges = []
    for source, target, rate in edges:
        rates = {"http": f"{rate:.2f}"}
        failing = (errors or {}).get((source, target), 0.0)
        if failing:
            rates["http5xx"] = f"{failing:.2f}"
        wire_edges.append(
            {
                "data": {
                    "id": f"{source}>{target}",
                    "source": source,
                    "target": target,
                    "traffic": {"protocol": "http", "rates": rates},
                    "responseTimes": {"avg": "20.00", "p50": "15.00", "p95": "40.00", "p99": "80.00"},
                }
            }
        )
    return {"graphType": "versionedApp", "elements": {"nodes": [node(i) for i in ids], "edges": wire_edges}}


def bookinfo(reviews: dict[str, float], ratings_errors: float = 0.0) -> dict[str, Any]:
    """Bookinfo with 12 requests/s at the gateway, every page calling details and reviews once, reviews-v2 and
    -v3 calling ratings once per request, reviews-v1 never; ``reviews`` gives each reviews version's requests/s."""
    total = sum(reviews.values())
    edges = [
        (GW, svc("productpage"), 12.0),
        (svc("productpage"), "productpage-v1", 12.0),
        ("productpage-v1", svc("details"), 12.0),
        (svc("details"), "details-v1", 12.0),
        ("productpage-v1", svc("reviews"), total),
    ]
    edges += [(svc("reviews"), f"reviews-{v}", rate) for v, rate in reviews.items() if rate]
    to_ratings = 0.0
    for version in ("v2", "v3"):
        if reviews.get(version):
            edges.append((f"reviews-{version}", svc("ratings"), reviews[version]))
            to_ratings += reviews[version]
    if to_ratings:
        edges.append((svc("ratings"), "ratings-v1", to_ratings))
    failing = {(svc("ratings"), "ratings-v1"): ratings_errors} if ratings_errors else {}
    return graph(edges, failing)


def virtual_service(name: str, http: list[dict[str, Any]]) -> RoutingObject:
    return RoutingObject("VirtualService", NS, name, {"hosts": [name], "http": http})


def to(host: str, subset: str, weight: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"destination": {"host": host, "subset": subset}}
    if weight is not None:
        entry["weight"] = weight
    return entry


def destination_rule(host: str, *versions: str) -> RoutingObject:
    subsets = [{"name": v, "labels": {"version": v}} for v in versions]
    return RoutingObject("DestinationRule", NS, host, {"host": host, "subsets": subsets})


RULES = [destination_rule("reviews", "v1", "v2", "v3"), destination_rule("ratings", "v1")]


def apply(obj: RoutingObject) -> ProposedChange:
    return ProposedChange("apply", obj)


def edge(result: WhatIfResult, source: str, target: str) -> PredictedEdge:
    found = [e for e in result.edges if (e.source, e.target) == (source, target)]
    assert found, f"no edge {source} -> {target}: {[(e.source, e.target) for e in result.edges]}"
    return found[0]


def rate(result: WhatIfResult, source: str, target: str) -> float | None:
    return edge(result, source, target).predicted.rate.value


def test_all_traffic_to_v1_moves_reviews_to_v1_and_silences_ratings() -> None:
    # Today: no VirtualService, three reviews pods: 12 requests/s split 4/4/4; v2 and v3 send 4 each to ratings.
    result = compute_whatif(
        bookinfo({"v1": 4, "v2": 4, "v3": 4}),
        INVENTORY,
        RULES,
        [apply(virtual_service("reviews", [{"route": [to("reviews", "v1")]}]))],
    )
    assert result.affected_services == ("bookinfo/reviews",)
    assert rate(result, svc("reviews"), "reviews-v1") == pytest.approx(12.0)  # all 12 to v1
    assert edge(result, svc("reviews"), "reviews-v1").delta == pytest.approx(8.0)  # 12 - 4
    assert edge(result, svc("reviews"), "reviews-v1").kind == "routed"
    assert rate(result, svc("reviews"), "reviews-v2") == 0.0
    assert rate(result, svc("reviews"), "reviews-v3") == 0.0
    # v2 and v3 get nothing (factor 0), so their calls to ratings go, and ratings-v1 with them.
    assert rate(result, "reviews-v2", svc("ratings")) == 0.0
    assert rate(result, "reviews-v3", svc("ratings")) == 0.0
    assert rate(result, svc("ratings"), "ratings-v1") == 0.0
    assert edge(result, svc("ratings"), "ratings-v1").kind == "scaled"
    # What calls reviews, and details, do not change.
    assert rate(result, "productpage-v1", svc("reviews")) == pytest.approx(12.0)
    assert edge(result, "productpage-v1", svc("details")).kind == "unchanged"
    assert not edge(result, svc("details"), "details-v1").changed
    assert {(e.source, e.target) for e in result.changed_edges} == {
        (svc("reviews"), "reviews-v1"),
        (svc("reviews"), "reviews-v2"),
        (svc("reviews"), "reviews-v3"),
        ("reviews-v2", svc("ratings")),
        ("reviews-v3", svc("ratings")),
        (svc("ratings"), "ratings-v1"),
    }


def test_fifty_fifty_v1_v3_scales_ratings_with_v3() -> None:
    # 12 requests/s, weights 50/50: 6 to v1, 6 to v3, none to v2.
    proposed = virtual_service("reviews", [{"route": [to("reviews", "v1", 50), to("reviews", "v3", 50)]}])
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    assert rate(result, svc("reviews"), "reviews-v1") == pytest.approx(6.0)
    assert rate(result, svc("reviews"), "reviews-v3") == pytest.approx(6.0)
    assert rate(result, svc("reviews"), "reviews-v2") == 0.0
    # v3 goes from 4 to 6 (factor 1.5) and calls ratings once per request: 4 x 1.5 = 6; v2 calls nothing.
    assert rate(result, "reviews-v3", svc("ratings")) == pytest.approx(6.0)
    assert rate(result, "reviews-v2", svc("ratings")) == 0.0
    # ratings is not rerouted: it gets 6 where it got 8 and keeps its one workload, so ratings-v1 gets 6.
    assert rate(result, svc("ratings"), "ratings-v1") == pytest.approx(6.0)
    assert edge(result, svc("ratings"), "ratings-v1").delta == pytest.approx(-2.0)


def test_jason_route_with_unknown_share_gives_bounds() -> None:
    # Today no VirtualService: nothing in telemetry says how many requests carry end-user: jason.
    proposed = virtual_service(
        "reviews", [{"match": JASON, "route": [to("reviews", "v2")]}, {"route": [to("reviews", "v1")]}]
    )
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    to_v2 = edge(result, svc("reviews"), "reviews-v2").predicted.rate
    to_v1 = edge(result, svc("reviews"), "reviews-v1").predicted.rate
    # jason's share is anywhere in 0..100%: v2 gets 0..12, and v1 (everyone else) 0..12.
    assert (to_v2.value, to_v2.low, to_v2.high) == (None, 0.0, pytest.approx(12.0))
    assert (to_v1.value, to_v1.low, to_v1.high) == (None, 0.0, pytest.approx(12.0))
    assert edge(result, svc("reviews"), "reviews-v2").delta is None
    assert edge(result, svc("reviews"), "reviews-v1").predicted.error_percent == 0.0  # v1 fails nothing today
    assert rate(result, svc("reviews"), "reviews-v3") == 0.0  # no route leads to v3: exactly 0
    # v2 calls ratings once per request: 0..12; ratings-v1 with it.
    ratings = edge(result, svc("ratings"), "ratings-v1").predicted.rate
    assert (ratings.low, ratings.high) == (0.0, pytest.approx(12.0))
    assert any("unknown share" in n and "headers" in n for n in result.notes)
    # The edge into reviews is still exactly 12: routing changes where requests go, not how many.
    assert rate(result, "productpage-v1", svc("reviews")) == pytest.approx(12.0)


def test_jason_route_with_share_known_from_todays_header_route() -> None:
    # Today jason goes to v2 and everyone else to v1: 1 of 10 requests/s reaches v2, so jason's share is 10%.
    today = virtual_service(
        "reviews", [{"match": JASON, "route": [to("reviews", "v2")]}, {"route": [to("reviews", "v1")]}]
    )
    proposed = virtual_service(
        "reviews", [{"match": JASON, "route": [to("reviews", "v3")]}, {"route": [to("reviews", "v1")]}]
    )
    result = compute_whatif(bookinfo({"v1": 9, "v2": 1}), INVENTORY, [*RULES, today], [apply(proposed)])
    v3 = "whatif-wl-bookinfo-reviews-v3"  # v3 had no traffic today: not in the graph, a new node
    assert rate(result, svc("reviews"), v3) == pytest.approx(1.0)  # 10% of 10
    assert rate(result, svc("reviews"), "reviews-v1") == pytest.approx(9.0)  # the other 90%
    assert rate(result, svc("reviews"), "reviews-v2") == 0.0
    assert any("taken from telemetry (10.0%" in n for n in result.notes)
    # The new node's error rate and its calls are unknown.
    assert [n["workload"] for n in result.new_nodes] == ["reviews-v3"]
    new_edge = edge(result, svc("reviews"), v3)
    assert new_edge.current.rate.value == 0.0 and new_edge.predicted.errors.value is None
    assert any("reviews-v3 is not in the graph today" in n for n in result.notes)
    # v2 loses its 1 request/s, and its 1 call/s to ratings with it.
    assert rate(result, "reviews-v2", svc("ratings")) == 0.0


def test_abort_for_all_ratings_requests_fails_the_callers_edges() -> None:
    # A 100% abort with 500 on ratings: v2's and v3's 4 requests/s each all fail before reaching ratings-v1.
    proposed = virtual_service(
        "ratings",
        [
            {
                "fault": {"abort": {"percentage": {"value": 100}, "httpStatus": 500}},
                "route": [to("ratings", "v1")],
            }
        ],
    )
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    for caller in ("reviews-v2", "reviews-v3"):
        predicted = edge(result, caller, svc("ratings")).predicted
        assert predicted.rate.value == pytest.approx(4.0)  # as many requests as today
        assert predicted.errors.value == pytest.approx(4.0)  # every one aborted
        assert predicted.error_percent == pytest.approx(100.0)
        assert "fault abort 500" in edge(result, caller, svc("ratings")).notes
    assert rate(result, svc("ratings"), "ratings-v1") == 0.0  # nothing gets through
    assert rate(result, svc("reviews"), "reviews-v2") == pytest.approx(4.0)  # reviews is not rerouted
    assert result.affected_services == ("bookinfo/ratings",)


def test_half_abort_keeps_todays_error_ratio_of_the_rest() -> None:
    # ratings-v1 fails 2 of its 8 requests/s today (25%). With a 50% abort on ratings, each caller's 4 requests/s:
    # 2 aborted, 2 reach ratings-v1 of which 25% fail (0.5): 2.5 errors/s per caller; ratings-v1 gets 2 + 2 = 4.
    proposed = virtual_service(
        "ratings",
        [{"fault": {"abort": {"percentage": {"value": 50}, "httpStatus": 503}}, "route": [to("ratings", "v1")]}],
    )
    result = compute_whatif(
        bookinfo({"v1": 4, "v2": 4, "v3": 4}, ratings_errors=2.0), INVENTORY, RULES, [apply(proposed)]
    )
    assert edge(result, "reviews-v2", svc("ratings")).predicted.errors.value == pytest.approx(2.5)
    to_ratings = edge(result, svc("ratings"), "ratings-v1").predicted
    assert (to_ratings.rate.value, to_ratings.errors.value) == (pytest.approx(4.0), pytest.approx(1.0))


def test_deleting_the_virtual_service_spreads_reviews_over_its_pods() -> None:
    # Today all 12 requests/s go to v1 (v2 and v3 idle, not in the graph). Deleting the VirtualService leaves
    # Kubernetes' even spread over three pods, one per version: 4 each.
    today = virtual_service("reviews", [{"route": [to("reviews", "v1")]}])
    result = compute_whatif(bookinfo({"v1": 12}), INVENTORY, [*RULES, today], [ProposedChange("delete", today)])
    assert rate(result, svc("reviews"), "reviews-v1") == pytest.approx(4.0)
    assert edge(result, svc("reviews"), "reviews-v1").delta == pytest.approx(-8.0)
    for version in ("v2", "v3"):
        added = edge(result, svc("reviews"), f"whatif-wl-bookinfo-reviews-{version}")
        assert added.predicted.rate.value == pytest.approx(4.0)
        assert added.predicted.errors.value is None  # no traffic today: error rate unknown, not invented
    assert edge(result, svc("reviews"), "reviews-v1").predicted.errors.value == 0.0  # v1's 0% today


def test_pods_weight_the_spread_without_a_virtual_service() -> None:
    # v1 with 2 ready pods, v2 with 1, v3 with none: endpoints 2:1, so 12 requests/s give 8 and 4.
    inventory = MeshInventory(
        services=INVENTORY.services,
        workloads=tuple(
            WorkloadBackend(w.namespace, w.name, w.labels, {"reviews-v1": 2, "reviews-v3": 0}.get(w.name, 1))
            for w in INVENTORY.workloads
        ),
    )
    today = virtual_service("reviews", [{"route": [to("reviews", "v1")]}])
    result = compute_whatif(bookinfo({"v1": 12}), inventory, [*RULES, today], [ProposedChange("delete", today)])
    assert rate(result, svc("reviews"), "reviews-v1") == pytest.approx(8.0)
    assert rate(result, svc("reviews"), "whatif-wl-bookinfo-reviews-v2") == pytest.approx(4.0)
    assert not [e for e in result.edges if e.target.endswith("reviews-v3")]


def test_missing_subset_fails_with_503() -> None:
    # The route names subset v4, which no DestinationRule defines: all 12 requests/s fail with 503 (NC).
    proposed = virtual_service("reviews", [{"route": [to("reviews", "v4")]}])
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    caller = edge(result, "productpage-v1", svc("reviews"))
    assert (caller.predicted.rate.value, caller.predicted.errors.value) == (pytest.approx(12.0), pytest.approx(12.0))
    assert any("subset v4" in n for n in caller.notes)
    assert rate(result, svc("reviews"), "reviews-v1") == 0.0


def test_mirror_adds_copies_to_the_mirror_subset_without_changing_responses() -> None:
    # All 12 requests/s to v1, 50% mirrored to v3: v3 gets 6 copies (mirror edge), the caller still sees 12.
    proposed = virtual_service(
        "reviews",
        [
            {
                "route": [to("reviews", "v1")],
                "mirror": {"host": "reviews", "subset": "v3"},
                "mirrorPercentage": {"value": 50},
            }
        ],
    )
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    assert rate(result, svc("reviews"), "reviews-v1") == pytest.approx(12.0)
    mirrored = edge(result, svc("reviews"), "reviews-v3")
    assert (mirrored.kind, mirrored.predicted.rate.value) == ("mirror", pytest.approx(6.0))
    # The caller's edge counts the 12 requests and the 6 copies its proxy sends (both leave it).
    assert rate(result, "productpage-v1", svc("reviews")) == pytest.approx(18.0)
    # v3 still calls ratings once per request it serves, copies included: 6.
    assert rate(result, "reviews-v3", svc("ratings")) == pytest.approx(6.0)


def test_delay_raises_the_expected_response_time() -> None:
    # A 7 s delay for 10% of ratings requests: average 20 ms + 0.1 x 7000 ms = 720 ms on the callers' edges.
    proposed = virtual_service(
        "ratings",
        [{"fault": {"delay": {"percentage": {"value": 10}, "fixedDelay": "7s"}}, "route": [to("ratings", "v1")]}],
    )
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    delayed = edge(result, "reviews-v2", svc("ratings"))
    assert delayed.delay_ms == 7000.0
    assert delayed.delayed_share.value == pytest.approx(0.1)
    assert delayed.response_time_ms is not None and delayed.response_time_ms.value == pytest.approx(720.0)
    assert delayed.changed and delayed.predicted.rate.value == pytest.approx(4.0)


def test_timeout_below_todays_p95_gives_bounded_errors() -> None:
    # Timeout 30 ms on reviews; reviews-v1's p95 today is 40 ms, p50 15 ms: between 5% and 50% time out.
    proposed = virtual_service("reviews", [{"timeout": "30ms", "route": [to("reviews", "v1")]}])
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    errors = edge(result, "productpage-v1", svc("reviews")).predicted.errors
    assert (errors.value, errors.low, errors.high) == (None, pytest.approx(0.6), pytest.approx(6.0))  # 12 x 5%..50%


def test_source_labels_match_is_evaluated_exactly() -> None:
    # Only reviews-v2's calls to ratings are aborted: v2's 4 requests/s all fail, v3's 4 pass.
    proposed = virtual_service(
        "ratings",
        [
            {
                "match": [{"sourceLabels": {"app": "reviews", "version": "v2"}}],
                "fault": {"abort": {"percentage": {"value": 100}, "httpStatus": 500}},
                "route": [to("ratings", "v1")],
            },
            {"route": [to("ratings", "v1")]},
        ],
    )
    result = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, RULES, [apply(proposed)])
    assert edge(result, "reviews-v2", svc("ratings")).predicted.errors.value == pytest.approx(4.0)
    assert edge(result, "reviews-v3", svc("ratings")).predicted.errors.value == 0.0
    assert rate(result, svc("ratings"), "ratings-v1") == pytest.approx(4.0)  # only v3's get through


def test_no_change_predicts_todays_graph() -> None:
    today = virtual_service("reviews", [{"route": [to("reviews", "v1")]}])
    result = compute_whatif(bookinfo({"v1": 12}), INVENTORY, [*RULES, today], [apply(today)])
    assert result.affected_services == ()
    assert result.changed_edges == ()


def test_match_evaluation_and_durations() -> None:
    caller = Caller(NS, {"app": "reviews", "version": "v2"})
    assert evaluate_match(None, caller) is True
    assert evaluate_match(JASON, caller) is None
    assert evaluate_match([{"sourceLabels": {"version": "v3"}}], caller) is False
    assert evaluate_match([{"sourceLabels": {"version": "v3"}}, {"sourceNamespace": NS}], caller) is True
    assert evaluate_match([{"sourceNamespace": NS, "uri": {"prefix": "/"}}], caller) is None
    assert [parse_duration_ms(t) for t in ("7s", "0.5s", "100ms", "1m", "x")] == [7000, 500, 100, 60000, None]
    config = RoutingConfig([], INVENTORY)
    assert config.resolve_host("reviews.bookinfo.svc.cluster.local", "other") == (NS, "reviews")
    assert config.resolve_host("reviews", NS) == (NS, "reviews")
    assert config.resolve_host("www.example.com", NS) is None
    assert Estimate.between(1.0, 1.0) == Estimate.exact(1.0)


def test_an_idle_workloads_calls_are_learned_from_an_older_graph() -> None:
    # Today all 12 requests/s go to v1: v3 and ratings are not in the graph. An older graph (no routing then) shows
    # v3 calling ratings once per request with no errors. 50/50 v1/v3 sends 6 to v3, so 6 to ratings, all to
    # ratings-v1 (the only ratings workload; ratings has no traffic today to split as today: routed by its config).
    today = virtual_service("reviews", [{"route": [to("reviews", "v1")]}])
    proposed = virtual_service("reviews", [{"route": [to("reviews", "v1", 50), to("reviews", "v3", 50)]}])
    older = {**bookinfo({"v1": 4, "v2": 4, "v3": 4}), "snapshot": {"id": 7, "takenAt": "2026-12-07T09:00:00+00:00"}}
    result = compute_whatif(bookinfo({"v1": 12}), INVENTORY, [*RULES, today], [apply(proposed)], [older])
    v3, ratings, ratings_v1 = (
        "whatif-wl-bookinfo-reviews-v3",
        "whatif-svc-bookinfo-ratings",
        "whatif-wl-bookinfo-ratings-v1",
    )
    assert rate(result, svc("reviews"), v3) == pytest.approx(6.0)
    assert edge(result, svc("reviews"), v3).predicted.errors.value == 0.0  # 0% in the older graph
    assert rate(result, v3, ratings) == pytest.approx(6.0)
    assert edge(result, v3, ratings).kind == "scaled"
    assert rate(result, ratings, ratings_v1) == pytest.approx(6.0)
    assert any("taken from snapshot #7 (09:00:00 UTC)" in n for n in result.notes)
    assert not any("is not predicted" in n for n in result.notes)
    # Without the older graph, what v3 calls is unknown and said so.
    alone = compute_whatif(bookinfo({"v1": 12}), INVENTORY, [*RULES, today], [apply(proposed)])
    assert not [e for e in alone.edges if e.source == v3]
    assert any("reviews-v3 is not in the graph today: what it calls is not predicted" in n for n in alone.notes)


def sample(filename: str) -> list[RoutingObject]:
    """The objects of one of Istio's Bookinfo samples (samples/bookinfo/networking), in the bookinfo namespace."""
    documents = yaml.safe_load_all((BOOKINFO_NETWORKING / filename).read_text())
    return [RoutingObject(d["kind"], NS, d["metadata"]["name"], d["spec"]) for d in documents if d]


def test_istios_bookinfo_tasks_from_their_sample_files() -> None:
    rules = sample("destination-rule-all.yaml")
    all_v1 = sample("virtual-service-all-v1.yaml")
    # 1. Request routing, all to v1, from no routing (reviews spread 4/4/4): v1 gets all 12.
    step = compute_whatif(bookinfo({"v1": 4, "v2": 4, "v3": 4}), INVENTORY, rules, [apply(o) for o in all_v1])
    assert rate(step, svc("reviews"), "reviews-v1") == pytest.approx(12.0)
    # 2. jason to v2 (virtual-service-reviews-test-v2) from all-v1: today nothing tells jason's share: 0..12 each.
    test_v2 = sample("virtual-service-reviews-test-v2.yaml")
    step = compute_whatif(bookinfo({"v1": 12}), INVENTORY, [*rules, *all_v1], [apply(o) for o in test_v2])
    to_v2 = edge(step, svc("reviews"), "whatif-wl-bookinfo-reviews-v2").predicted.rate
    assert (to_v2.value, to_v2.low, to_v2.high) == (None, 0.0, pytest.approx(12.0))
    # 3. An abort for jason on ratings (virtual-service-ratings-test-abort) with jason on v2 (1 of 10 requests/s,
    # the only caller of ratings): v2's 1 request/s to ratings, of which an unknown share (jason's) fails.
    abort = sample("virtual-service-ratings-test-abort.yaml")
    routed_now = [*rules, *[o for o in all_v1 if o.name != "reviews"], *test_v2]
    step = compute_whatif(bookinfo({"v1": 9, "v2": 1}), INVENTORY, routed_now, [apply(o) for o in abort])
    failing = edge(step, "reviews-v2", svc("ratings")).predicted
    assert failing.rate.value == pytest.approx(1.0)
    assert (failing.errors.value, failing.errors.low, failing.errors.high) == (None, 0.0, pytest.approx(1.0))
    # 4. Traffic shifting, 50/50 v1/v3 (virtual-service-reviews-50-v3) from all-v1: 6 and 6.
    fifty = sample("virtual-service-reviews-50-v3.yaml")
    step = compute_whatif(bookinfo({"v1": 12}), INVENTORY, [*rules, *all_v1], [apply(o) for o in fifty])
    assert rate(step, svc("reviews"), "reviews-v1") == pytest.approx(6.0)
    assert rate(step, svc("reviews"), "whatif-wl-bookinfo-reviews-v3") == pytest.approx(6.0)
    # 5. Cleanup: deleting the four VirtualServices from all-v1 spreads reviews over its three pods again.
    step = compute_whatif(
        bookinfo({"v1": 12}), INVENTORY, [*rules, *all_v1], [ProposedChange("delete", o) for o in all_v1]
    )
    assert rate(step, svc("reviews"), "reviews-v1") == pytest.approx(4.0)
    assert rate(step, svc("reviews"), "whatif-wl-bookinfo-reviews-v3") == pytest.approx(4.0)
