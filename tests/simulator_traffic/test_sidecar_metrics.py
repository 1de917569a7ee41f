"""The metrics as a scraper sees them: labels, reporters, histograms, exposition format, TCP, determinism."""

from __future__ import annotations

import math
import threading

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from simulator import metrics
from simulator.metrics import REQUEST_LABEL_NAMES, TCP_LABEL_NAMES, MetricsRegistry, render_exposition
from simulator.traffic import TrafficEngine
from tests.simulator_traffic.bookinfo_objects import NS, FakeCluster, bookinfo
from tests.support.wait import wait_until

HTTP_FAMILIES = (
    "istio_requests_total",
    "istio_request_duration_milliseconds",
    "istio_request_bytes",
    "istio_response_bytes",
)
TCP_FAMILIES = (
    "istio_tcp_sent_bytes_total",
    "istio_tcp_received_bytes_total",
    "istio_tcp_connections_opened_total",
    "istio_tcp_connections_closed_total",
)


def parse_families(text: str) -> dict[str, Metric]:
    """The exposition's families by name as prometheus_client parses them (counters lose ``_total``).

    Also checks what that parser lets pass: the text ends with a line feed and no series appears twice.
    """
    assert text.endswith("\n")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    series = [(s.name, tuple(sorted(s.labels.items()))) for family in families.values() for s in family.samples]
    assert len(series) == len(set(series)), "a series appears twice"
    return families


def requests_rows(text: str) -> list[dict[str, str]]:
    """The label sets of the ``istio_requests_total`` series of an exposition."""
    return [sample.labels for sample in parse_families(text)["istio_requests"].samples]


@pytest.fixture(scope="module")
def engine() -> TrafficEngine:
    cluster = FakeCluster(bookinfo(with_mongodb=True))
    traffic = TrafficEngine(cluster.read_objects, namespace=NS, seed=11, rps=50.0)
    traffic.step(20)
    return traffic


def test_exposition_has_help_type_and_every_family(engine: TrafficEngine) -> None:
    text = engine.render_metrics()
    type_lines = [line for line in text.splitlines() if line.startswith("# TYPE ")]
    assert type_lines == [
        f"# TYPE {name} {'counter' if name.endswith('_total') else 'histogram'}"
        for name in (*HTTP_FAMILIES, *TCP_FAMILIES)
    ]
    parsed = parse_families(text)
    assert list(parsed) == [name.removesuffix("_total") for name in (*HTTP_FAMILIES, *TCP_FAMILIES)]
    for name, family in parsed.items():
        assert family.documentation
        assert family.samples or name == "istio_tcp_connections_closed", name
        suffixes = ("_total",) if family.type == "counter" else ("_bucket", "_count", "_sum")
        assert {sample.name for sample in family.samples} <= {name + suffix for suffix in suffixes}, name
    assert "_created" not in text  # no created timestamps: no series the scrapers never had


def test_both_reporters_with_the_full_istio_label_set(engine: TrafficEngine) -> None:
    rows = requests_rows(engine.render_metrics())
    assert {labels["reporter"] for labels in rows} == {"source", "destination"}
    for labels in rows:
        assert sorted(labels) == sorted(REQUEST_LABEL_NAMES)
        assert labels["request_protocol"] == "http" and labels["grpc_response_status"] == ""
        assert labels["source_cluster"] == labels["destination_cluster"] == "Kubernetes"
        expected_policy = "unknown" if labels["reporter"] == "source" else "mutual_tls"
        assert labels["connection_security_policy"] == expected_policy
    details = next(
        labels
        for labels in rows
        if labels["reporter"] == "destination" and labels["destination_workload"] == "details-v1"
    )
    assert details == {
        "reporter": "destination",
        "source_workload": "productpage-v1",
        "source_canonical_service": "productpage",
        "source_canonical_revision": "v1",
        "source_workload_namespace": "bookinfo",
        "source_principal": "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage",
        "source_app": "productpage",
        "source_version": "v1",
        "source_cluster": "Kubernetes",
        "destination_workload": "details-v1",
        "destination_workload_namespace": "bookinfo",
        "destination_principal": "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-details",
        "destination_app": "details",
        "destination_version": "v1",
        "destination_service": "details.bookinfo.svc.cluster.local",
        "destination_canonical_service": "details",
        "destination_canonical_revision": "v1",
        "destination_service_name": "details",
        "destination_service_namespace": "bookinfo",
        "destination_cluster": "Kubernetes",
        "request_protocol": "http",
        "response_code": "200",
        "grpc_response_status": "",
        "response_flags": "-",
        "connection_security_policy": "mutual_tls",
    }
    gateway = next(labels for labels in rows if labels["source_workload"] == "istio-ingressgateway")
    assert gateway["source_workload_namespace"] == "istio-system"
    assert gateway["source_app"] == "istio-ingressgateway"
    assert gateway["reporter"] in ("source", "destination")


def test_source_and_destination_counts_agree_per_edge_without_faults(engine: TrafficEngine) -> None:
    snapshot = engine.counters()
    edges: dict[tuple[str, str, str], dict[str, float]] = {}
    for sample in snapshot.counters:
        if sample.name == "istio_requests_total":
            edge = (
                sample.labels["source_workload"],
                sample.labels["destination_workload"],
                sample.labels["response_code"],
            )
            by_reporter = edges.setdefault(edge, {})
            by_reporter[sample.labels["reporter"]] = by_reporter.get(sample.labels["reporter"], 0) + sample.value
    assert len(edges) == 7  # gateway→productpage, productpage→details + 3 reviews, reviews v2/v3→ratings
    for edge, by_reporter in edges.items():
        assert by_reporter["source"] == by_reporter["destination"], edge
    assert edges[("istio-ingressgateway", "productpage-v1", "200")]["source"] == 1000


def test_histograms_are_cumulative_and_count_every_request(engine: TrafficEngine) -> None:
    parsed = parse_families(engine.render_metrics())
    requests = {tuple(sorted(sample.labels.items())): sample.value for sample in parsed["istio_requests"].samples}
    for name in HTTP_FAMILIES[1:]:
        buckets: dict[tuple[tuple[str, str], ...], list[tuple[str, float]]] = {}
        totals: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
        for sample_name, sample_labels, value, *_ in parsed[name].samples:
            labels = dict(sample_labels)
            le = labels.pop("le", "")
            key = tuple(sorted(labels.items()))
            if sample_name.endswith("_bucket"):
                buckets.setdefault(key, []).append((le, value))
            else:
                totals.setdefault(key, {})[sample_name.rsplit("_", 1)[1]] = value
        assert buckets.keys() == totals.keys() == requests.keys()
        for key, series in buckets.items():
            bounds = [float(le) for le, _ in series]
            counts = [count for _, count in series]
            assert bounds == sorted(bounds) and bounds[-1] == math.inf
            assert counts == sorted(counts), (name, key)
            assert counts[-1] == totals[key]["count"] == requests[key]
            assert totals[key]["sum"] > 0
    durations = parsed["istio_request_duration_milliseconds"].samples
    first = [sample.labels["le"] for sample in durations if "le" in sample.labels][:20]
    assert first == [
        "0.5",
        "1",
        "5",
        "10",
        "25",
        "50",
        "100",
        "250",
        "500",
        "1000",
        "2500",
        "5000",
        "10000",
        "30000",
        "60000",
        "300000",
        "600000",
        "1.8e+06",
        "3.6e+06",
        "+Inf",
    ]


def test_tcp_metrics_for_the_mongodb_edge(engine: TrafficEngine) -> None:
    snapshot = engine.counters()
    ratings_calls = snapshot.counter_total(
        "istio_requests_total", reporter="destination", destination_workload="ratings-v1"
    )
    for reporter in ("source", "destination"):
        wanted = {
            "reporter": reporter,
            "source_workload": "ratings-v1",
            "destination_workload": "mongodb-v1",
            "destination_service": "mongodb.bookinfo.svc.cluster.local",
            "request_protocol": "tcp",
        }
        assert snapshot.counter_total("istio_tcp_connections_opened_total", **wanted) == 1  # one long-lived
        assert snapshot.counter_total("istio_tcp_connections_closed_total", **wanted) == 0
        assert snapshot.counter_total("istio_tcp_received_bytes_total", **wanted) == 150 * ratings_calls
        assert snapshot.counter_total("istio_tcp_sent_bytes_total", **wanted) > 250 * ratings_calls
    for sample in snapshot.counters:
        if sample.name.startswith("istio_tcp"):
            assert tuple(sample.labels) == TCP_LABEL_NAMES


def test_tcp_connection_closes_when_the_server_pod_goes_away() -> None:
    cluster = FakeCluster(bookinfo(with_mongodb=True))
    traffic = TrafficEngine(cluster.read_objects, seed=2, rps=20.0)
    traffic.step(1)
    ratings_calls_before = traffic.counters().counter_total(
        "istio_requests_total", reporter="destination", destination_workload="ratings-v1"
    )
    cluster.objects["pods"] = [p for p in cluster.objects["pods"] if p["metadata"]["labels"]["app"] != "mongodb"]
    traffic.step(1)
    snapshot = traffic.counters()
    assert snapshot.counter_total("istio_tcp_connections_closed_total", destination_workload="mongodb-v1") == 2
    ratings_calls_after = snapshot.counter_total(
        "istio_requests_total", reporter="destination", destination_workload="ratings-v1"
    )
    # every later ratings request fails to connect: only the client sidecar reports, flagged UH
    failed = snapshot.counter_total("istio_tcp_connections_opened_total", response_flags="UH")
    assert failed == ratings_calls_after - ratings_calls_before > 0
    assert (
        snapshot.counter_total("istio_tcp_connections_opened_total", reporter="destination", response_flags="UH") == 0
    )


def test_no_mongodb_deployment_means_no_tcp_traffic() -> None:
    traffic = TrafficEngine(FakeCluster(bookinfo()).read_objects, rps=20.0)
    traffic.step(1)
    assert "istio_tcp_sent_bytes_total{" not in traffic.render_metrics()


def test_same_seed_gives_identical_output_and_another_seed_differs() -> None:
    def render(seed: int) -> str:
        traffic = TrafficEngine(FakeCluster(bookinfo(with_mongodb=True)).read_objects, seed=seed, rps=30.0)
        for _ in range(5):
            traffic.step(0.7)
        return traffic.render_metrics()

    assert render(5) == render(5)
    assert render(5) != render(6)


def test_fractional_requests_carry_over_between_steps() -> None:
    traffic = TrafficEngine(FakeCluster(bookinfo()).read_objects, rps=3.0)
    sent = [traffic.step(0.1) for _ in range(20)]
    assert sum(sent) == 6 and traffic.user_requests_sent == 6
    assert traffic.simulated_seconds == pytest.approx(2.0)


def test_per_pod_rendering_only_shows_what_that_proxy_reported(engine: TrafficEngine) -> None:
    pods = engine.reporter_pods()
    reviews_v1 = next(p for p in pods if p.startswith("reviews-v1-"))
    rows = requests_rows(engine.render_metrics(pod=reviews_v1))
    assert rows and all(labels["reporter"] == "destination" for labels in rows)
    assert all(labels["destination_workload"] == "reviews-v1" for labels in rows)
    gateway = next(p for p in pods if p.startswith("istio-ingressgateway"))
    rows = requests_rows(engine.render_metrics(pod=gateway))
    assert [labels["reporter"] for labels in rows] == ["source"]
    total = sum(engine.counters(pod=p).counter_total("istio_requests_total") for p in pods)
    assert total == engine.counters().counter_total("istio_requests_total")


def test_label_values_are_escaped() -> None:
    registry = MetricsRegistry()
    labels = {name: "plain" for name in REQUEST_LABEL_NAMES}
    labels["source_workload"] = 'we"ird\\name\nline'
    registry.record_request("pod-a", labels, 3.0, 10, 20)
    text = registry.render()
    assert 'source_workload="we\\"ird\\\\name\\nline"' in text
    assert requests_rows(text)[0]["source_workload"] == 'we"ird\\name\nline'
    with pytest.raises(KeyError):
        registry.add_to_counter("pod-a", metrics.TCP_SENT_BYTES, {"reporter": "source"}, 1)


def test_a_collector_renders_the_series_as_they_were_when_it_was_made() -> None:
    registry = MetricsRegistry()
    labels = {name: "plain" for name in REQUEST_LABEL_NAMES}
    registry.record_request("pod-a", labels, 3.0, 10, 20)
    collector = registry.collector()
    registry.record_request("pod-a", labels, 3.0, 10, 20)  # after the copy: a scrape written later must not see it
    [then] = parse_families(render_exposition(collector))["istio_requests"].samples
    [now] = parse_families(registry.render())["istio_requests"].samples
    assert (then.value, now.value) == (1, 2)


def test_exposition_values_match_the_structured_counters(engine: TrafficEngine) -> None:
    parsed = parse_families(engine.render_metrics())
    counters = engine.counters()
    assert sum(s.value for s in parsed["istio_requests"].samples) == counters.counter_total("istio_requests_total")
    durations = parsed["istio_request_duration_milliseconds"].samples
    assert sum(s.value for s in durations if s.name.endswith("_sum")) == pytest.approx(
        counters.histogram_sum("istio_request_duration_milliseconds"), rel=1e-12
    )
    sent = parsed["istio_tcp_sent_bytes"].samples
    assert sum(s.value for s in sent) == counters.counter_total("istio_tcp_sent_bytes_total") > 0


def test_background_thread_sends_traffic_and_stops() -> None:
    before = set(threading.enumerate())
    traffic = TrafficEngine(FakeCluster(bookinfo()).read_objects, rps=200.0)
    traffic.start_background(tick=0.02)

    def ten_requests_sent() -> bool:
        parse_families(traffic.render_metrics())  # concurrent reads while the thread writes
        return traffic.user_requests_sent >= 10

    try:
        wait_until(ten_requests_sent, "the background thread has sent 10 requests")
    finally:
        traffic.stop()
    assert [thread.name for thread in set(threading.enumerate()) - before] == []  # joined: nothing sends any more
    assert not traffic.is_running
    sent = traffic.user_requests_sent
    assert (
        traffic.counters().counter_total(
            "istio_requests_total", reporter="source", source_workload="istio-ingressgateway"
        )
        == sent
    )
