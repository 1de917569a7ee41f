"""The simulated Bookinfo application as data: per-workload behaviour and the call graph.

``WorkloadProfile`` says how a workload behaves as a server (own latency, errors, response
size); ``BOOKINFO_CALL_GRAPH`` says which calls each application makes per request, over
which protocol, with which application-level timeout and tries.  ``simulator.traffic`` walks
this graph through the Istio routing rules; swapping the data changes the application.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class WorkloadProfile:
    """How one workload behaves as a server: own processing time (excluding its calls) and errors."""

    error_rate: float = 0.0
    error_code: int = 503
    latency_ms: float = 10.0
    latency_jitter: float = 0.25  # sigma of a log-normal multiplier
    response_bytes: int = 500


DEFAULT_PROFILES: dict[str, WorkloadProfile] = {
    "productpage-v1": WorkloadProfile(latency_ms=20.0, response_bytes=5293),
    "details-v1": WorkloadProfile(latency_ms=5.0, response_bytes=178),
    "reviews-v1": WorkloadProfile(latency_ms=10.0, response_bytes=295),
    "reviews-v2": WorkloadProfile(latency_ms=25.0, response_bytes=375),
    "reviews-v3": WorkloadProfile(latency_ms=25.0, response_bytes=375),
    "ratings-v1": WorkloadProfile(latency_ms=3.0, response_bytes=48),
    "mongodb-v1": WorkloadProfile(latency_ms=1.0, response_bytes=320),
}
FALLBACK_PROFILE = WorkloadProfile()
EXTERNAL_PROFILE = WorkloadProfile(latency_ms=50.0, response_bytes=1024)


def sample_latency_ms(profile: WorkloadProfile, rng: random.Random) -> float:
    """One server processing time: ``latency_ms`` times a log-normal jitter (exact when the jitter is 0)."""
    if profile.latency_jitter <= 0:
        return profile.latency_ms
    return profile.latency_ms * rng.lognormvariate(0.0, profile.latency_jitter)


@dataclass(frozen=True)
class CallEdge:
    """One edge of the application call graph: what a caller's *application* does per request."""

    caller_app: str
    callee_service: str  # short Service name, resolved in the caller's namespace
    protocol: Literal["http", "tcp"] = "http"
    path: str = "/"
    port: int = 9080
    caller_versions: frozenset[str] | None = None  # None: every version of the caller
    client_timeout_seconds: float | None = None  # the application's own timeout
    client_attempts: int = 1  # application-level tries until a 200
    request_bytes: int = 700
    only_if_deployed: bool = False  # skip unless a Deployment app=<callee_service> exists


BOOKINFO_CALL_GRAPH: tuple[CallEdge, ...] = (
    CallEdge("productpage", "details", path="/details/0", client_timeout_seconds=3.0),
    # productpage tries reviews twice with a 3 s timeout each (the Bookinfo fault-injection "bug").
    CallEdge("productpage", "reviews", path="/reviews/0", client_timeout_seconds=3.0, client_attempts=2),
    CallEdge("reviews", "ratings", path="/ratings/0", caller_versions=frozenset({"v2"}), client_timeout_seconds=10.0),
    CallEdge("reviews", "ratings", path="/ratings/0", caller_versions=frozenset({"v3"}), client_timeout_seconds=2.5),
    CallEdge("ratings", "mongodb", protocol="tcp", port=27017, request_bytes=150, only_if_deployed=True),
)
