"""A small gRPC/HTTP/TCP mesh with traffic by direction, as Istio series for backfilling a real Prometheus.

Constant rates over the points of ``bookinfo_series`` (41 points every 15 s from ``T0``, queried at ``AT`` with a 5m
window), every series reported by both proxies (the graph counts the destination's once):

- G1 frontend v1 -> cart v1 (gRPC): status 0 @ 4/s and status 14 @ 1/s; messages: 12/s sent by the client
  (``istio_request_messages_total``), 20/s by the server (``istio_response_messages_total``)
- H1 web v1 -> frontend v1 (HTTP 200 @ 2/s): request bodies 300 B/s, response bodies 8000 B/s (``istio_request_bytes`` /
  ``istio_response_bytes`` histograms: ``_sum`` grows by the bytes, ``_count`` and the ``+Inf`` bucket by requests)
- T1 cart v1 -> redis v1 (TCP): 700 B/s sent, 100 B/s received
"""

from __future__ import annotations

from tests.support.prometheus import OpenMetricsSeries, render_openmetrics
from tests.topology_prometheus.bookinfo_series import (
    POINTS,
    STEP_SECONDS,
    T0,
    Peer,
    build_labels,
    render_exposition_at,
)

NS = "grpc-shop"
WEB, FRONTEND, CART, REDIS = (Peer(f"{name}-v1", name, "v1", NS) for name in ("web", "frontend", "cart", "redis"))
FAMILIES = {
    "istio_requests": "counter",
    "istio_request_messages": "counter",
    "istio_response_messages": "counter",
    "istio_request_bytes": "histogram",
    "istio_response_bytes": "histogram",
    "istio_tcp_sent_bytes": "counter",
    "istio_tcp_received_bytes": "counter",
}


def _points(rate: float) -> list[tuple[float, float]]:
    return [(T0 + i * STEP_SECONDS, rate * i * STEP_SECONDS) for i in range(POINTS)]


def _histogram(name: str, labels: dict[str, str], count_rate: float, sum_rate: float) -> list[OpenMetricsSeries]:
    return [
        OpenMetricsSeries(f"{name}_bucket", {**labels, "le": "+Inf"}, _points(count_rate)),
        OpenMetricsSeries(f"{name}_sum", labels, _points(sum_rate)),
        OpenMetricsSeries(f"{name}_count", labels, _points(count_rate)),
    ]


def build_series() -> list[OpenMetricsSeries]:
    """Every series of the module docstring, both reporters."""
    series: list[OpenMetricsSeries] = []
    for reporter in ("source", "destination"):
        grpc = {**build_labels(reporter, FRONTEND, CART, "cart", "grpc", True), "response_code": "200"}
        for status, rate in (("0", 4.0), ("14", 1.0)):
            labels = {**grpc, "grpc_response_status": status}
            series.append(OpenMetricsSeries("istio_requests_total", labels, _points(rate)))
        series.append(OpenMetricsSeries("istio_request_messages_total", grpc, _points(12.0)))
        series.append(OpenMetricsSeries("istio_response_messages_total", grpc, _points(20.0)))
        http = {**build_labels(reporter, WEB, FRONTEND, "frontend", "http", True), "response_code": "200"}
        series.append(OpenMetricsSeries("istio_requests_total", http, _points(2.0)))
        series += _histogram("istio_request_bytes", http, 2.0, 300.0)
        series += _histogram("istio_response_bytes", http, 2.0, 8000.0)
        tcp = build_labels(reporter, CART, REDIS, "redis", "tcp", True)
        series.append(OpenMetricsSeries("istio_tcp_sent_bytes_total", tcp, _points(700.0)))
        series.append(OpenMetricsSeries("istio_tcp_received_bytes_total", tcp, _points(100.0)))
    return series


def build_openmetrics() -> str:
    """The data set as an OpenMetrics document for ``promtool tsdb create-blocks-from openmetrics``."""
    return render_openmetrics(FAMILIES, build_series())


def build_exposition_at(timestamp: float) -> str:
    """The data set's values at one instant, as a scrape would return them."""
    return render_exposition_at(build_series(), timestamp)
