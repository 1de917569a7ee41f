"""The simulator's own telemetry of productpage's calls to the reviews versions, for tests that change routing and
check that traffic follows."""

from __future__ import annotations

from typing import Any

VERSIONS = ("v1", "v2", "v3")


def reviews_traffic(sim: Any) -> dict[str, float]:
    """productpage → reviews-vN requests the destination sidecars counted so far, by version."""
    counters = sim.traffic.counters()
    return {
        version: counters.counter_total(
            "istio_requests_total",
            reporter="destination",
            source_workload="productpage-v1",
            destination_workload=f"reviews-{version}",
        )
        for version in VERSIONS
    }
