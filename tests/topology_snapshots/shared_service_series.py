"""A service with two callers and two backends, unequal splits, as Istio series for a real Prometheus (promtool).

Every request is reported by both proxies (counted once); counters grow at constant rates over 10 minutes (41 points
every 15 s from :data:`T0`), so any window read at :data:`AT` gives these rates. Namespace ``shop``, HTTP, per second:

- ``web-v1``     → service ``reviews`` → ``reviews-v1`` 3,   → ``reviews-v2`` 1;
- ``loadgen-v1`` → service ``reviews`` → ``reviews-v1`` 0.5, → ``reviews-v2`` 2.5, and 0.5 more answered 503;
- ``reviews-v1`` → service ``ratings`` → ``ratings-v1`` 1; ``reviews-v2`` → ``ratings`` → ``ratings-v1`` 2
  (one backend);
- ``web-v1``     → service ``details`` → ``details-v1`` 2 (one caller, one backend).

``reviews`` receives 7.5/s: 4 from web, 3.5 from loadgen; it sends 3.5 to v1 and 4 to v2.
"""

from __future__ import annotations

from tests.support.prometheus import ISTIO_FAMILIES, OpenMetricsSeries, render_openmetrics
from tests.topology_prometheus.fidelity_series import Peer, Report, build_labels

T0 = 1_700_000_000
STEP_SECONDS = 15
POINTS = 41
AT = T0 + STEP_SECONDS * (POINTS - 1)
NS = "shop"

WEB = Peer("web-v1", ("web", "v1"), ("web", "v1"))
LOADGEN = Peer("loadgen-v1", ("loadgen", "v1"), ("loadgen", "v1"))
REVIEWS_V1 = Peer("reviews-v1", ("reviews", "v1"), ("reviews", "v1"))
REVIEWS_V2 = Peer("reviews-v2", ("reviews", "v2"), ("reviews", "v2"))
RATINGS = Peer("ratings-v1", ("ratings", "v1"), ("ratings", "v1"))
DETAILS = Peer("details-v1", ("details", "v1"), ("details", "v1"))
BOTH = ("source", "destination")

REQUESTS: tuple[Report, ...] = (
    Report(WEB, REVIEWS_V1, "reviews", NS, 3, BOTH),
    Report(WEB, REVIEWS_V2, "reviews", NS, 1, BOTH),
    Report(LOADGEN, REVIEWS_V1, "reviews", NS, 0.5, BOTH),
    Report(LOADGEN, REVIEWS_V2, "reviews", NS, 2.5, BOTH),
    Report(LOADGEN, REVIEWS_V2, "reviews", NS, 0.5, BOTH, code="503"),
    Report(REVIEWS_V1, RATINGS, "ratings", NS, 1, BOTH),
    Report(REVIEWS_V2, RATINGS, "ratings", NS, 2, BOTH),
    Report(WEB, DETAILS, "details", NS, 2, BOTH),
)


def build_openmetrics() -> str:
    """The series as an OpenMetrics document for ``promtool tsdb create-blocks-from openmetrics``."""
    series = []
    for report in REQUESTS:
        points = [(float(T0 + i * STEP_SECONDS), report.rate * i * STEP_SECONDS) for i in range(POINTS)]
        for reporter in report.reporters:
            labels = {**build_labels(report, reporter), "response_code": report.code}
            series.append(OpenMetricsSeries("istio_requests_total", labels, points))
    return render_openmetrics(ISTIO_FAMILIES, series)
