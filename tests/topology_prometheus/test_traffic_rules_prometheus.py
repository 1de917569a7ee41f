"""Ambient, multi-cluster and bad telemetry on a real Prometheus, and through the stored-snapshot API.

The rows of ``traffic_series`` (A1..A3, Z1..Z3, M1, M2, B1..B6 in its docstring) are backfilled with promtool, read with
the graph queries and drawn; every expected number is worked out by hand in the comments (rates are constant:
``increase / 300 s``).  Each rule has a row that triggers it next to a near-identical row that does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clients.prometheus import GraphRows, PrometheusClient
from inventory.sync import sync_cluster
from tests.support.prometheus import (
    backfilled_client,
)
from tests.topology_prometheus.fidelity_series import AT, WINDOW, WINDOW_SECONDS
from tests.topology_prometheus.traffic_series import HOME, NS, build_openmetrics
from topology.graph import GraphInputs, GraphOptions, MeshContext, WorkloadInfo, build_graph, build_graph_queries
from topology.graph.reporters import REQUEST_KEY_LABELS, TCP_KEY_LABELS, select_readable_rows
from topology.snapshots import take_snapshot
from topology.telemetry.rows import build_graph_inputs, build_graph_query_parts

pytestmark = pytest.mark.prometheus

WAYPOINT_MESH = MeshContext(
    workloads=[WorkloadInfo(NS, "waypoint", labels={"gateway.istio.io/managed": "istio.io-mesh-controller"})]
)
WEB = f"vapp|{HOME}|{NS}|web|v1"
INGRESS = f"vapp|{HOME}|istio-system|istio-ingressgateway|latest"
EGRESS = f"vapp|{HOME}|istio-system|istio-egressgateway|latest"
WAYPOINT = f"wl|{HOME}|{NS}|waypoint"


def svc(name: str, cluster: str = HOME, namespace: str = NS) -> str:
    return f"svc|{cluster}|{namespace}|{name}"


def app(name: str, cluster: str = HOME) -> str:
    return f"vapp|{cluster}|{NS}|{name}|v1"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusClient]:
    """A client of a Prometheus serving only the backfilled traffic series."""
    with backfilled_client(build_openmetrics(), tmp_path_factory.mktemp("traffic-tsdb")) as client:
        yield client


@pytest.fixture(scope="module")
def rows(prometheus: PrometheusClient) -> GraphRows:
    return prometheus.fetch_graph_rows(build_graph_query_parts(build_graph_queries([NS], WINDOW)), at=AT)


def wire(rows: GraphRows, mesh: MeshContext = WAYPOINT_MESH, graph_type: str = "versionedApp") -> dict[str, Any]:
    traffic = build_graph_inputs(rows)
    inputs = GraphInputs(requests=traffic.requests, tcp=traffic.tcp, mesh=mesh)
    options = GraphOptions(
        graph_type=graph_type,  # type: ignore[arg-type]
        namespaces=frozenset({NS}),
        box_by=frozenset({"cluster", "namespace", "app"}),
        id_style="readable",
    )
    return build_graph(inputs, options, AT, WINDOW_SECONDS)


def by_id(graph: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str, str], dict[str, Any]]]:
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    edges = {
        (e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]): e["data"]
        for e in graph["elements"]["edges"]
    }
    return nodes, edges


def rate(edges: dict[tuple[str, str, str], dict[str, Any]], source: str, target: str, protocol: str = "http") -> str:
    return str(edges[(source, target, protocol)]["traffic"]["rates"][protocol])


def test_prometheus_sends_the_rows_some_ambient_option_counts(prometheus: PrometheusClient, rows: GraphRows):
    all_rows = prometheus.fetch_graph_rows(
        build_graph_query_parts(build_graph_queries([NS], WINDOW, counted_only=False)), at=AT
    )
    assert sorted(map(repr, rows.requests)) == sorted(
        map(repr, select_readable_rows(all_rows.requests, REQUEST_KEY_LABELS))
    )
    for sent, every in ((rows.tcp_sent, all_rows.tcp_sent), (rows.tcp_received, all_rows.tcp_received)):
        assert sorted(map(repr, sent)) == sorted(map(repr, select_readable_rows(every, TCP_KEY_LABELS)))
    # Request series in scope: A1 x2, A2, A3, M1 x2, M2, B1, B2, B3, B4 (into shop's external host), B5, B6 = 13;
    # M1's source copy goes; A1's gateway copy stays (ambientTraffic=none reads no waypoint report, so it counts): 12.
    assert (len(all_rows.requests), len(rows.requests)) == (13, 12)
    a1 = [r["metric"]["reporter"] for r in rows.requests if r["metric"]["destination_workload"] == "web-v1"]
    assert sorted(a1) == ["destination", "destination", "source", "waypoint"]  # A1 twice; B5, B6
    # TCP: Z1 (web's ztunnel), Z2 (cart's ztunnel), Z3 from cart's ztunnel only (db's outranks it under every option
    # that reads ztunnel): 3 of 4, each still marked as ztunnel's.
    assert (len(all_rows.tcp_sent), len(rows.tcp_sent)) == (4, 3)
    assert {r["metric"]["app"] for r in rows.tcp_sent} == {"ztunnel"}


# Ambient: ztunnel's L4 and the waypoint's L7 both appear, each counted once.


def test_ambient_l7_from_the_waypoint_and_l4_from_ztunnel(rows: GraphRows):
    nodes, edges = by_id(wire(rows))
    # A1: the gateway's and the waypoint's reports of the same 2/s: 2.00, not 4.00.
    assert rate(edges, INGRESS, svc("web")) == "2.00"
    # Into web: A1 2 + B6 1 = 3/s (B5 dropped, below).
    assert rate(edges, svc("web"), app("web")) == "3.00"
    # A2 + A3, waypoint only: 3.5/s, 0.5 of it 503: 14.3 % errors.
    to_cart = edges[(WEB, svc("cart"), "http")]["traffic"]["rates"]
    assert (to_cart["http"], to_cart["http5xx"], to_cart["httpPercentErr"]) == ("3.50", "0.50", "14.3")
    # Z1, Z2: the hops through the waypoint, workload to workload (no service node next to the waypoint): 400 + 100.
    assert rate(edges, WEB, WAYPOINT, "tcp") == "500.00"
    assert rate(edges, WAYPOINT, app("cart"), "tcp") == "500.00"
    assert nodes[WAYPOINT]["isWaypoint"] is True and "isGateway" not in nodes[WAYPOINT]
    assert nodes[WAYPOINT]["nodeType"] == "workload" and "app" not in nodes[WAYPOINT]
    # Z3, both ztunnels: 1000 + 3000 B/s once.
    assert rate(edges, app("cart"), svc("db"), "tcp") == "4000.00"


def test_without_the_waypoint_in_the_inventory_its_hops_go_through_services(rows: GraphRows):
    # Near-identical: the same rows without the inventory's waypoint label: the waypoint is an ordinary app node behind
    # cart's service (Kiali knows waypoints from the workloads' label only).
    nodes, edges = by_id(wire(rows, MeshContext()))
    waypoint_app = f"vapp|{HOME}|{NS}|waypoint|latest"
    assert rate(edges, svc("cart"), waypoint_app, "tcp") == "500.00"
    assert WAYPOINT not in nodes and "isWaypoint" not in nodes[waypoint_app]


# Multi-cluster.


def test_traffic_between_clusters_once_in_cluster_boxes_and_the_cluster_inferred(rows: GraphRows):
    nodes, edges = by_id(wire(rows))
    # M1: both sidecars reported (east's source, west's destination): 1/s once.
    assert rate(edges, WEB, svc("payments", "west")) == "1.00"
    assert rate(edges, svc("payments", "west"), app("payments", "west")) == "1.00"
    # Boxes nest: payments in shop of west, in west.
    assert nodes[app("payments", "west")]["parent"] == "box|namespace|west|shop"
    assert nodes["box|namespace|west|shop"]["parent"] == "box|cluster|west"
    assert nodes[WEB]["parent"] == "box|namespace|east|shop" and nodes["box|cluster|east"]["isBox"] == "cluster"
    # M2: destination_cluster reported `unknown` is web's cluster: search is in east, not in an `unknown` cluster.
    assert rate(edges, WEB, svc("search")) == "0.50"
    assert app("search") in nodes and not [n for n in nodes if n.startswith("vapp|unknown|")]
    # web's 5.25/s out: cart 3.5 + payments 1 + search 0.5 + PassthroughCluster 0.25 (B1 dropped): payments 19.0 %.
    assert edges[(WEB, svc("payments", "west"), "http")]["traffic"]["rates"]["httpPercentReq"] == "19.0"


# Bad telemetry.


def test_kiali_heuristics_for_bad_telemetry(rows: GraphRows):
    nodes, edges = by_id(wire(rows))
    # B1: a pod IP named as the service, no workload: dropped; B2, the same IP through PassthroughCluster: drawn.
    assert not [n for n in nodes if "10.1.2.3" in n]
    passthrough = svc("PassthroughCluster", HOME, "unknown")
    assert rate(edges, WEB, passthrough) == "0.25"
    assert "isServiceEntry" not in nodes[passthrough] and "isOutside" not in nodes[passthrough]
    # B3: the egress gateway's host reported as the service is the egress gateway (worker -> its service -> it), and
    # B4, the gateway's own report, continues from the same node to the external host.
    worker = app("worker")
    assert rate(edges, worker, svc("istio-egressgateway", HOME, "istio-system")) == "0.50"
    assert rate(edges, svc("istio-egressgateway", HOME, "istio-system"), EGRESS) == "0.50"
    external = svc("api.example.com")
    assert rate(edges, EGRESS, external) == "0.50"
    assert nodes[external]["isServiceEntry"]["location"] == "MESH_EXTERNAL"
    # B5: a source with a namespace but no workload nor app: dropped; B6, the unknown caller: kept, a root.
    assert {key[0] for key in edges if key[1] == svc("web")} == {INGRESS, "unknown"}
    assert rate(edges, "unknown", svc("web")) == "1.00" and nodes["unknown"]["isRoot"] is True


def test_outside_only_for_real_namespaces(rows: GraphRows):
    nodes, _ = by_id(wire(rows))
    assert nodes[INGRESS]["isOutside"] is True and nodes[EGRESS]["isOutside"] is True  # istio-system is one
    assert "isOutside" not in nodes[svc("PassthroughCluster", HOME, "unknown")]  # `unknown` never is
    assert "isOutside" not in nodes[app("payments", "west")]  # shop of west: in the requested namespace


# Through the stored-snapshot API.


@dataclass
class RowsSource:
    """A telemetry source answering the Prometheus rows for every window."""

    rows: GraphRows
    kind: str = "prometheus"

    def fetch_rows(self, namespaces: object, window: object, at: object) -> GraphRows:
        return self.rows


@pytest.mark.django_db
def test_the_stored_snapshot_api_serves_the_same_rules(rows: GraphRows, cluster: Any, client: Any):
    sync_cluster(cluster.pk)
    take_snapshot(cluster.pk, source=RowsSource(rows))

    def read(**params: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        query = {"namespaces": NS, "graphType": "versionedApp", "duration": "5m", **params}
        response = client.get("/api/v1/graph", query)
        assert response.status_code == 200, response.content
        graph = json.loads(response.content)
        return {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}, [
            e["data"] for e in graph["elements"]["edges"]
        ]

    nodes, edges = read()

    def edge(source: dict[str, str], target: dict[str, str], protocol: str = "http") -> dict[str, Any]:
        def matches(data: dict[str, Any], wanted: dict[str, str]) -> bool:
            return all(data.get(k) == v for k, v in wanted.items())

        [found] = [
            e
            for e in edges
            if e["traffic"]["protocol"] == protocol
            and matches(nodes[e["source"]], source)
            and matches(nodes[e["target"]], target)
        ]
        return found

    web = {"app": "web", "nodeType": "app"}
    # A1 once (2/s), M1 once (1/s) into west's payments, M2 inferred in east, Z3 once (4000 B/s).
    assert edge({"app": "istio-ingressgateway"}, {"service": "web"})["traffic"]["rates"]["http"] == "2.00"
    assert edge(web, {"service": "payments", "cluster": "west"})["traffic"]["rates"]["http"] == "1.00"
    assert edge(web, {"service": "search", "cluster": HOME})["traffic"]["rates"]["http"] == "0.50"
    assert edge({"app": "cart"}, {"service": "db"}, "tcp")["traffic"]["rates"]["tcp"] == "4000.00"
    # B1 dropped, B3 on the egress gateway, `unknown` namespace never outside, west in its cluster box.
    assert not [n for n in nodes.values() if "10.1.2.3" in n.get("service", "")]
    to_egress = edge({"app": "worker"}, {"service": "istio-egressgateway", "namespace": "istio-system"})
    assert to_egress["traffic"]["rates"]["http"] == "0.50"
    passthrough = next(n for n in nodes.values() if n.get("service") == "PassthroughCluster")
    assert "isOutside" not in passthrough
    west_box = next(n for n in nodes.values() if n.get("isBox") == "cluster" and n["cluster"] == "west")
    assert any(n.get("parent") == west_box["id"] for n in nodes.values())
    # boxBy=none: no cluster or namespace box left (and no app box: no app here has two versions).
    unboxed, _ = read(boxBy="none")
    assert not [n for n in unboxed.values() if n.get("isBox")] and not [n for n in unboxed.values() if n.get("parent")]
