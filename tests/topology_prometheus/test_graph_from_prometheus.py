"""The service graph and health from a real Prometheus holding literal Bookinfo series: exact, hand-computed values.

The data (``bookinfo_series``) has constant rates and one latency per series, so every number below is worked out
by hand in the comments: rates are ``increase / 300 s``, quantiles interpolate linearly inside the bucket holding
the rank (Prometheus' ``histogram_quantile``), and health follows the default thresholds (5xx: >0% degraded,
>=10% failure; 4xx: >=10% degraded, >=20% failure).
"""

from __future__ import annotations

import pytest

from clients.prometheus import GraphRows, PrometheusClient
from tests.topology_prometheus.bookinfo_series import AT, NS, WINDOW, WINDOW_SECONDS
from tests.topology_prometheus.rows import query_rows, select, total
from topology.graph import GraphOptions, build_graph, build_graph_queries, build_traffic_graph
from topology.graph.reporters import LATENCY_KEY_LABELS, REQUEST_KEY_LABELS, TCP_KEY_LABELS, select_counted_rows
from topology.health import (
    HealthStatus,
    build_request_rates,
    compute_namespace_health,
    compute_service_health,
    compute_workload_health,
)
from topology.telemetry.rows import build_graph_inputs, build_graph_query_parts

pytestmark = pytest.mark.prometheus

GATEWAY = "app|Kubernetes|istio-system|istio-ingressgateway"


def svc(name: str) -> str:
    return f"svc|Kubernetes|{NS}|{name}"


def vapp(app: str, version: str = "v1") -> str:
    return f"vapp|Kubernetes|{NS}|{app}|{version}"


def exact(value: float) -> object:
    return pytest.approx(value, rel=1e-12)


@pytest.fixture
def rows(prometheus_client: PrometheusClient) -> GraphRows:
    return prometheus_client.fetch_graph_rows(build_graph_query_parts(build_graph_queries([NS], WINDOW)), at=AT)


@pytest.fixture
def all_rows(prometheus_client: PrometheusClient) -> GraphRows:
    """Both reporters' rows (``counted_only=False``): the graph is the same, the rows twice as many."""
    queries = build_graph_queries([NS], WINDOW, counted_only=False)
    return prometheus_client.fetch_graph_rows(build_graph_query_parts(queries), at=AT)


@pytest.fixture
def options() -> GraphOptions:
    return GraphOptions(namespaces=frozenset({NS}), id_style="readable")


@pytest.fixture
def graph(rows: GraphRows, options: GraphOptions) -> dict[str, dict[str, dict[str, object]]]:
    wire = build_graph(build_graph_inputs(rows), options, AT, WINDOW_SECONDS)
    nodes = {n["data"]["id"]: n["data"] for n in wire["elements"]["nodes"]}
    edges = {(e["data"]["source"], e["data"]["target"]): e["data"] for e in wire["elements"]["edges"]}
    return {"nodes": nodes, "edges": edges}


def test_request_rows_carry_exact_rates_for_both_reporters(all_rows: GraphRows) -> None:
    assert len(all_rows.requests) == 22  # 11 active (edge, code, security) series x 2 reporters
    for reporter in ("source", "destination"):
        gateway = select(all_rows.requests, reporter=reporter, source_workload="istio-ingressgateway")
        assert {r["metric"]["response_code"]: float(r["value"][1]) for r in gateway} == {"200": 9.5, "503": 0.5}
        assert total(all_rows.requests, reporter=reporter, destination_service_name="details") == exact(10.0)
        assert total(all_rows.requests, reporter=reporter, destination_service_name="reviews") == exact(11.0)
        assert total(all_rows.requests, reporter=reporter, destination_service_name="ratings") == exact(8.0)
    assert all_rows.elapsed_seconds > 0


def test_by_default_only_the_counted_reporter_is_fetched(rows: GraphRows, all_rows: GraphRows) -> None:
    # Every Bookinfo destination is a known workload and both proxies saw the same responses: the destination
    # proxy's rows are the counted ones, and Prometheus' `unless on(<key>)` drops every source row.
    keys = {"requests": REQUEST_KEY_LABELS, "tcp_sent": TCP_KEY_LABELS, "tcp_received": TCP_KEY_LABELS}
    for name in ("requests", "tcp_sent", "tcp_received", "latency_buckets", "latency_sum"):
        counted = select_counted_rows(getattr(all_rows, name), keys.get(name, LATENCY_KEY_LABELS))
        assert sorted(map(repr, getattr(rows, name))) == sorted(map(repr, counted)), name
    assert {r["metric"]["reporter"] for r in rows.requests} == {"destination"}
    options = GraphOptions(namespaces=frozenset({NS}))
    assert build_graph(build_graph_inputs(rows), options, AT, WINDOW_SECONDS) == build_graph(
        build_graph_inputs(all_rows), options, AT, WINDOW_SECONDS
    )


def test_idle_and_out_of_scope_series_are_not_returned(rows: GraphRows) -> None:
    # reviews-v1 -> ratings and details' 503 have no increase in the window: `> 0` drops them.
    assert select(rows.requests, source_workload="reviews-v1") == []
    assert select(rows.requests, destination_workload="details-v1", response_code="503") == []
    # monitoring/prober -> other/echo is neither from nor into bookinfo.
    got = query_rows(rows)
    for name in ("requests", "latency_buckets", "latency_sum", "latency_avg", "latency_p50", "latency_count"):
        assert select(got[name], destination_service_name="echo") == []
    # Latency queries keep idle rows: count 0 and NaN quantiles, which the sample parser drops.
    idle = select(got["latency_count"], source_workload="reviews-v1", reporter="destination")
    assert [r["value"][1] for r in idle] == ["0"]
    assert [r["value"][1] for r in select(got["latency_p95"], source_workload="reviews-v1")] == ["NaN"]
    assert not [s for s in build_graph_inputs(rows).latencies if s.labels.get("source_workload") == "reviews-v1"]


def test_tcp_rows_are_bytes_per_second(rows: GraphRows, all_rows: GraphRows) -> None:
    assert total(rows.tcp_sent, reporter="destination") == exact(1200.0)
    assert total(rows.tcp_received, reporter="destination") == exact(3000.0)
    assert {r["metric"]["reporter"] for r in all_rows.tcp_sent} == {"source", "destination"}


def test_edges_have_exact_rates_percentages_and_response_codes(graph) -> None:
    edges = graph["edges"]
    into_productpage = edges[(GATEWAY, svc("productpage"))]["traffic"]
    assert into_productpage["rates"] == {
        "http": "10.00",
        "http5xx": "0.50",
        "httpPercentErr": "5.0",  # 0.5 / 10
        "httpPercentReq": "100.0",
    }
    assert into_productpage["responses"]["200"]["flags"] == {"-": "95.0"}
    assert into_productpage["responses"]["503"]["flags"] == {"-": "5.0"}
    to_reviews = edges[(vapp("productpage"), svc("reviews"))]["traffic"]["rates"]
    # productpage sends 10 to details and 11 to reviews: 11/21 = 52.4 %; 1 of 11 is a 404 = 9.1 %
    assert to_reviews == {"http": "11.00", "http4xx": "1.00", "httpPercentErr": "9.1", "httpPercentReq": "52.4"}
    assert edges[(vapp("productpage"), svc("details"))]["traffic"]["rates"]["httpPercentReq"] == "47.6"
    versions = {v: edges[(svc("reviews"), vapp("reviews", v))]["traffic"]["rates"] for v in ("v1", "v2", "v3")}
    assert [versions[v]["http"] for v in ("v1", "v2", "v3")] == ["3.00", "4.00", "4.00"]
    assert [versions[v]["httpPercentReq"] for v in ("v1", "v2", "v3")] == ["27.3", "36.4", "36.4"]
    assert versions["v3"]["httpPercentErr"] == "25.0"
    ratings = edges[(vapp("reviews", "v2"), svc("ratings"))]["traffic"]
    assert ratings["rates"]["http5xx"] == "1.00" and ratings["responses"]["500"]["flags"] == {"-": "25.0"}
    mongo = edges[(vapp("ratings"), svc("mongodb"))]
    assert mongo["traffic"]["rates"] == {"tcp": "4200.00", "tcpSent": "1200.00", "tcpReceived": "3000.00"}
    assert mongo["throughput"] == "4200"
    assert (vapp("reviews", "v1"), svc("ratings")) not in edges  # idle in the window


def test_response_times_are_prometheus_interpolated_quantiles(rows: GraphRows, options: GraphOptions) -> None:
    tm = build_traffic_graph(build_graph_inputs(rows), options)

    def times(source: str, target: str) -> tuple[float | None, ...]:
        t = tm.edges[(source, target, "http")].response_times
        assert t is not None
        return (t.avg, t.p50, t.p95, t.p99)

    # 9.5/s at 40 ms in (25, 50], 0.5/s at 0.25 ms in (0, 1]: rank q*10 minus the 0.5 below, over the 9.5 inside.
    assert times(GATEWAY, svc("productpage")) == (
        exact((9.5 * 40 + 0.5 * 0.25) / 10),
        exact(25 + 25 * (5.0 - 0.5) / 9.5),
        exact(25 + 25 * (9.5 - 0.5) / 9.5),
        exact(25 + 25 * (9.9 - 0.5) / 9.5),
    )
    # All 10/s at 4 ms in (1, 5].
    assert times(svc("details"), vapp("details")) == (exact(4.0), exact(3.0), exact(4.8), exact(4.96))
    # v3: 1/s at 8 ms in (5, 10], 3/s at 80 ms in (50, 100].
    assert times(svc("reviews"), vapp("reviews", "v3")) == (
        exact((3 * 80 + 8) / 4),
        exact(50 + 50 * (2.0 - 1) / 3),
        exact(50 + 50 * (3.8 - 1) / 3),
        exact(50 + 50 * (3.96 - 1) / 3),
    )
    # v2 -> ratings: 3/s at 6 ms, 1/s at 2000 ms (above 1000, so only in +Inf): p95 and p99 fall into +Inf and
    # Prometheus answers the highest finite bound.
    assert times(vapp("reviews", "v2"), svc("ratings")) == (
        exact((3 * 6 + 2000) / 4),
        exact(5 + 5 * 2.0 / 3),
        exact(1000.0),
        exact(1000.0),
    )


def test_response_time_shown_is_p95_by_default_and_avg_on_request(graph, rows: GraphRows) -> None:
    edge = graph["edges"][(svc("reviews"), vapp("reviews", "v3"))]
    assert edge["responseTime"] == "97"
    assert edge["responseTimes"] == {"avg": "62.00", "p50": "66.67", "p95": "96.67", "p99": "99.33"}
    options = GraphOptions(namespaces=frozenset({NS}), id_style="readable", response_time_stat="avg")
    wire = build_graph(build_graph_inputs(rows), options, AT, WINDOW_SECONDS)
    by_key = {(e["data"]["source"], e["data"]["target"]): e["data"] for e in wire["elements"]["edges"]}
    assert by_key[(svc("reviews"), vapp("reviews", "v3"))]["responseTime"] == "62"


def test_mtls_share_counts_only_the_destination_reported_policy(graph) -> None:
    edges = graph["edges"]
    # details: 7.5/s over mutual TLS, 2.5/s plaintext.
    assert edges[(vapp("productpage"), svc("details"))]["isMTLS"] == "75"
    assert edges[(svc("details"), vapp("details"))]["isMTLS"] == "75"
    assert edges[(svc("reviews"), vapp("reviews", "v2"))]["isMTLS"] == "100"
    assert edges[(vapp("ratings"), svc("mongodb"))]["isMTLS"] == "100"
    assert edges[(vapp("productpage"), svc("reviews"))]["destPrincipal"].endswith("/sa/bookinfo-reviews")


def test_graph_health_statuses(graph) -> None:
    status = {node_id: data.get("healthStatus") for node_id, data in graph["nodes"].items()}
    assert status[svc("productpage")] == "Degraded"  # 5xx 5 % > 0 %
    assert status[svc("details")] == "Healthy"
    assert status[svc("reviews")] == "Healthy"  # 4xx 1/11 = 9.1 % < 10 %
    assert status[svc("ratings")] == "Failure"  # 5xx 1/8 = 12.5 % >= 10 %
    assert status[vapp("reviews", "v3")] == "Failure"  # inbound 4xx 25 % >= 20 %
    assert status[vapp("reviews", "v2")] == "Failure"  # outbound 5xx 25 %
    assert status[vapp("reviews", "v1")] == "Healthy"
    assert status[svc("mongodb")] == "No health information"  # tcp only
    assert graph["nodes"][vapp("reviews", "v3")]["healthReason"] == "inbound 4xx 25% ≥ 20%"
    assert graph["edges"][(svc("reviews"), vapp("reviews", "v3"))]["healthStatus"] == "Failure"


def test_health_calculators_on_prometheus_rows(rows: GraphRows) -> None:
    def inbound(**labels: str) -> dict[str, float]:
        by_code: dict[str, float] = {}
        for row in select(rows.requests, reporter="destination", **labels):
            code = row["metric"]["response_code"]
            by_code[code] = by_code.get(code, 0.0) + float(row["value"][1])
        return by_code

    services = {
        name: compute_service_health(build_request_rates(inbound(destination_service_name=name)))
        for name in ("productpage", "details", "reviews", "ratings")
    }
    assert {name: result.status for name, result in services.items()} == {
        "productpage": HealthStatus.DEGRADED,
        "details": HealthStatus.HEALTHY,
        "reviews": HealthStatus.HEALTHY,
        "ratings": HealthStatus.FAILURE,
    }
    assert services["ratings"].reason == "5xx 12.5% ≥ 10%"
    v3 = compute_workload_health(inbound=build_request_rates(inbound(destination_workload="reviews-v3")))
    assert (v3.status, v3.reason) == (HealthStatus.FAILURE, "inbound 4xx 25% ≥ 20%")
    namespace = compute_namespace_health(services.values())
    assert namespace.status == HealthStatus.FAILURE
    assert namespace.reason == "1 Failure, 1 Degraded, 2 Healthy"
