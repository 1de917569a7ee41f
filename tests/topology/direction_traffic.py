"""Literal rows of traffic by direction (gRPC messages, TCP bytes, HTTP body bytes), every row from both reporters.

Per second, counted once (the destination reports; each source report is its twin and must not count again):

- gRPC productpage → details: 2 requests (status 0); 6 messages sent by the client, 4 by the server.
- gRPC productpage → ratings: 1 request OK and 1 with status 14 (an error); 2 messages sent, 8 received.
- TCP reviews-v1 → ratings: 1000 B sent, 500 B received; TCP reviews-v2 → ratings: 300 B sent, 100 B received.
- HTTP gateway → productpage: 10 requests; request bodies 2000 B, response bodies 50000 B.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clients.prometheus import GraphRows, Row
from tests.topology.bookinfo import labels


def _row(metric: Mapping[str, Any], value: float) -> Row:
    return {"metric": dict(metric), "value": [0, str(value)]}


def _both(source: str, dest: str, service: str, value: float, **kw: Any) -> list[Row]:
    """The row as the source and as the destination proxy report it."""
    return [_row(labels(source, dest, service, reporter=r, **kw), value) for r in ("source", "destination")]


def direction_rows() -> GraphRows:
    """The rows of the module docstring, as Prometheus answers the graph queries."""
    grpc_ok = {"protocol": "grpc", "grpc_status": "0"}
    return GraphRows(
        requests=_both("productpage", "details", "details", 2.0, **grpc_ok)
        + _both("productpage", "ratings", "ratings", 1.0, **grpc_ok)
        + _both("productpage", "ratings", "ratings", 1.0, protocol="grpc", grpc_status="14")
        + _both("gateway", "productpage", "productpage", 10.0),
        tcp_sent=_both("reviews-v1", "ratings", "ratings", 1000.0, protocol="tcp")
        + _both("reviews-v2", "ratings", "ratings", 300.0, protocol="tcp"),
        tcp_received=_both("reviews-v1", "ratings", "ratings", 500.0, protocol="tcp")
        + _both("reviews-v2", "ratings", "ratings", 100.0, protocol="tcp"),
        grpc_sent=_both("productpage", "details", "details", 6.0, protocol="grpc")
        + _both("productpage", "ratings", "ratings", 2.0, protocol="grpc"),
        grpc_received=_both("productpage", "details", "details", 4.0, protocol="grpc")
        + _both("productpage", "ratings", "ratings", 8.0, protocol="grpc"),
        http_request_bytes=_both("gateway", "productpage", "productpage", 2000.0),
        http_response_bytes=_both("gateway", "productpage", "productpage", 50000.0),
    )
