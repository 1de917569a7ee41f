"""Helpers shared by the dashboard pages: reading parts of the latest snapshot, health ranks, htmx requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest

from inventory.models import Cluster
from topology.health import HealthStatus
from topology.models import GraphSnapshot

HEALTH_CHOICES = [
    s.value
    for s in (
        HealthStatus.FAILURE,
        HealthStatus.DEGRADED,
        HealthStatus.NOT_READY,
        HealthStatus.HEALTHY,
        HealthStatus.NA,
    )
]
_RANK = {
    HealthStatus.NA.value: 0,
    HealthStatus.HEALTHY.value: 1,
    HealthStatus.NOT_READY.value: 2,
    HealthStatus.DEGRADED.value: 3,
    HealthStatus.FAILURE.value: 4,
}
PAGE_SIZE = 50


def health_rank(status: str | None) -> int:
    """Higher is worse; unknown or missing health ranks with "No health information"."""
    return _RANK.get(status or "", 0)


def is_partial(request: HttpRequest) -> bool:
    """An htmx swap wants only the fragment; a history restore (reload of a pushed URL) wants the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def latest_snapshot_part(cluster: Cluster | None, field: str, key: str) -> tuple[datetime | None, dict[str, Any]]:
    """``(taken_at, snapshot.<field>[key])`` of the cluster's latest snapshot, extracted by the database."""
    if cluster is None:
        return None, {}
    row = (
        GraphSnapshot.objects.filter(cluster=cluster)
        .order_by("-taken_at")
        .annotate(part=KeyTransform(key, field))
        .values_list("taken_at", "part")
        .first()
    )
    if row is None:
        return None, {}
    taken_at, part = row
    return taken_at, part if isinstance(part, dict) else {}


def recent_snapshot_parts(cluster: Cluster | None, field: str, key: str, count: int) -> list[dict[str, Any]]:
    """``snapshot.<field>[key]`` of the ``count`` latest snapshots, oldest first: one query."""
    if cluster is None:
        return []
    rows = (
        GraphSnapshot.objects.filter(cluster=cluster)
        .order_by("-taken_at")
        .annotate(part=KeyTransform(key, field))
        .values_list("part", flat=True)[:count]
    )
    return [part if isinstance(part, dict) else {} for part in reversed(list(rows))]


def sparkline_points(values: list[float], width: int = 120, height: int = 28) -> str:
    """SVG ``polyline`` points for a small line chart of ``values`` (empty for fewer than two values)."""
    if len(values) < 2:
        return ""
    top = max(values) or 1.0
    step = width / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
