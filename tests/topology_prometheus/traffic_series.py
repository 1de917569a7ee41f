"""Ambient, multi-cluster and bad telemetry as Istio series at exact timestamps, for a real Prometheus.

The same timing as ``fidelity_series`` (41 points every 15 s from ``T0``, queried at ``AT`` with a 5m window: every
rate is ``increase / 300 s``).  Namespace ``shop``, home cluster ``east``; ``waypoint`` is an ambient waypoint proxy of
``shop`` (the tests give the graph an inventory that says so):

- ``A1`` istio-ingressgateway -> web 200 @ 2/s, reported by the gateway's proxy (source) and by the waypoint;
- ``A2`` web -> cart 200 @ 3/s and ``A3`` web -> cart 503 ``UF`` @ 0.5/s, reported by the waypoint only (ambient: no
  sidecar);
- ``Z1`` web -> waypoint TCP (service cart), 400 B/s sent + 100 B/s received, web's ztunnel (source) only;
  ``Z2`` waypoint -> cart-v1 TCP, the same bytes, cart's ztunnel (destination) only;
  ``Z3`` cart -> db TCP 1000 + 3000 B/s, both ztunnels (every ztunnel series carries ``app="ztunnel"``, as Prometheus'
  pod-label relabelling of the ztunnel pod gives it);
- ``M1`` web -> payments-v1 of cluster ``west`` 200 @ 1/s, both sidecars (one Prometheus reads both clusters);
- ``M2`` web -> search-v1 200 @ 0.5/s, source only, ``destination_cluster="unknown"`` (Istio#29373);
- ``B1`` web -> a pod IP named as the service (``10.1.2.3:8080``, no workload) @ 0.25/s, source only (dropped);
- ``B2`` web -> ``PassthroughCluster`` (host ``10.1.2.3:8080``) @ 0.25/s, source only;
- ``B3`` worker -> the egress gateway's host reported as the service (no workload, namespace unknown) @ 0.5/s;
- ``B4`` istio-egressgateway -> api.example.com (an external host declared in ``shop``) @ 0.5/s, the gateway's
  source report;
- ``B5`` a source with a namespace but neither workload nor app -> web @ 0.2/s, destination only (dropped);
- ``B6`` an unknown caller (no sidecar) -> web @ 1/s, destination only.
"""

from __future__ import annotations

from tests.support.prometheus import ISTIO_FAMILIES, OpenMetricsSeries, render_openmetrics
from tests.topology_prometheus.fidelity_series import UNKNOWN_CALLER, Peer, Report, _points, build_labels

NS = "shop"
HOME = "east"
U = "unknown"
EGRESS_HOST = "istio-egressgateway.istio-system.svc.cluster.local"


def _peer(workload: str, app: str, namespace: str = NS, cluster: str = HOME, version: str = "v1") -> Peer:
    return Peer(workload, (app, version), (app, version), namespace, cluster)


INGRESS = Peer("istio-ingressgateway", ("istio-ingressgateway", "latest"), None, "istio-system", HOME)
EGRESS = Peer("istio-egressgateway", ("istio-egressgateway", "latest"), None, "istio-system", HOME)
WEB, CART, DB = _peer("web-v1", "web"), _peer("cart-v1", "cart"), _peer("db-v1", "db")
WORKER, SEARCH = _peer("worker-v1", "worker"), _peer("search-v1", "search")
WAYPOINT = Peer("waypoint", ("waypoint", "latest"), None, NS, HOME)
PAYMENTS_WEST = _peer("payments-v1", "payments", cluster="west")
SEARCH_UNKNOWN_CLUSTER = _peer("search-v1", "search", cluster=U)
NAMESPACE_ONLY = Peer(U, (U, U), (U, U), NS, HOME)  # B5: a namespace, nothing else
NO_WORKLOAD = Peer(U, (U, U), (U, U), U, HOME)  # the destination of a request that reached no workload

REQUESTS: tuple[Report, ...] = (
    Report(INGRESS, WEB, "web", NS, 2, ("source", "waypoint")),
    Report(WEB, CART, "cart", NS, 3, ("waypoint",)),
    Report(WEB, CART, "cart", NS, 0.5, ("waypoint",), code="503", flags="UF"),
    Report(WEB, PAYMENTS_WEST, "payments", NS, 1, ("source", "destination")),
    Report(WEB, SEARCH_UNKNOWN_CLUSTER, "search", NS, 0.5, ("source",)),
    Report(WEB, NO_WORKLOAD, "10.1.2.3:8080", U, 0.25, ("source",), host="10.1.2.3:8080"),
    Report(WEB, NO_WORKLOAD, "PassthroughCluster", U, 0.25, ("source",), host="10.1.2.3:8080"),
    Report(WORKER, NO_WORKLOAD, EGRESS_HOST, U, 0.5, ("source",), host=EGRESS_HOST, extra={"destination_cluster": U}),
    Report(EGRESS, NO_WORKLOAD, "api.example.com", NS, 0.5, ("source",), host="api.example.com"),
    Report(NAMESPACE_ONLY, WEB, "web", NS, 0.2, ("destination",)),
    Report(UNKNOWN_CALLER, WEB, "web", NS, 1, ("destination",)),
)
#: The label Prometheus' pod-label relabelling gives every series scraped from the ztunnel pod (Kiali's marker).
ZTUNNEL_TARGET = {"app": "ztunnel"}
TCP: tuple[tuple[Report, float, float], ...] = (
    (Report(WEB, WAYPOINT, "cart", NS, 0, ("source",), extra=ZTUNNEL_TARGET), 400, 100),
    (Report(WAYPOINT, CART, "cart", NS, 0, ("destination",), extra=ZTUNNEL_TARGET), 400, 100),
    (Report(CART, DB, "db", NS, 0, ("source", "destination"), extra=ZTUNNEL_TARGET), 1000, 3000),
)


def build_series() -> list[OpenMetricsSeries]:
    """Every series of the data set, with all its points."""
    series: list[OpenMetricsSeries] = []
    for report in REQUESTS:
        for reporter in report.reporters:
            labels = {**build_labels(report, reporter), "response_code": report.code}
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
