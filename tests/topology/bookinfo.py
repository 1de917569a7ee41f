"""Bookinfo-shaped literal Istio samples shared by the topology tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from topology.graph.model import Edge, GraphOptions, Node, TrafficMap
from topology.graph.pipeline import GraphInputs, build_traffic_graph
from topology.graph.samples import IstioLabels, LatencySample, RequestSample, TcpSample
from topology.graph.traffic_map import compute_node_rates

CLUSTER = "east"
NS = "bookinfo"
U = "unknown"

# name -> (namespace, workload, app, version)
WORKLOADS = {
    "gateway": ("istio-system", "istio-ingressgateway", "istio-ingressgateway", U),
    "productpage": (NS, "productpage-v1", "productpage", "v1"),
    "details": (NS, "details-v1", "details", "v1"),
    "reviews-v1": (NS, "reviews-v1", "reviews", "v1"),
    "reviews-v2": (NS, "reviews-v2", "reviews", "v2"),
    "reviews-v3": (NS, "reviews-v3", "reviews", "v3"),
    "ratings": (NS, "ratings-v1", "ratings", "v1"),
    "unknown": (U, U, U, U),
}


def labels(
    source: str,
    dest: str | None,
    service: str,
    *,
    reporter: str = "destination",
    code: str = "200",
    protocol: str = "http",
    flags: str = "-",
    mtls: bool = True,
    grpc_status: str = U,
    service_namespace: str = NS,
    cluster: str = CLUSTER,
) -> IstioLabels:
    """Labels of one istio_requests_total row from WORKLOADS[source] to WORKLOADS[dest] via ``service``."""
    s_ns, s_wl, s_app, s_ver = WORKLOADS[source]
    d_ns, d_wl, d_app, d_ver = WORKLOADS[dest] if dest else (U, U, U, U)
    host = service if "." in service else f"{service}.{service_namespace}.svc.cluster.local"
    secured = mtls and reporter == "destination"
    return {
        "reporter": reporter,
        "source_cluster": cluster if source != "unknown" else U,
        "source_workload_namespace": s_ns,
        "source_workload": s_wl,
        "source_app": s_app,
        "source_version": s_ver,
        "source_principal": f"spiffe://cluster.local/ns/{s_ns}/sa/{s_app}" if source != "unknown" else U,
        "destination_cluster": cluster,
        "destination_service": host,
        "destination_service_name": service,
        "destination_service_namespace": service_namespace,
        "destination_workload_namespace": d_ns,
        "destination_workload": d_wl,
        "destination_app": d_app,
        "destination_version": d_ver,
        "destination_principal": f"spiffe://cluster.local/ns/{d_ns}/sa/{d_app}" if dest else U,
        "request_protocol": protocol,
        "response_code": code,
        "grpc_response_status": grpc_status,
        "response_flags": flags,
        "connection_security_policy": "mutual_tls" if secured else U,
    }


def both_reporters(source: str, dest: str | None, service: str, rate: float, **kw: Any) -> list[RequestSample]:
    """The same traffic reported by the source and the destination proxy (Istio emits both)."""
    return [
        RequestSample(labels(source, dest, service, reporter="source", **kw), rate),
        RequestSample(labels(source, dest, service, reporter="destination", **kw), rate),
    ]


def bookinfo_requests() -> list[RequestSample]:
    """Bookinfo traffic: gateway -> productpage -> details, reviews v1/v2/v3; reviews v2/v3 -> ratings."""
    rows: list[RequestSample] = []
    rows += both_reporters("gateway", "productpage", "productpage", 10.0)
    rows += both_reporters("productpage", "details", "details", 10.0)
    rows += both_reporters("productpage", "reviews-v1", "reviews", 3.0)
    rows += both_reporters("productpage", "reviews-v2", "reviews", 2.5)
    rows += both_reporters("productpage", "reviews-v2", "reviews", 0.5, code="503", flags="UF")
    rows += both_reporters("productpage", "reviews-v3", "reviews", 4.0)
    rows += both_reporters("reviews-v2", "ratings", "ratings", 3.0)
    rows += both_reporters("reviews-v3", "ratings", "ratings", 4.0)
    return rows


def bookinfo_latencies() -> list[LatencySample]:
    """Destination-reported latencies for two Bookinfo edges."""
    return [
        LatencySample(labels("productpage", "details", "details"), avg=5.0, p50=4.0, p95=9.0, p99=20.0, weight=10),
        LatencySample(labels("productpage", "reviews-v1", "reviews"), avg=10.0, p50=8, p95=30, p99=50, weight=3),
        LatencySample(labels("productpage", "reviews-v2", "reviews"), avg=20.0, p50=15, p95=40, p99=90, weight=3),
    ]


def tcp_sample(source: str, dest: str, service: str, sent: float, received: float) -> TcpSample:
    """A destination-reported TCP row."""
    return TcpSample(labels(source, dest, service, protocol="tcp"), sent_bytes=sent, received_bytes=received)


def literal_map(nodes: list[Node], edges: list[Edge]) -> TrafficMap:
    """A traffic map from literal nodes and edges, with node rates computed from the edges."""
    tm = TrafficMap()
    for node in nodes:
        tm.add_node(node)
    for edge in edges:
        tm.edges[edge.key] = edge
    compute_node_rates(tm)
    return tm


def svc(name: str, namespace: str = NS, **kw: Any) -> Node:
    """A literal service node."""
    return Node(
        id=f"svc|{CLUSTER}|{namespace}|{name}",
        node_type="service",
        cluster=CLUSTER,
        namespace=namespace,
        service=name,
        **kw,
    )


def wl(name: str, namespace: str = NS, app: str = "", **kw: Any) -> Node:
    """A literal workload node."""
    return Node(
        id=f"wl|{CLUSTER}|{namespace}|{name}",
        node_type="workload",
        cluster=CLUSTER,
        namespace=namespace,
        workload=name,
        app=app,
        workloads={name},
        **kw,
    )


def traffic_map(
    options: GraphOptions,
    requests: Sequence[RequestSample] = (),
    tcp: Sequence[TcpSample] = (),
    latencies: Sequence[LatencySample] = (),
) -> TrafficMap:
    """The traffic map every graph starts from (rates, response times, mTLS), as the pipeline builds it."""
    return build_traffic_graph(GraphInputs(requests=requests, tcp=tcp, latencies=latencies), options, steps=())
