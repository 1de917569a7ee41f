"""Unit tests of the pure Istio routing helpers: ``simulator.routing`` and the modules it builds on."""

from __future__ import annotations

import random

import pytest

from simulator.destination_rules import destination_rule_for
from simulator.mesh_snapshot import MeshSnapshot, host_candidates
from simulator.mutual_tls import decide_mutual_tls, peer_authentication_mode
from simulator.request_matching import RequestAttributes, request_matches, string_matches
from simulator.route_policies import (
    DEFAULT_RETRY_POLICY,
    Destination,
    parse_duration_seconds,
    parse_fault_policy,
    parse_retry_policy,
    should_retry,
)
from simulator.routing import choose_weighted, decide_http_route
from simulator.traffic import TrafficEngine
from tests.simulator_traffic.bookinfo_objects import (
    NS,
    FakeCluster,
    all_destination_rules,
    bookinfo,
    destination_rule,
    route_to,
    virtual_service,
)

REVIEWS = "reviews.bookinfo.svc.cluster.local"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7s", 7.0),
        ("0.5s", 0.5),
        ("100ms", 0.1),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        (2, 2.0),
        ("", None),
        ("7", None),
        ("s", None),
        ("5 s", None),
        (None, None),
    ],
)
def test_parse_duration(text: object, seconds: float | None) -> None:
    assert parse_duration_seconds(text) == seconds


def test_host_candidates_resolve_short_names_in_the_config_namespace() -> None:
    assert host_candidates("reviews", "bookinfo") == {REVIEWS}
    assert host_candidates("reviews", "other") == {"reviews.other.svc.cluster.local"}
    assert REVIEWS in host_candidates("reviews.bookinfo", "x")
    assert REVIEWS in host_candidates("reviews.bookinfo.svc", "x")
    assert host_candidates("Reviews.Bookinfo.svc.cluster.local.", "x") == {REVIEWS}


def test_string_matches() -> None:
    assert string_matches({"exact": "jason"}, "jason")
    assert not string_matches({"exact": "jason"}, "jasonx")
    assert not string_matches({"exact": "jason"}, None)
    assert string_matches({"prefix": "/api"}, "/api/v1/products")
    assert string_matches({"regex": "ja.*"}, "jason") and not string_matches({"regex": "ason"}, "jason")
    assert string_matches({}, "anything") and not string_matches({}, None)
    assert string_matches({"prefix": "/API"}, "/api/x", ignore_case=True)


def test_request_match_block_ands_conditions_and_checks_source_labels() -> None:
    request = RequestAttributes(
        uri="/ratings/0?x=1",
        method="GET",
        headers={"End-User": "jason"},
        source_labels={"app": "reviews", "version": "v2"},
        source_namespace=NS,
    )
    assert request_matches(
        {
            "uri": {"prefix": "/ratings"},
            "headers": {"end-user": {"exact": "jason"}},
            "method": {"exact": "GET"},
            "sourceLabels": {"app": "reviews"},
            "queryParams": {"x": {"exact": "1"}},
        },
        request,
    )
    assert not request_matches({"uri": {"prefix": "/ratings"}, "method": {"exact": "POST"}}, request)
    assert not request_matches({"sourceLabels": {"version": "v3"}}, request)
    assert not request_matches({"withoutHeaders": {"end-user": {}}}, request)
    assert not request_matches({"sourceNamespace": "other"}, request)
    assert not request_matches({"gateways": ["bookinfo-gateway"]}, request)


def test_routes_are_ordered_and_match_blocks_are_ored() -> None:
    objects = bookinfo()
    objects["virtualservices"] = [
        virtual_service(
            "reviews",
            [
                {
                    "match": [
                        {"headers": {"end-user": {"exact": "jason"}}},
                        {"uri": {"exact": "/reviews/7"}},
                    ],
                    "route": [route_to("reviews", "v2")],
                },
                {"match": [{"uri": {"prefix": "/reviews"}}], "route": [route_to("reviews", "v3")]},
                {"route": [route_to("reviews", "v1")]},
            ],
        )
    ]
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)

    def subset_for(uri: str, headers: dict[str, str] | None = None) -> str | None:
        decision = decide_http_route(snapshot, REVIEWS, RequestAttributes(uri=uri, headers=headers or {}))
        assert decision is not None
        return decision.destinations[0][0].subset

    assert subset_for("/reviews/0", {"end-user": "jason"}) == "v2"
    assert subset_for("/reviews/7") == "v2"
    assert subset_for("/reviews/0") == "v3"
    assert subset_for("/other") == "v1"


def test_no_virtual_service_gives_the_default_route_and_unmatched_routes_give_none() -> None:
    objects = bookinfo()
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    decision = decide_http_route(snapshot, REVIEWS, RequestAttributes(uri="/"))
    assert decision is not None
    assert decision.destinations == ((Destination(REVIEWS), 100.0),)
    assert decision.retries == DEFAULT_RETRY_POLICY
    objects["virtualservices"] = [
        virtual_service("reviews", [{"match": [{"uri": {"exact": "/only"}}], "route": [route_to("reviews")]}])
    ]
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    assert decide_http_route(snapshot, REVIEWS, RequestAttributes(uri="/")) is None


def test_virtual_service_in_another_namespace_resolves_short_hosts_there() -> None:
    objects = bookinfo()
    objects["virtualservices"] = [virtual_service("reviews", [{"route": [route_to("reviews", "v1")]}], ns="other")]
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    decision = decide_http_route(snapshot, REVIEWS, RequestAttributes(uri="/"))
    assert decision is not None and decision.virtual_service is None  # it is about reviews.other


def test_oldest_virtual_service_wins_for_sidecars() -> None:
    objects = bookinfo()
    objects["virtualservices"] = [
        virtual_service(
            "reviews", [{"route": [route_to("reviews", "v3")]}], name="newer", created="2024-02-01T00:00:00Z"
        ),
        virtual_service(
            "reviews", [{"route": [route_to("reviews", "v2")]}], name="older", created="2024-01-01T00:00:00Z"
        ),
    ]
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    decision = decide_http_route(snapshot, REVIEWS, RequestAttributes(uri="/"))
    assert decision is not None and decision.virtual_service == "bookinfo/older"


def test_choose_weighted_is_deterministic_and_proportional() -> None:
    destinations = ((Destination("a"), 80.0), (Destination("b"), 20.0), (Destination("c"), 0.0))
    picks = [choose_weighted(destinations, random.Random(1)) for _ in range(3)]
    assert picks[0] == picks[1] == picks[2]
    rng = random.Random(4)
    hosts = [choose_weighted(destinations, rng).host for _ in range(5000)]  # type: ignore[union-attr]
    assert hosts.count("c") == 0 and abs(hosts.count("b") / 5000 - 0.2) < 0.02


def test_fault_and_retry_parsing() -> None:
    fault = parse_fault_policy(
        {
            "delay": {"fixedDelay": "7s", "percent": 50},
            "abort": {"httpStatus": 500, "percentage": {"value": 12.5}},
        }
    )
    assert (fault.delay_seconds, fault.delay_percent, fault.abort_status, fault.abort_percent) == (
        7.0,
        50,
        500,
        12.5,
    )
    assert parse_fault_policy({"abort": {"httpStatus": 503}}).abort_percent == 100.0
    policy = parse_retry_policy({"attempts": 3, "perTryTimeout": "2s", "retryOn": "gateway-error,connect-failure,409"})
    assert (policy.attempts, policy.per_try_timeout_seconds) == (3, 2.0)
    assert should_retry(policy, 503, "-") and should_retry(policy, 409, "-") and not should_retry(policy, 500, "-")
    assert should_retry(policy, 503, "UF") and not should_retry(policy, 404, "-")
    assert should_retry(parse_retry_policy({"retryOn": "5xx"}), 0, "UT")
    assert parse_retry_policy({"attempts": 0}).attempts == 0
    assert should_retry(DEFAULT_RETRY_POLICY, 503, "-") and not should_retry(DEFAULT_RETRY_POLICY, 500, "-")


def test_destination_rule_precedence_client_namespace_first() -> None:
    objects = bookinfo()
    local = destination_rule("reviews", ("v1",), ns="client")
    objects["destinationrules"] = [*all_destination_rules(), local]
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    assert destination_rule_for(snapshot, REVIEWS, NS)["metadata"]["namespace"] == NS  # type: ignore[index]
    # a short host in namespace "client" means reviews.client: it does not apply to bookinfo's reviews
    assert destination_rule_for(snapshot, REVIEWS, "client")["metadata"]["namespace"] == NS  # type: ignore[index]
    local["spec"]["host"] = REVIEWS
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    assert destination_rule_for(snapshot, REVIEWS, "client")["metadata"]["namespace"] == "client"  # type: ignore[index]


def test_peer_authentication_precedence_and_mutual_tls_decision() -> None:
    objects = bookinfo()
    objects["peerauthentications"] = [
        {"metadata": {"name": "mesh", "namespace": "istio-system"}, "spec": {"mtls": {"mode": "STRICT"}}},
        {"metadata": {"name": "ns", "namespace": NS}, "spec": {"mtls": {"mode": "PERMISSIVE"}}},
        {
            "metadata": {"name": "ratings", "namespace": NS},
            "spec": {"selector": {"matchLabels": {"app": "ratings"}}, "mtls": {"mode": "DISABLE"}},
        },
    ]
    snapshot = MeshSnapshot.from_reader(FakeCluster(objects).read_objects)
    modes = {pod.workload: peer_authentication_mode(snapshot, pod) for pod in snapshot.pods}
    assert modes["ratings-v1"] == "DISABLE" and modes["details-v1"] == "PERMISSIVE"
    assert modes["istio-ingressgateway"] == "STRICT"
    assert decide_mutual_tls(True, True, "PERMISSIVE", None) == (True, None)
    assert decide_mutual_tls(True, True, "DISABLE", None) == (False, None)
    assert decide_mutual_tls(True, True, "STRICT", "DISABLE") == (False, "UC")
    assert decide_mutual_tls(False, True, "STRICT", None) == (False, "UC")
    assert decide_mutual_tls(True, False, "PERMISSIVE", None) == (False, None)


def test_source_labels_match_faults_only_calls_from_reviews_v3() -> None:
    objects = bookinfo()
    objects["destinationrules"] = all_destination_rules()
    objects["virtualservices"] = [
        virtual_service(
            "ratings",
            [
                {
                    "match": [{"sourceLabels": {"app": "reviews", "version": "v3"}}],
                    "fault": {"abort": {"httpStatus": 503}},
                    "route": [route_to("ratings", "v1")],
                },
                {"route": [route_to("ratings", "v1")]},
            ],
        )
    ]
    engine = TrafficEngine(FakeCluster(objects).read_objects, seed=1, rps=100.0)
    engine.step(3)
    snapshot = engine.counters()
    aborted = snapshot.counter_total("istio_requests_total", response_flags="FI")
    assert aborted == snapshot.counter_total("istio_requests_total", reporter="source", source_workload="reviews-v3")
    assert aborted == 100
    assert snapshot.counter_total("istio_requests_total", reporter="destination", source_workload="reviews-v3") == 0
