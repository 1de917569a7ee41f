"""Traffic by direction on a real Prometheus filled by promtool (``direction_series``: G1, H1, T1 in its docstring).

Rates are constant, so each is ``increase / 300 s`` of a counter growing by ``rate * 15`` per point; both reporters
report every series and the graph counts each once (12 messages/s, not 24).
"""

from __future__ import annotations

from typing import Any

import pytest

from clients.prometheus import PrometheusClient
from tests.topology_prometheus.bookinfo_series import AT, CLUSTER, WINDOW, WINDOW_SECONDS
from tests.topology_prometheus.direction_series import NS
from topology.graph import GraphOptions, build_graph, build_graph_queries
from topology.graph.rate_options import apply_direction_options
from topology.telemetry.rows import build_graph_inputs, build_graph_query_parts

pytestmark = pytest.mark.prometheus

FRONTEND, CART = f"vapp|{CLUSTER}|{NS}|frontend|v1", f"vapp|{CLUSTER}|{NS}|cart|v1"
WEB = f"vapp|{CLUSTER}|{NS}|web|v1"


def svc(name: str) -> str:
    return f"svc|{CLUSTER}|{NS}|{name}"


def _graph(client: PrometheusClient) -> dict[str, Any]:
    rows = client.fetch_graph_rows(build_graph_query_parts(build_graph_queries([NS], WINDOW)), at=AT)
    options = GraphOptions(namespaces=frozenset({NS}), id_style="readable")
    return build_graph(build_graph_inputs(rows), options, AT, WINDOW_SECONDS)


def _edges(graph: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]): e["data"]
        for e in graph["elements"]["edges"]
    }


def test_stored_graph_keeps_every_direction(direction_prometheus: PrometheusClient) -> None:
    edges = _edges(_graph(direction_prometheus))
    # G1: 4 + 1 requests/s (1 with status 14: 20 %); 12 messages/s sent, 20 received, counted once.
    assert edges[(FRONTEND, svc("cart"), "grpc")]["traffic"]["rates"] == {
        "grpc": "5.00",
        "grpcErr": "1.00",
        "grpcPercentErr": "20.0",
        "grpcPercentReq": "100.0",
        "grpcSent": "12.00",
        "grpcReceived": "20.00",
    }
    # H1: 2 requests/s; body bytes 300 and 8000 B/s (the histograms' _sum rates).
    rates = edges[(WEB, svc("frontend"), "http")]["traffic"]["rates"]
    assert (rates["http"], rates["httpRequestBytes"], rates["httpResponseBytes"]) == ("2.00", "300.00", "8000.00")
    # T1: 700 + 100 B/s, each direction kept.
    assert edges[(CART, svc("redis"), "tcp")]["traffic"]["rates"] == {
        "tcp": "800.00",
        "tcpSent": "700.00",
        "tcpReceived": "100.00",
    }


@pytest.mark.parametrize(("rate_grpc", "expected"), [("sent", "12.00"), ("received", "20.00"), ("total", "32.00")])
def test_rate_grpc_messages(direction_prometheus: PrometheusClient, rate_grpc: str, expected: str) -> None:
    graph = apply_direction_options(_graph(direction_prometheus), rate_grpc=rate_grpc)
    edge = _edges(graph)[(FRONTEND, svc("cart"), "grpc")]
    assert edge["traffic"]["rates"]["grpc"] == expected and "grpcErr" not in edge["traffic"]["rates"]
    cart = next(n["data"] for n in graph["elements"]["nodes"] if n["data"]["id"] == CART)
    assert {t["protocol"]: t["rates"] for t in cart["traffic"]}["grpc"] == {"grpcIn": expected}


@pytest.mark.parametrize(("rate_tcp", "expected"), [("sent", "700"), ("received", "100"), ("total", "800")])
def test_rate_tcp(direction_prometheus: PrometheusClient, rate_tcp: str, expected: str) -> None:
    edge = _edges(apply_direction_options(_graph(direction_prometheus), rate_tcp=rate_tcp))[(CART, svc("redis"), "tcp")]
    assert edge["traffic"]["rates"]["tcp"] == f"{expected}.00" and edge["throughput"] == expected


@pytest.mark.parametrize(("kind", "expected"), [("request", "300"), ("response", "8000")])
def test_throughput_type(direction_prometheus: PrometheusClient, kind: str, expected: str) -> None:
    graph = apply_direction_options(_graph(direction_prometheus), throughput_type=kind)
    assert _edges(graph)[(WEB, svc("frontend"), "http")]["throughput"] == expected
