"""Ambient, multi-cluster, bad telemetry and boxes, on literal rows: each rule with a case that triggers it and a
near-identical case that does not (the Prometheus-backed counterparts are in
``tests/topology_prometheus/test_traffic_rules_prometheus.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.topology.bookinfo import CLUSTER, NS, U, labels
from topology.graph import GraphInputs, GraphOptions, MeshContext, WorkloadInfo, build_graph
from topology.graph.filtering import filter_graph
from topology.graph.model import Node, TrafficMap
from topology.graph.paths import Hop, PathResolver
from topology.graph.samples import IstioLabels, RequestSample, TcpSample, waypoint_keys
from topology.graph.steps import ServiceEntryStep, StepContext
from topology.graph.traffic_map import SampleCompiler, build_traffic_map

C = CLUSTER
VERSIONED = GraphOptions(graph_type="versionedApp", id_style="readable")
WAYPOINT_LABELS = {"gateway.istio.io/managed": "istio.io-mesh-controller"}


def path(row: IstioLabels, options: GraphOptions = VERSIONED, waypoints: frozenset[Any] = frozenset()) -> list[str]:
    """The node ids of a row's path (``[]``: the row is dropped)."""
    hops: tuple[Hop, ...] = PathResolver(options, waypoints).resolve(row)
    return [hops[0].source.id, *(hop.target.id for hop in hops)] if hops else []


def tcp(source: str, dest: str | None, service: str, reporter: str, **overrides: str) -> IstioLabels:
    row: dict[str, Any] = {**labels(source, dest, service, reporter=reporter), **overrides}
    for name in ("response_code", "grpc_response_status"):
        row.pop(name, None)
    row["request_protocol"] = "tcp"
    return row  # type: ignore[return-value]


# Ambient: ztunnel (L4) and waypoint (L7) reports, counted once, waypoints drawn as workloads.


def test_ztunnel_hops_through_a_waypoint_are_workload_to_workload():
    waypoints = frozenset({("", NS, "waypoint")})
    # web's ztunnel reports the connection to the waypoint standing in front of details.
    to_waypoint = tcp("productpage", "details", "details", "source", destination_workload="waypoint")
    assert path(to_waypoint, waypoints=waypoints) == [f"vapp|{C}|{NS}|productpage|v1", f"wl|{C}|{NS}|waypoint"]
    # Near-identical: the same row when the inventory has no such waypoint gets the usual service node in between,
    # and the workload keeps its app and version labels.
    assert path(to_waypoint) == [
        f"vapp|{C}|{NS}|productpage|v1",
        f"svc|{C}|{NS}|details",
        f"vapp|{C}|{NS}|details|v1",
    ]
    # details' ztunnel reports the waypoint's connection to details: from the waypoint, no service node either.
    from_waypoint = tcp("productpage", "details", "details", "destination", source_workload="waypoint")
    assert path(from_waypoint, waypoints=waypoints) == [f"wl|{C}|{NS}|waypoint", f"vapp|{C}|{NS}|details|v1"]


def test_waypoint_keys_come_from_the_inventory_label():
    mesh = MeshContext(
        workloads=[WorkloadInfo(NS, "waypoint", labels=WAYPOINT_LABELS), WorkloadInfo(NS, "waypoint-like", app="x")]
    )
    assert waypoint_keys(mesh) == frozenset({("", NS, "waypoint")})


def test_l7_from_the_waypoint_and_l4_from_ztunnel_both_appear_once():
    waypoint = RequestSample(labels("productpage", "details", "details", reporter="waypoint"), 3.0)
    gateway_copy = RequestSample(labels("productpage", "details", "details", reporter="source"), 3.0)
    sent = {"source": 400.0, "destination": 400.0}
    ztunnel = [TcpSample(tcp("productpage", "details", "details", r), sent[r], 100.0) for r in sent]
    compiled = SampleCompiler().add_traffic([waypoint, gateway_copy], ztunnel)
    tm = build_traffic_map(compiled, GraphOptions(graph_type="workload", inject_service_nodes=False)).tm
    edge = (f"wl|{C}|{NS}|productpage-v1", f"wl|{C}|{NS}|details-v1")
    # 3 req/s once (the waypoint's report; the caller proxy's copy has the same key), 400 + 100 B/s once.
    assert tm.edges[(*edge, "http")].rate == 3.0
    assert tm.edges[(*edge, "tcp")].rate == 500.0


# Multi-cluster: cluster boxes, traffic between clusters once, the cluster inferred as Kiali does.


def test_a_destination_cluster_reported_unknown_is_the_callers():
    row = {**labels("productpage", "details", "details", reporter="source"), "destination_cluster": U}
    assert path(row)[-1] == f"vapp|{C}|{NS}|details|v1"  # Istio#29373: not a node of the `unknown` cluster
    # Near-identical: a known destination cluster is kept as reported.
    west = {**labels("productpage", "details", "details", reporter="source"), "destination_cluster": "west"}
    assert path(west)[-1] == f"vapp|west|{NS}|details|v1"
    # Not inferred without a service namespace (nothing places the destination in the caller's cluster).
    unplaced = {**row, "destination_service_namespace": U, "destination_workload": U}
    assert path(unplaced)[-1] == f"svc|{U}|{U}|details"


def test_rows_whose_cluster_label_is_present_but_unknown_are_dropped():
    # Source telemetry with a namespace but `source_cluster="unknown"` (Kiali's IsBadSourceTelemetry case 2).
    bad_source = {**labels("productpage", "details", "details"), "source_cluster": U}
    assert path(bad_source) == []
    # Near-identical: telemetry from before Istio 1.9 has no cluster label at all: kept, in the `unknown` cluster.
    old: dict[str, str] = dict(labels("productpage", "details", "details"))
    del old["source_cluster"], old["destination_cluster"]
    assert path(old) == [f"vapp|{U}|{NS}|productpage|v1", f"svc|{U}|{NS}|details", f"vapp|{U}|{NS}|details|v1"]
    # The destination's: both clusters unknown, nothing to infer from (IsBadDestTelemetry case 2).
    bad_dest = {**labels("unknown", "details", "details"), "destination_cluster": U}
    assert path(bad_dest) == []


def test_traffic_between_two_clusters_is_counted_once_and_boxed_by_cluster():
    rows = [
        RequestSample({**labels("reviews-v3", "ratings", "ratings", reporter=r), "destination_cluster": "west"}, 1.0)
        for r in ("source", "destination")
    ]
    graph = build_graph(
        GraphInputs(requests=rows),
        GraphOptions(box_by=frozenset({"cluster"}), id_style="readable"),
        0,
        60,
    )
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    edges = {(e["data"]["source"], e["data"]["target"]): e["data"] for e in graph["elements"]["edges"]}
    assert edges[(f"vapp|{C}|{NS}|reviews|v3", f"svc|west|{NS}|ratings")]["traffic"]["rates"]["http"] == "1.00"
    assert nodes[f"vapp|west|{NS}|ratings|v1"]["parent"] == "box|cluster|west"
    assert nodes[f"vapp|{C}|{NS}|reviews|v3"]["parent"] == "box|cluster|east"
    # Near-identical: one cluster only, no cluster box.
    home = [RequestSample(labels("reviews-v3", "ratings", "ratings", reporter="source"), 1.0)]
    single = build_graph(GraphInputs(requests=home), GraphOptions(box_by=frozenset({"cluster"})), 0, 60)
    assert not [n for n in single["elements"]["nodes"] if n["data"].get("isBox") == "cluster"]


# Bad telemetry: Kiali's heuristics for Istio's known quirks.


def test_a_raw_ip_named_as_service_without_workload_is_dropped():
    ip = {**labels("details", None, "10.1.2.3:9080"), "destination_service": "10.1.2.3:9080", "reporter": "source"}
    assert path(ip) == []
    # Near-identical: the same IP let through by PassthroughCluster (service name differs from the host) is drawn.
    through = {**ip, "destination_service_name": "PassthroughCluster", "destination_service_namespace": U}
    assert path(through) == [f"vapp|{C}|{NS}|details|v1", f"svc|{C}|{U}|PassthroughCluster"]
    # ... and an IP host with a known workload (here without app labels) is no lifecycle glitch either.
    with_workload = {**ip, "destination_workload": "ratings-v1"}
    assert path(with_workload)[-1] == f"wl|{C}|{NS}|ratings-v1"


def test_no_service_node_for_passthrough_cluster():
    row = {**labels("details", "ratings", "PassthroughCluster"), "destination_service": "10.1.2.3:9080"}
    assert path(row) == [f"vapp|{C}|{NS}|details|v1", f"vapp|{C}|{NS}|ratings|v1"]
    normal = labels("details", "ratings", "ratings")
    assert len(path(normal)) == 3  # a normal service is injected


def test_the_egress_gateway_host_reported_as_service_is_the_egress_gateway():
    host = "istio-egressgateway.istio-system.svc.cluster.local"
    row = {
        **labels("ratings", None, host, reporter="source"),
        "destination_service_name": host,
        "destination_service_namespace": U,
        "destination_cluster": U,
    }
    assert path(row) == [
        f"vapp|{C}|{NS}|ratings|v1",
        f"svc|{C}|istio-system|istio-egressgateway",
        f"vapp|{C}|istio-system|istio-egressgateway|latest",
    ]
    # Near-identical: the usual telemetry (service name `istio-egressgateway`, not the host) is read as reported.
    usual = {**row, "destination_service_name": "istio-egressgateway", "destination_service_namespace": "istio-system"}
    assert path(usual) == [f"vapp|{C}|{NS}|ratings|v1", f"svc|{C}|istio-system|istio-egressgateway"]


def test_a_source_with_a_namespace_but_no_workload_nor_app_is_dropped():
    row = {**labels("productpage", "details", "details"), "source_workload": U, "source_app": U}
    row["source_canonical_service"] = U
    assert path(row) == []
    # Near-identical: no namespace either: the `unknown` caller (a client without a sidecar).
    assert path(labels("unknown", "details", "details"))[0] == "unknown"


@pytest.mark.parametrize(
    ("name", "entry"), [("PassthroughCluster", False), ("BlackHoleCluster", False), ("x.io", True)]
)
def test_envoy_clusters_are_no_service_entries(name: str, entry: bool):
    node = Node(id=f"svc|{C}|{U}|{name}", node_type="service", cluster=C, namespace=U, service=name)
    tm = TrafficMap()
    tm.add_node(node)
    ServiceEntryStep().apply(tm, StepContext(options=VERSIONED))
    assert (node.is_service_entry is not None) is entry


# Boxes: boxBy=none keeps the app boxes the graph type implies, as Kiali does.


def _boxed_graph(graph_type: str) -> dict[str, Any]:
    rows = [
        RequestSample(labels("productpage", dest, "reviews", reporter="destination"), 1.0)
        for dest in ("reviews-v1", "reviews-v2")
    ]
    options = GraphOptions(
        graph_type=graph_type,  # type: ignore[arg-type]
        box_by=frozenset({"app", "namespace", "cluster"}),
        id_style="readable",
    )
    return build_graph(GraphInputs(requests=rows), options, 0, 60)


def test_box_by_none_keeps_app_boxes_of_app_graphs_only():
    kept = filter_graph(_boxed_graph("versionedApp"), None, True, [])
    boxes = [n["data"].get("isBox") for n in kept["elements"]["nodes"]]
    assert [b for b in boxes if b] == ["app"]  # reviews v1 and v2 stay in their app box
    workload_graph = filter_graph(_boxed_graph("workload"), None, True, [])
    assert not [n for n in workload_graph["elements"]["nodes"] if n["data"].get("isBox")]  # nothing implied here
