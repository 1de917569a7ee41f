"""End-to-end traffic scenarios: the Istio Bookinfo tasks, checked through the reported metrics."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.metrics import MetricsSnapshot
from simulator.traffic import TrafficEngine
from simulator.workloads import WorkloadProfile
from tests.simulator_traffic.bookinfo_objects import (
    NS,
    FakeCluster,
    all_destination_rules,
    bookinfo,
    route_to,
    virtual_service,
)

REQUESTS = "istio_requests_total"
JASON = {"headers": {"end-user": {"exact": "jason"}}}


def run(cluster: FakeCluster, requests: int = 3000, **engine_options: Any) -> tuple[TrafficEngine, MetricsSnapshot]:
    engine = TrafficEngine(cluster.read_objects, namespace=NS, seed=7, rps=100.0, **engine_options)
    engine.step(requests / 100.0)
    assert engine.user_requests_sent == requests
    return engine, engine.counters()


def dest_count(snapshot: MetricsSnapshot, **labels: str) -> float:
    return snapshot.counter_total(REQUESTS, reporter="destination", **labels)


def source_count(snapshot: MetricsSnapshot, **labels: str) -> float:
    return snapshot.counter_total(REQUESTS, reporter="source", **labels)


def with_rules(*virtual_services: dict[str, Any], rules: bool = True) -> FakeCluster:
    objects = bookinfo()
    objects["virtualservices"] = list(virtual_services)
    if rules:
        objects["destinationrules"] = all_destination_rules()
    return FakeCluster(objects)


def reviews_split(snapshot: MetricsSnapshot) -> dict[str, float]:
    return {
        version: dest_count(snapshot, destination_workload=f"reviews-{version}", source_workload="productpage-v1")
        for version in ("v1", "v2", "v3")
    }


def test_without_rules_reviews_versions_share_traffic_evenly_and_only_v2_v3_call_ratings() -> None:
    _, snapshot = run(FakeCluster(bookinfo()))
    split = reviews_split(snapshot)
    for version in ("v1", "v2", "v3"):
        assert abs(split[version] - 1000) <= 150, split
    assert sum(split.values()) == 3000
    assert dest_count(snapshot, destination_workload="ratings-v1", source_workload="reviews-v1") == 0
    from_v2 = dest_count(snapshot, destination_workload="ratings-v1", source_workload="reviews-v2")
    from_v3 = dest_count(snapshot, destination_workload="ratings-v1", source_workload="reviews-v3")
    assert (from_v2, from_v3) == (split["v2"], split["v3"])
    assert dest_count(snapshot, destination_workload="details-v1") == 3000
    assert source_count(snapshot, source_workload="istio-ingressgateway", response_code="200") == 3000


def test_virtual_service_all_v1_sends_every_review_to_v1() -> None:
    cluster = with_rules(virtual_service("reviews", [{"route": [route_to("reviews", "v1")]}]))
    _, snapshot = run(cluster, 1000)
    assert reviews_split(snapshot) == {"v1": 1000, "v2": 0, "v3": 0}
    assert dest_count(snapshot, destination_service_name="ratings") == 0


def test_rules_applied_between_ticks_take_effect_on_the_next_tick() -> None:
    cluster = FakeCluster(bookinfo())
    engine = TrafficEngine(cluster.read_objects, seed=3, rps=100.0)
    engine.step(3)
    before = reviews_split(engine.counters())
    for subsets in all_destination_rules():
        cluster.apply("destinationrules", subsets)
    cluster.apply("virtualservices", virtual_service("reviews", [{"route": [route_to("reviews", "v3")]}]))
    engine.step(3)
    after = reviews_split(engine.counters())
    assert after["v1"] == before["v1"] and after["v2"] == before["v2"]
    assert after["v3"] == before["v3"] + 300
    assert cluster.reads.count("virtualservices") == 2


def test_jason_rule_sends_exactly_the_jason_share_to_v2() -> None:
    cluster = with_rules(
        virtual_service(
            "reviews",
            [
                {"match": [JASON], "route": [route_to("reviews", "v2")]},
                {"route": [route_to("reviews", "v1")]},
            ],
        )
    )
    _, snapshot = run(cluster, 3000, jason_share=0.1)
    split = reviews_split(snapshot)
    assert split["v3"] == 0
    assert 0.08 <= split["v2"] / 3000 <= 0.12, split
    assert split["v1"] + split["v2"] == 3000
    assert dest_count(snapshot, destination_workload="ratings-v1") == split["v2"]


def test_fqdn_host_and_header_prefix_and_regex_matches() -> None:
    cluster = with_rules(
        virtual_service(
            "reviews.bookinfo.svc.cluster.local",
            [
                {
                    "match": [{"headers": {"end-user": {"regex": "ja[s]on"}}, "uri": {"prefix": "/reviews"}}],
                    "route": [route_to("reviews.bookinfo.svc.cluster.local", "v3")],
                },
                {
                    "match": [{"headers": {"end-user": {"prefix": "nobody"}}}],
                    "route": [route_to("reviews", "v2")],
                },
                {"route": [route_to("reviews", "v1")]},
            ],
        )
    )
    _, snapshot = run(cluster, 1000, jason_share=0.5)
    split = reviews_split(snapshot)
    assert split["v2"] == 0
    assert 400 <= split["v3"] <= 600 and split["v1"] + split["v3"] == 1000


def test_weighted_route_80_20() -> None:
    cluster = with_rules(
        virtual_service(
            "reviews",
            [
                {"route": [route_to("reviews", "v1", 80), route_to("reviews", "v3", 20)]},
            ],
        )
    )
    _, snapshot = run(cluster, 3000)
    split = reviews_split(snapshot)
    assert split["v2"] == 0
    assert abs(split["v3"] - 600) <= 150 and split["v1"] + split["v3"] == 3000


def test_fault_abort_on_ratings_is_reported_by_the_source_only() -> None:
    cluster = with_rules(
        virtual_service(
            "ratings",
            [
                {
                    "fault": {"abort": {"httpStatus": 500, "percentage": {"value": 50.0}}},
                    "route": [route_to("ratings", "v1")],
                }
            ],
        ),
    )
    _, snapshot = run(cluster, 3000)
    calls = reviews_split(snapshot)["v2"] + reviews_split(snapshot)["v3"]
    aborted = source_count(snapshot, destination_service_name="ratings", response_code="500", response_flags="FI")
    served = dest_count(snapshot, destination_service_name="ratings")
    assert aborted + served == calls
    assert abs(aborted / calls - 0.5) <= 0.05
    assert dest_count(snapshot, destination_service_name="ratings", response_code="500") == 0
    # reviews degrades gracefully: productpage still gets 200 from reviews
    assert source_count(snapshot, destination_service_name="reviews", response_code="200") == 3000


def test_fault_delay_for_jason_makes_productpage_give_up_on_reviews() -> None:
    """Istio fault-injection task: ratings delayed 7 s for jason; productpage waits 2 x 3 s for reviews."""
    cluster = with_rules(
        virtual_service(
            "reviews",
            [
                {"match": [JASON], "route": [route_to("reviews", "v2")]},
                {"route": [route_to("reviews", "v1")]},
            ],
        ),
        virtual_service(
            "ratings",
            [
                {
                    "match": [JASON],
                    "fault": {"delay": {"fixedDelay": "7s", "percentage": {"value": 100.0}}},
                    "route": [route_to("ratings", "v1")],
                },
                {"route": [route_to("ratings", "v1")]},
            ],
        ),
    )
    _, snapshot = run(cluster, 1000, jason_share=0.2)
    delayed = source_count(snapshot, destination_workload="ratings-v1", response_flags="DI", response_code="200")
    jason = delayed / 2  # productpage's application tries reviews twice, and reviews-v2 calls ratings each time
    assert 150 <= jason <= 250
    assert (
        snapshot.histogram_sum(
            "istio_request_duration_milliseconds",
            reporter="source",
            destination_workload="ratings-v1",
            response_flags="DI",
        )
        >= delayed * 7000
    )
    # both reviews tries are abandoned by productpage after 3 s: code 0 with DC on both sides
    assert source_count(snapshot, destination_workload="reviews-v2", response_code="0", response_flags="DC") == delayed
    assert dest_count(snapshot, destination_workload="reviews-v2", response_code="0", response_flags="DC") == delayed
    assert source_count(snapshot, destination_workload="reviews-v1", response_code="200") == 1000 - jason
    assert source_count(snapshot, source_workload="istio-ingressgateway", response_code="200") == 1000
    ingress = [
        h
        for h in snapshot.histograms
        if h.name == "istio_request_duration_milliseconds"
        and h.labels["source_workload"] == "istio-ingressgateway"
        and h.labels["reporter"] == "source"
    ]
    within_5s = sum(h.cumulative_counts[h.bounds.index(5000)] for h in ingress)
    assert sum(h.count for h in ingress) - within_5s == jason  # only jason's pages take > 6 s


def test_route_timeout_returns_504_ut_when_upstream_is_slower() -> None:
    """The Istio request-timeouts task: ratings delayed 2 s, reviews route timeout 0.5 s."""
    cluster = with_rules(
        virtual_service("reviews", [{"route": [route_to("reviews", "v2")], "timeout": "0.5s"}]),
        virtual_service(
            "ratings",
            [
                {
                    "fault": {"delay": {"fixedDelay": "2s", "percent": 100}},
                    "route": [route_to("ratings", "v1")],
                }
            ],
        ),
    )
    _, snapshot = run(cluster, 500)
    # productpage's application tries reviews twice; each try times out at the proxy
    assert source_count(snapshot, destination_workload="reviews-v2", response_code="504", response_flags="UT") == 1000
    assert dest_count(snapshot, destination_workload="reviews-v2", response_code="0", response_flags="DC") == 1000
    assert snapshot.histogram_sum(
        "istio_request_duration_milliseconds", reporter="source", destination_workload="reviews-v2"
    ) == pytest.approx(1000 * 500.5, rel=0.01)
    assert source_count(snapshot, destination_workload="ratings-v1", response_flags="DI") == 1000


def test_retries_turn_transient_errors_into_success_with_extra_destination_attempts() -> None:
    cluster = with_rules(
        virtual_service(
            "reviews",
            [
                {
                    "route": [route_to("reviews", "v2")],
                    "retries": {
                        "attempts": 3,
                        "perTryTimeout": "2s",
                        "retryOn": "5xx,gateway-error,connect-failure",
                    },
                }
            ],
        )
    )
    profiles = {"reviews-v2": WorkloadProfile(error_rate=0.3, error_code=503, latency_ms=25.0)}
    _, snapshot = run(cluster, 2000, profiles=profiles)
    source_total = source_count(snapshot, destination_workload="reviews-v2")
    source_ok = source_count(snapshot, destination_workload="reviews-v2", response_code="200")
    source_failed = source_count(snapshot, destination_workload="reviews-v2", response_code="503")
    dest_total = dest_count(snapshot, destination_workload="reviews-v2")
    dest_failed = dest_count(snapshot, destination_workload="reviews-v2", response_code="503")
    assert source_ok + source_failed == source_total
    assert source_ok >= 0.98 * source_total  # 1 - 0.3**4 ≈ 99 % succeed after retries
    assert dest_total > source_total
    assert dest_total == source_total + dest_failed - source_failed  # every failed try but the last is retried
    assert abs(dest_failed / dest_total - 0.3) <= 0.05
    assert source_failed == source_count(snapshot, destination_workload="reviews-v2", response_flags="URX")


def test_default_retry_policy_retries_503_twice() -> None:
    profiles = {"details-v1": WorkloadProfile(error_rate=1.0, error_code=503)}
    _, snapshot = run(FakeCluster(bookinfo()), 100, profiles=profiles)
    assert source_count(snapshot, destination_workload="details-v1", response_code="503") == 100
    assert dest_count(snapshot, destination_workload="details-v1", response_code="503") == 300


def test_service_without_ready_pods_is_a_source_reported_503_uh() -> None:
    objects = bookinfo()
    for pod in objects["pods"]:
        if pod["metadata"]["labels"]["app"] == "details":
            pod["status"]["conditions"][0]["status"] = "False"
    _, snapshot = run(FakeCluster(objects), 300)
    assert source_count(snapshot, destination_service_name="details", response_code="503", response_flags="UH") == 300
    assert dest_count(snapshot, destination_service_name="details") == 0
    row = next(c for c in snapshot.counters if c.labels["destination_service_name"] == "details")
    assert row.labels["destination_workload"] == "unknown"
    assert row.labels["destination_service"] == "details.bookinfo.svc.cluster.local"


def test_undefined_subset_is_a_503_nc() -> None:
    cluster = with_rules(virtual_service("reviews", [{"route": [route_to("reviews", "v9")]}]))
    _, snapshot = run(cluster, 100)
    assert source_count(snapshot, destination_service_name="reviews", response_code="503", response_flags="NC") == 200


def test_mirror_is_reported_by_the_mirror_destination_only() -> None:
    cluster = with_rules(
        virtual_service(
            "reviews",
            [
                {
                    "route": [route_to("reviews", "v1")],
                    "mirror": {"host": "reviews", "subset": "v2"},
                    "mirrorPercentage": {"value": 100.0},
                }
            ],
        )
    )
    _, snapshot = run(cluster, 200)
    assert reviews_split(snapshot) == {"v1": 200, "v2": 200, "v3": 0}
    assert source_count(snapshot, destination_workload="reviews-v2") == 0


def test_peer_authentication_disable_means_plaintext() -> None:
    objects = bookinfo()
    objects["peerauthentications"] = [
        {"metadata": {"name": "default", "namespace": NS}, "spec": {"mtls": {"mode": "DISABLE"}}}
    ]
    _, snapshot = run(FakeCluster(objects), 100)
    rows = [c for c in snapshot.counters if c.name == REQUESTS and c.labels["reporter"] == "destination"]
    assert rows and all(r.labels["connection_security_policy"] == "none" for r in rows)
    assert all(r.labels["source_principal"] == "unknown" for r in rows)
    assert all(r.labels["source_workload"] != "unknown" for r in rows)  # metadata exchange still works


def test_source_without_sidecar_is_unknown_to_the_destination() -> None:
    objects = bookinfo()
    for pod in objects["pods"]:
        if pod["metadata"]["labels"]["app"] == "productpage":
            pod["spec"]["containers"] = pod["spec"]["containers"][:1]
    _, snapshot = run(FakeCluster(objects), 100)
    assert source_count(snapshot, source_workload="productpage-v1") == 0
    details = [c for c in snapshot.counters if c.labels["destination_workload"] == "details-v1"]
    assert [c.labels["reporter"] for c in details] == ["destination"]
    assert details[0].labels["source_workload"] == "unknown"
    assert details[0].labels["connection_security_policy"] == "none"
    # the gateway → productpage hop has no destination report
    assert dest_count(snapshot, destination_workload="productpage-v1") == 0
    assert source_count(snapshot, destination_workload="productpage-v1") == 100


def test_per_try_timeout_retries_then_gives_up_with_ut_urx() -> None:
    cluster = with_rules(
        virtual_service(
            "reviews",
            [
                {
                    "route": [route_to("reviews", "v1")],
                    "retries": {"attempts": 2, "perTryTimeout": "0.1s", "retryOn": "gateway-error"},
                }
            ],
        )
    )
    profiles = {"reviews-v1": WorkloadProfile(latency_ms=400.0, latency_jitter=0.0)}
    _, snapshot = run(cluster, 100, profiles=profiles)
    # productpage's application tries twice; its proxy tries 1 + 2 times per application try
    assert (
        source_count(snapshot, destination_workload="reviews-v1", response_code="504", response_flags="UT,URX") == 200
    )
    assert dest_count(snapshot, destination_workload="reviews-v1", response_code="0", response_flags="DC") == 600
    assert dest_count(snapshot, destination_workload="reviews-v1", response_code="200") == 0


def test_service_entry_destination_is_reported_by_the_source_only() -> None:
    objects = bookinfo()
    objects["serviceentries"] = [
        {
            "metadata": {"name": "external-ratings", "namespace": NS},
            "spec": {
                "hosts": ["ratings.example.com"],
                "location": "MESH_EXTERNAL",
                "resolution": "DNS",
                "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            },
        }
    ]
    objects["virtualservices"] = [virtual_service("ratings", [{"route": [route_to("ratings.example.com")]}])]
    _, snapshot = run(FakeCluster(objects), 300)
    external = [c for c in snapshot.counters if c.labels.get("destination_service") == "ratings.example.com"]
    assert [c.labels["reporter"] for c in external] == ["source", "source"]  # from reviews-v2 and reviews-v3
    assert all(c.labels["destination_workload"] == "unknown" for c in external)
    assert sum(c.value for c in external) == 200
    assert dest_count(snapshot, destination_workload="ratings-v1") == 0


def test_gateway_virtual_service_without_a_matching_route_is_a_404_nr() -> None:
    objects = bookinfo()
    gateway_vs = virtual_service("*", [{"match": [{"uri": {"exact": "/login"}}], "route": [route_to("productpage")]}])
    gateway_vs["spec"]["gateways"] = ["bookinfo-gateway"]
    objects["virtualservices"] = [gateway_vs]
    _, snapshot = run(FakeCluster(objects), 50)
    assert (
        source_count(snapshot, source_workload="istio-ingressgateway", response_code="404", response_flags="NR") == 50
    )
    assert dest_count(snapshot, destination_workload="productpage-v1") == 0


def test_gateway_virtual_service_routes_the_entry_request() -> None:
    objects = bookinfo()
    objects["destinationrules"] = all_destination_rules()
    gateway_vs = virtual_service(
        "*", [{"match": [{"uri": {"exact": "/productpage"}}], "route": [route_to("productpage", "v1")]}]
    )
    gateway_vs["spec"]["gateways"] = ["bookinfo-gateway"]
    objects["virtualservices"] = [gateway_vs]
    _, snapshot = run(FakeCluster(objects), 50)
    assert dest_count(snapshot, source_workload="istio-ingressgateway", destination_workload="productpage-v1") == 50
