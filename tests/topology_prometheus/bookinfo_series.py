"""A literal Bookinfo-like mesh as Istio series at exact timestamps, for backfilling a real Prometheus.

Every (edge, response code) has a constant rate and a constant latency, so every query result is known by hand:
counters grow by ``rate * 15`` per 15 s point (integers, so rates come back exactly), and all observations of a
series fall into the one bucket holding its latency.  Both reporters report every request; the source reporter
adds 0.5 ms (client-side overhead) and reports ``connection_security_policy="unknown"``, like Istio.

The mesh, over 10 minutes (41 points every 15 s from :data:`T0`), queried at :data:`AT` with a 5m window:

- istio-ingressgateway -> productpage v1: 200 @ 9.5/s (40 ms), 503 @ 0.5/s (0.25 ms)
- productpage -> details v1: 200 @ 10/s (4 ms), 7.5/s over mTLS and 2.5/s plaintext; a 503 series idle in the window
- productpage -> reviews v1: 200 @ 3/s (20 ms); v2: 200 @ 4/s (80 ms); v3: 200 @ 3/s (80 ms), 404 @ 1/s (8 ms)
- reviews v2 -> ratings v1: 200 @ 3/s (6 ms), 500 @ 1/s (2000 ms, above the highest finite bucket)
- reviews v3 -> ratings v1: 200 @ 4/s (6 ms)
- reviews v1 -> ratings v1: an old series with no traffic in the window (idle)
- ratings v1 -> mongodb v1 (TCP, mTLS): 1200 B/s sent, 3000 B/s received
- out of scope: monitoring/prober -> other/echo, 200 @ 5/s
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tests.support.prometheus import ISTIO_FAMILIES, OpenMetricsSeries, render_openmetrics

T0 = 1_700_000_000
STEP_SECONDS = 15
POINTS = 41
AT = T0 + STEP_SECONDS * (POINTS - 1)  # the query instant (10 minutes after T0)
WINDOW = "5m"
WINDOW_SECONDS = 300
NS = "bookinfo"
CLUSTER = "Kubernetes"
BUCKETS: tuple[float, ...] = (1, 5, 10, 25, 50, 100, 250, 500, 1000, math.inf)
SOURCE_OVERHEAD_MS = 0.5
DURATION = "istio_request_duration_milliseconds"


@dataclass(frozen=True)
class Peer:
    """One workload as Istio labels it."""

    workload: str
    app: str
    version: str
    namespace: str = NS
    service_account: str = ""

    @property
    def principal(self) -> str:
        account = self.service_account or f"bookinfo-{self.app}"
        return f"spiffe://cluster.local/ns/{self.namespace}/sa/{account}"


GATEWAY = Peer("istio-ingressgateway", "istio-ingressgateway", "unknown", "istio-system", "istio-ingressgateway")
PRODUCTPAGE = Peer("productpage-v1", "productpage", "v1")
DETAILS = Peer("details-v1", "details", "v1")
REVIEWS_V1 = Peer("reviews-v1", "reviews", "v1")
REVIEWS_V2 = Peer("reviews-v2", "reviews", "v2")
REVIEWS_V3 = Peer("reviews-v3", "reviews", "v3")
RATINGS = Peer("ratings-v1", "ratings", "v1")
MONGODB = Peer("mongodb-v1", "mongodb", "v1")
PROBER = Peer("prober", "prober", "v1", "monitoring")
ECHO = Peer("echo-v1", "echo", "v1", "other")


@dataclass(frozen=True)
class Http:
    """One response class of one HTTP edge: ``rate`` req/s at ``latency_ms`` (destination-measured)."""

    source: Peer
    destination: Peer
    service: str
    code: str
    rate: float
    latency_ms: float
    mtls: bool = True
    idle_total: float = 0.0  # > 0: the counter stays at this value (no traffic in the window)


@dataclass(frozen=True)
class Tcp:
    """One TCP edge: bytes/s sent (response) and received (request)."""

    source: Peer
    destination: Peer
    service: str
    sent: float
    received: float
    mtls: bool = True


HTTP_TRAFFIC: tuple[Http, ...] = (
    Http(GATEWAY, PRODUCTPAGE, "productpage", "200", 9.5, 40),
    Http(GATEWAY, PRODUCTPAGE, "productpage", "503", 0.5, 0.25),
    Http(PRODUCTPAGE, DETAILS, "details", "200", 7.5, 4),
    Http(PRODUCTPAGE, DETAILS, "details", "200", 2.5, 4, mtls=False),
    Http(PRODUCTPAGE, DETAILS, "details", "503", 0, 4, idle_total=7),
    Http(PRODUCTPAGE, REVIEWS_V1, "reviews", "200", 3, 20),
    Http(PRODUCTPAGE, REVIEWS_V2, "reviews", "200", 4, 80),
    Http(PRODUCTPAGE, REVIEWS_V3, "reviews", "200", 3, 80),
    Http(PRODUCTPAGE, REVIEWS_V3, "reviews", "404", 1, 8),
    Http(REVIEWS_V2, RATINGS, "ratings", "200", 3, 6),
    Http(REVIEWS_V2, RATINGS, "ratings", "500", 1, 2000),
    Http(REVIEWS_V3, RATINGS, "ratings", "200", 4, 6),
    Http(REVIEWS_V1, RATINGS, "ratings", "200", 0, 6, idle_total=42),
    Http(PROBER, ECHO, "echo", "200", 5, 3),
)
TCP_TRAFFIC: tuple[Tcp, ...] = (Tcp(RATINGS, MONGODB, "mongodb", sent=1200, received=3000),)


def build_labels(
    reporter: str, source: Peer, destination: Peer, service: str, protocol: str, mtls: bool
) -> dict[str, str]:
    """The Istio standard labels of one series as ``reporter`` sees it (``response_code`` added by callers)."""
    secured = mtls and reporter == "destination"
    return {
        "reporter": reporter,
        "source_workload": source.workload,
        "source_workload_namespace": source.namespace,
        "source_principal": source.principal if mtls else "unknown",
        "source_app": source.app,
        "source_version": source.version,
        "source_canonical_service": source.app,
        "source_canonical_revision": source.version,
        "source_cluster": CLUSTER,
        "destination_workload": destination.workload,
        "destination_workload_namespace": destination.namespace,
        "destination_principal": destination.principal if mtls else "unknown",
        "destination_app": destination.app,
        "destination_version": destination.version,
        "destination_service": f"{service}.{destination.namespace}.svc.cluster.local",
        "destination_service_name": service,
        "destination_service_namespace": destination.namespace,
        "destination_canonical_service": destination.app,
        "destination_canonical_revision": destination.version,
        "destination_cluster": CLUSTER,
        "request_protocol": protocol,
        "response_flags": "-",
        "connection_security_policy": ("mutual_tls" if secured else "none") if reporter == "destination" else "unknown",
    }


def _points(rate: float, idle_total: float = 0.0, scale: float = 1.0) -> list[tuple[float, float]]:
    if idle_total:
        return [(T0 + i * STEP_SECONDS, idle_total * scale) for i in range(POINTS)]
    return [(T0 + i * STEP_SECONDS, rate * i * STEP_SECONDS * scale) for i in range(POINTS)]


def build_series() -> list[OpenMetricsSeries]:
    """Every series of the mesh (both reporters), with all their points."""
    series: list[OpenMetricsSeries] = []
    for item in HTTP_TRAFFIC:
        for reporter in ("source", "destination"):
            labels = build_labels(reporter, item.source, item.destination, item.service, "http", item.mtls)
            labels = {**labels, "response_code": item.code}
            latency = item.latency_ms + (SOURCE_OVERHEAD_MS if reporter == "source" else 0.0)
            series.append(OpenMetricsSeries("istio_requests_total", labels, _points(item.rate, item.idle_total)))
            for bound in BUCKETS:
                le = "+Inf" if math.isinf(bound) else f"{bound:g}"
                inside = 1.0 if latency <= bound else 0.0
                points = _points(item.rate, item.idle_total, inside)
                series.append(
                    OpenMetricsSeries("istio_request_duration_milliseconds_bucket", {**labels, "le": le}, points)
                )
            series.append(OpenMetricsSeries(f"{DURATION}_sum", labels, _points(item.rate, item.idle_total, latency)))
            series.append(
                OpenMetricsSeries(
                    "istio_request_duration_milliseconds_count", labels, _points(item.rate, item.idle_total)
                )
            )
    for tcp in TCP_TRAFFIC:
        for reporter in ("source", "destination"):
            labels = build_labels(reporter, tcp.source, tcp.destination, tcp.service, "tcp", tcp.mtls)
            series.append(OpenMetricsSeries("istio_tcp_sent_bytes_total", labels, _points(tcp.sent)))
            series.append(OpenMetricsSeries("istio_tcp_received_bytes_total", labels, _points(tcp.received)))
    return series


def build_openmetrics() -> str:
    """The whole data set as an OpenMetrics document for ``promtool tsdb create-blocks-from openmetrics``."""
    return render_openmetrics(ISTIO_FAMILIES, build_series())


def build_exposition_at(timestamp: float) -> str:
    """The data set's values at one instant, as a scrape would return them (text format, no timestamps)."""
    return render_exposition_at(build_series(), timestamp)


def render_exposition_at(series: list[OpenMetricsSeries], timestamp: float) -> str:
    """The values of ``series`` at one instant, as a scrape would return them (text format, no timestamps)."""
    lines = []
    for item in series:
        value = dict(item.points)[timestamp]
        labels = ",".join(f'{k}="{v}"' for k, v in item.labels.items() if v)
        lines.append(f"{item.name}{{{labels}}} {value!r}")
    return "\n".join(lines) + "\n"
