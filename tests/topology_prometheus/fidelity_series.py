"""A messy mesh as Istio series at exact timestamps: the traffic cases of graph fidelity, for a real Prometheus.

Unlike ``bookinfo_series`` (every request seen by both sidecars), most cases here are seen by one proxy only, as in
real meshes.  Counters grow at constant rates over 10 minutes (41 points every 15 s from :data:`T0`), queried at
:data:`AT` with a 5m window, so every rate is known by hand.  Namespace ``shop``, cluster ``Kubernetes``:

- ``R1``  web -> cart 200 @ 4/s, both reporters (counted once);
- ``R2``  web -> cart, no response (code 0, ``DC``) @ 0.25/s, both reporters;
- ``R3``  web -> cart 200 with flag ``DC`` @ 0.25/s, both reporters (a response: not an error);
- ``R4``  web -> payments-v1 of cluster ``west`` 200 @ 1/s, source report only (west's Prometheus is not read);
- ``R5``  web -> catalog 200 @ 2/s, both reporters; catalog is labelled the modern way: no ``app``/``version`` labels,
  canonical service ``catalog``, revision ``v2``;
- ``R6``  web -> an unknown destination, ``404 NR`` @ 0.5/s, source report only (no route: no service, no workload);
- ``R7``  web -> service ``search`` without a healthy workload, ``503 UH`` @ 0.5/s, source report only;
- ``R8``  a caller without a sidecar (``source_workload="unknown"``) -> web 200 @ 3/s, destination report only;
- ``R9``  web -> pricing gRPC OK @ 2/s, both reporters; ``R10`` web -> pricing, no response (code 0, ``URX``) @ 0.5/s,
  source report only (the upstream reset: the destination never reported, its workload is unknown);
- ``R11`` worker -> batch-v1 directly (no service) 200 @ 1/s, both reporters;
- ``T1``  cart -> db TCP, 1000 B/s sent and 2000 B/s received, both reporters;
- ``T2``  web -> payments-v1 of ``west`` TCP, 100 B/s sent, 300 B/s received, source report only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.prometheus import ISTIO_FAMILIES, OpenMetricsSeries, render_openmetrics

T0 = 1_700_000_000
STEP_SECONDS = 15
POINTS = 41
AT = T0 + STEP_SECONDS * (POINTS - 1)
WINDOW = "5m"
WINDOW_SECONDS = 300
NS = "shop"
CLUSTER = "Kubernetes"
U = "unknown"


@dataclass(frozen=True)
class Peer:
    """One workload as Istio labels it: ``app``/``version`` labels and the canonical service/revision."""

    workload: str
    canonical: tuple[str, str]
    app_labels: tuple[str, str] | None = None  # None: the workload has no app/version labels (labelled the modern way)
    namespace: str = NS
    cluster: str = CLUSTER


UNKNOWN_CALLER = Peer(U, (U, U), (U, U), U, U)
WEB = Peer("web-v1", ("web", "v1"), ("web", "v1"))
WORKER = Peer("worker-v1", ("worker", "v1"), ("worker", "v1"))
CART = Peer("cart-v1", ("cart", "v1"), ("cart", "v1"))
CATALOG = Peer("catalog-5d8f", ("catalog", "v2"))
PAYMENTS = Peer("payments-v1", ("payments", "v1"), ("payments", "v1"), "payments", "west")
PRICING = Peer("pricing-v1", ("pricing", "v1"), ("pricing", "v1"))
BATCH = Peer("batch-v1", ("batch", "v1"), ("batch", "v1"))
DB = Peer("db-v1", ("db", "v1"), ("db", "v1"))
#: The destination of a request that reached no workload: Istio knows neither workload nor app.
NO_WORKLOAD = Peer(U, (U, U), (U, U), U)


@dataclass(frozen=True)
class Report:
    """One series of ``istio_requests_total`` (or of TCP bytes) as the given reporters see it."""

    source: Peer
    destination: Peer
    service: str  # destination_service_name; "unknown" when Istio has none
    service_namespace: str
    rate: float
    reporters: tuple[str, ...]
    code: str = "200"
    flags: str = "-"
    protocol: str = "http"
    grpc_status: str = ""
    host: str = ""  # destination_service; the service's FQDN by default
    extra: dict[str, str] = field(default_factory=dict)


REQUESTS: tuple[Report, ...] = (
    Report(WEB, CART, "cart", NS, 4, ("source", "destination")),
    Report(WEB, CART, "cart", NS, 0.25, ("source", "destination"), code="0", flags="DC"),
    Report(WEB, CART, "cart", NS, 0.25, ("source", "destination"), flags="DC"),
    Report(WEB, PAYMENTS, "payments", "payments", 1, ("source",)),
    Report(WEB, CATALOG, "catalog", NS, 2, ("source", "destination")),
    Report(WEB, NO_WORKLOAD, U, U, 0.5, ("source",), code="404", flags="NR", host="nosuch.example.com"),
    Report(WEB, NO_WORKLOAD, "search", NS, 0.5, ("source",), code="503", flags="UH"),
    Report(UNKNOWN_CALLER, WEB, "web", NS, 3, ("destination",)),
    Report(WEB, PRICING, "pricing", NS, 2, ("source", "destination"), protocol="grpc", grpc_status="0"),
    Report(WEB, NO_WORKLOAD, "pricing", NS, 0.5, ("source",), code="0", flags="URX", protocol="grpc"),
    Report(WORKER, BATCH, U, U, 1, ("source", "destination"), host=U),
)
TCP: tuple[tuple[Report, float, float], ...] = (
    (Report(CART, DB, "db", NS, 0, ("source", "destination")), 1000, 2000),
    (Report(WEB, PAYMENTS, "payments", "payments", 0, ("source",)), 100, 300),
)


def _peer_labels(side: str, peer: Peer) -> dict[str, str]:
    app, version = peer.app_labels or (U, U)
    return {
        f"{side}_workload": peer.workload,
        f"{side}_workload_namespace": peer.namespace,
        f"{side}_app": app,
        f"{side}_version": version,
        f"{side}_canonical_service": peer.canonical[0],
        f"{side}_canonical_revision": peer.canonical[1],
        f"{side}_cluster": peer.cluster,
        f"{side}_principal": U
        if peer.workload == U
        else f"spiffe://cluster.local/ns/{peer.namespace}/sa/{peer.workload}",
    }


def build_labels(report: Report, reporter: str) -> dict[str, str]:
    """The Istio standard labels of one report as ``reporter`` sees it (``response_code`` added by callers)."""
    host = report.host or f"{report.service}.{report.service_namespace}.svc.cluster.local"
    labels = {
        "reporter": reporter,
        **_peer_labels("source", report.source),
        **_peer_labels("destination", report.destination),
        "destination_service": host,
        "destination_service_name": report.service,
        "destination_service_namespace": report.service_namespace,
        "request_protocol": report.protocol,
        "response_flags": report.flags,
        "connection_security_policy": "mutual_tls" if reporter == "destination" else U,
        **report.extra,
    }
    return labels


def _points(rate: float) -> list[tuple[float, float]]:
    return [(T0 + i * STEP_SECONDS, rate * i * STEP_SECONDS) for i in range(POINTS)]


def build_series() -> list[OpenMetricsSeries]:
    """Every series of the data set, with all its points."""
    series: list[OpenMetricsSeries] = []
    for report in REQUESTS:
        for reporter in report.reporters:
            labels = {**build_labels(report, reporter), "response_code": report.code}
            if report.grpc_status:
                labels["grpc_response_status"] = report.grpc_status
            series.append(OpenMetricsSeries("istio_requests_total", labels, _points(report.rate)))
    for report, sent, received in TCP:
        for reporter in report.reporters:
            labels = {**build_labels(report, reporter), "request_protocol": "tcp"}
            series.append(OpenMetricsSeries("istio_tcp_sent_bytes_total", labels, _points(sent)))
            series.append(OpenMetricsSeries("istio_tcp_received_bytes_total", labels, _points(received)))
    return series


def build_openmetrics() -> str:
    """The data set as an OpenMetrics document for ``promtool tsdb create-blocks-from openmetrics``."""
    return render_openmetrics(ISTIO_FAMILIES, build_series())


def build_exposition_at(timestamp: float) -> str:
    """The data set's values at one instant, as a scrape would return them (text format, no timestamps)."""
    lines = []
    for item in build_series():
        value = dict(item.points)[timestamp]
        labels = ",".join(f'{k}="{v}"' for k, v in item.labels.items() if v)
        lines.append(f"{item.name}{{{labels}}} {value!r}")
    return "\n".join(lines) + "\n"
