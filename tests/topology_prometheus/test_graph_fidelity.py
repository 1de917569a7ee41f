"""Graph fidelity on a real Prometheus: the traffic cases of ``fidelity_series``, drawn as Kiali draws them.

Every rule has a case that triggers it next to a near-identical one that does not, and every number is worked out
by hand in the comments (rates are constant: ``increase / 300 s``).  The data set's docstring names the rows R1..R11,
T1, T2 used below.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clients.metrics_scrape import parse_exposition
from clients.prometheus import GraphRows, PrometheusClient
from tests.support.prometheus import (
    backfilled_client,
)
from tests.topology_prometheus.fidelity_series import (
    AT,
    CLUSTER,
    NS,
    WINDOW,
    WINDOW_SECONDS,
    build_exposition_at,
    build_openmetrics,
)
from tests.topology_prometheus.rows import assert_same_rows, select
from topology.graph import GraphOptions, build_graph, build_graph_queries
from topology.graph.filtering import filter_graph
from topology.graph.reporters import REQUEST_KEY_LABELS, TCP_KEY_LABELS, select_counted_rows
from topology.telemetry.direct import build_rows_between
from topology.telemetry.rows import build_graph_inputs, build_graph_query_parts

pytestmark = pytest.mark.prometheus

WEB = f"vapp|{CLUSTER}|{NS}|web|v1"
UNKNOWN_SERVICE = f"svc|{CLUSTER}|unknown|unknown"
PAYMENTS = "svc|west|payments|payments"


def svc(name: str) -> str:
    return f"svc|{CLUSTER}|{NS}|{name}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusClient]:
    """A client of a Prometheus serving only the backfilled fidelity series."""
    with backfilled_client(build_openmetrics(), tmp_path_factory.mktemp("fidelity-tsdb")) as prometheus:
        yield prometheus


@pytest.fixture(scope="module")
def rows(client: PrometheusClient) -> GraphRows:
    return client.fetch_graph_rows(build_graph_query_parts(build_graph_queries([NS], WINDOW)), at=AT)


@pytest.fixture(scope="module")
def all_rows(client: PrometheusClient) -> GraphRows:
    queries = build_graph_queries([NS], WINDOW, counted_only=False)
    return client.fetch_graph_rows(build_graph_query_parts(queries), at=AT)


def wire(rows: GraphRows, graph_type: str = "versionedApp") -> dict[str, Any]:
    options = GraphOptions(graph_type=graph_type, namespaces=frozenset({NS}), id_style="readable")  # type: ignore[arg-type]
    return build_graph(build_graph_inputs(rows), options, AT, WINDOW_SECONDS)


def by_id(graph: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str, str], dict[str, Any]]]:
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    edges = {
        (e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]): e["data"]
        for e in graph["elements"]["edges"]
    }
    return nodes, edges


# Rule 1: both reporters, counted once.


def test_prometheus_sends_exactly_the_rows_the_reporter_rule_counts(rows: GraphRows, all_rows: GraphRows) -> None:
    # The queries' `unless on(<key>)` and the pipeline's rule over both reporters' rows agree row for row.
    assert sorted(map(repr, rows.requests)) == sorted(
        map(repr, select_counted_rows(all_rows.requests, REQUEST_KEY_LABELS))
    )
    assert sorted(map(repr, rows.tcp_sent)) == sorted(map(repr, select_counted_rows(all_rows.tcp_sent, TCP_KEY_LABELS)))
    # R1 is reported twice and comes once, from the destination; R4 (west) has only the source's report: it comes.
    assert [
        r["metric"]["reporter"] for r in select(rows.requests, destination_service_name="cart", response_code="200")
    ] == [
        "destination",
        "destination",
    ]  # R1 and R3 (same code, other flags)
    assert [r["metric"]["reporter"] for r in select(rows.requests, destination_workload="payments-v1")] == ["source"]
    # Both reporters' rows: 6 two-reporter series (R1-R3, R5, R9, R11) x 2 + 5 single reports = 17; counted: 6 + 5.
    assert (len(all_rows.requests), len(rows.requests)) == (17, 11)


def test_direct_source_applies_the_same_rule(rows: GraphRows) -> None:
    older = parse_exposition(build_exposition_at(AT - WINDOW_SECONDS))
    newer = parse_exposition(build_exposition_at(AT))
    assert_same_rows(rows, build_rows_between(older, newer, WINDOW_SECONDS, [NS], at=AT))


def test_source_report_counts_exactly_where_the_destination_report_is_missing(rows: GraphRows) -> None:
    nodes, edges = by_id(wire(rows))
    # R1 + R2 + R3, each reported by both proxies: 4 + 0.25 + 0.25 = 4.5/s, not 9.
    assert edges[(WEB, svc("cart"), "http")]["traffic"]["rates"]["http"] == "4.50"
    # R4: only web's proxy reported the call into cluster west: 1/s, which a destination-only rule would lose.
    assert edges[(WEB, PAYMENTS, "http")]["traffic"]["rates"] == {
        "http": "1.00",
        "httpPercentReq": "11.8",  # of web's 8.5/s out: cart 4.5 + payments 1 + catalog 2 + unknown 0.5 + search 0.5
    }
    assert edges[(PAYMENTS, "vapp|west|payments|payments|v1", "http")]["traffic"]["rates"]["http"] == "1.00"
    assert nodes[PAYMENTS]["isOutside"] is True
    # T2 (source only): 100 + 300 B/s; T1 (both reporters): 1000 + 2000 B/s once.
    # Sent and received apart: T2 sent 100, received 300; T1 sent 1000, received 2000.
    assert edges[(WEB, PAYMENTS, "tcp")]["traffic"]["rates"] == {
        "tcp": "400.00",
        "tcpSent": "100.00",
        "tcpReceived": "300.00",
    }
    assert edges[(f"vapp|{CLUSTER}|{NS}|cart|v1", svc("db"), "tcp")]["traffic"]["rates"] == {
        "tcp": "3000.00",
        "tcpSent": "1000.00",
        "tcpReceived": "2000.00",
    }


# Rule 2: app and version as Kiali reads them.


def test_app_and_version_come_from_the_canonical_labels(rows: GraphRows) -> None:
    nodes, edges = by_id(wire(rows))
    # catalog-5d8f has no app/version labels: canonical service catalog, revision v2.
    catalog = nodes[f"vapp|{CLUSTER}|{NS}|catalog|v2"]
    assert (catalog["app"], catalog["version"], catalog["workload"]) == ("catalog", "v2", "catalog-5d8f")
    assert edges[(svc("catalog"), catalog["id"], "http")]["traffic"]["rates"]["http"] == "2.00"
    # web carries both (equal): the same node either way.
    assert (nodes[WEB]["app"], nodes[WEB]["version"]) == ("web", "v1")
    app_nodes, _ = by_id(wire(rows, "app"))
    assert f"app|{CLUSTER}|{NS}|catalog" in app_nodes and f"wl|{CLUSTER}|{NS}|catalog-5d8f" not in app_nodes
    workload_nodes, _ = by_id(wire(rows, "workload"))
    assert workload_nodes[f"wl|{CLUSTER}|{NS}|catalog-5d8f"]["app"] == "catalog"


# Rule 3: an unknown destination is a service node of its own; the unknown caller stays a root.


def test_unknown_destination_is_a_service_node_apart_from_the_unknown_caller(rows: GraphRows) -> None:
    nodes, edges = by_id(wire(rows))
    # R6: 404 NR, no service and no workload -> the `unknown` service of the `unknown` namespace.
    assert {k: nodes[UNKNOWN_SERVICE][k] for k in ("nodeType", "namespace", "service")} == {
        "nodeType": "service",
        "namespace": "unknown",
        "service": "unknown",
    }
    to_unknown = edges[(WEB, UNKNOWN_SERVICE, "http")]["traffic"]
    assert to_unknown["rates"] == {
        "http": "0.50",
        "http4xx": "0.50",
        "httpPercentErr": "100.0",
        "httpPercentReq": "5.9",
    }
    assert to_unknown["responses"]["404"] == {"flags": {"NR": "100.0"}, "hosts": {"nosuch.example.com": "100.0"}}
    assert "isServiceEntry" not in nodes[UNKNOWN_SERVICE] and "isOutside" not in nodes[UNKNOWN_SERVICE]
    # R8: the caller without a sidecar is the `unknown` node: a root whose only edge goes to web's service.
    assert nodes["unknown"]["nodeType"] == "unknown" and nodes["unknown"]["isRoot"] is True
    assert [key for key in edges if key[0] == "unknown"] == [("unknown", svc("web"), "http")]
    assert not [key for key in edges if key[1] == "unknown"]
    # R7: a failed request to a known service (503 UH, no workload) ends at that service, not at `unknown`.
    assert edges[(WEB, svc("search"), "http")]["traffic"]["rates"]["http5xx"] == "0.50"


def test_failed_requests_to_an_unknown_namespace_are_in_the_callers_namespace(rows: GraphRows) -> None:
    graph = wire(rows)
    shop_nodes, shop_edges = by_id(filter_graph(graph, [NS], include_idle=False, box_by=()))
    assert (WEB, UNKNOWN_SERVICE, "http") in shop_edges
    assert "isOutside" not in shop_nodes[UNKNOWN_SERVICE]  # `unknown` is no real namespace: never outside
    assert shop_nodes[PAYMENTS]["isOutside"] is True  # payments is one
    other_nodes, _ = by_id(filter_graph(graph, ["payments"], include_idle=False, box_by=()))
    assert UNKNOWN_SERVICE not in other_nodes  # nothing of payments called it


# Rule 4: no response is an error.


def test_requests_without_response_are_errors_for_http_and_grpc(rows: GraphRows) -> None:
    nodes, edges = by_id(wire(rows))
    to_cart = edges[(WEB, svc("cart"), "http")]["traffic"]
    # R2 (code 0, DC) is 0.25 of 4.5: 5.6 % errors; R3 (200 with DC) got its response: no error.
    assert to_cart["rates"] == {
        "http": "4.50",
        "httpNoResponse": "0.25",
        "httpPercentErr": "5.6",
        "httpPercentReq": "52.9",
    }
    assert to_cart["responses"]["-"]["flags"] == {"DC": "5.6"}
    assert to_cart["responses"]["200"]["flags"] == {"-": "88.9", "DC": "5.6"}
    cart = nodes[svc("cart")]
    rates = {"httpIn": "4.50", "httpInNoResponse": "0.25", "httpOut": "4.50"}  # the service passes all on to cart-v1
    assert cart["traffic"] == [{"protocol": "http", "rates": rates}]
    assert (cart["healthStatus"], cart["healthReason"]) == ("Degraded", "no response 5.6% > 0%")
    # R10 (gRPC, code 0, URX, source only) is 0.5 of 2.5: 20 % >= 10 %.
    to_pricing = edges[(WEB, svc("pricing"), "grpc")]["traffic"]
    assert to_pricing["rates"] == {
        "grpc": "2.50",
        "grpcNoResponse": "0.50",
        "grpcPercentErr": "20.0",
        "grpcPercentReq": "100.0",
    }
    pricing = nodes[svc("pricing")]
    assert (pricing["healthStatus"], pricing["healthReason"]) == ("Failure", "no response 20% ≥ 10%")
    # The near-identical edges without code 0 stay healthy and show no such rate.
    assert nodes[svc("catalog")]["healthStatus"] == "Healthy"
    assert edges[(svc("pricing"), f"vapp|{CLUSTER}|{NS}|pricing|v1", "grpc")]["traffic"]["rates"] == {
        "grpc": "2.00",
        "grpcPercentReq": "100.0",
    }


# Rule 5: the service graph holds services, plus the callers nobody calls.


def test_service_graph_holds_services_and_root_callers_only(rows: GraphRows) -> None:
    nodes, edges = by_id(wire(rows, "service"))
    assert {(data["nodeType"], data.get("service", data["id"])) for data in nodes.values()} == {
        ("unknown", "unknown"),  # R8's caller, a root
        ("service", "web"),
        ("service", "cart"),
        ("service", "payments"),
        ("service", "catalog"),
        ("service", "unknown"),
        ("service", "search"),
        ("service", "pricing"),
        ("service", "db"),
    }
    # web's calls now leave web's service; worker -> batch-v1 (R11, no service) is gone with both ends.
    assert edges[(svc("web"), svc("cart"), "http")]["traffic"]["rates"]["http"] == "4.50"
    assert edges[(svc("cart"), svc("db"), "tcp")]["traffic"]["rates"] == {
        "tcp": "3000.00",
        "tcpSent": "1000.00",
        "tcpReceived": "2000.00",
    }
    versioned_nodes, versioned_edges = by_id(wire(rows))
    worker, batch = f"vapp|{CLUSTER}|{NS}|worker|v1", f"vapp|{CLUSTER}|{NS}|batch|v1"
    assert worker in versioned_nodes and worker not in nodes and batch not in nodes
    assert versioned_edges[(worker, batch, "http")]["traffic"]["rates"]["http"] == "1.00"  # in the other graphs
