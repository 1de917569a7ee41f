"""REST API v1 for per-entity time series (request rates, error rates, response times) from stored snapshots.

Only the ``metrics`` JSON of the snapshots is read, and only the entry of the entity asked for (extracted by the
database), so a day of snapshots costs one small query and no graph body is loaded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models.fields.json import KeyTransform
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import Cluster
from topology import reading
from topology.entity_metrics import ENTITY_KINDS, build_series_point, downsample
from topology.models import GraphSnapshot

MAX_POINTS = 1000
DEFAULT_POINTS = 240


def fetch_entity_series(
    cluster: Cluster, kind: str, key: str, since: datetime, until: datetime
) -> list[tuple[datetime, dict[str, float] | None]]:
    """``(taken_at, stored metrics entry or None)`` of every snapshot in the range, oldest first: one query."""
    entry = KeyTransform(key, KeyTransform(kind, "metrics"))
    rows = (
        GraphSnapshot.objects.filter(cluster=cluster, taken_at__gte=since, taken_at__lte=until)
        .order_by("taken_at")
        .annotate(entry=entry)
        .values_list("taken_at", "entry")
    )
    return [(taken_at, value if isinstance(value, dict) else None) for taken_at, value in rows]


def build_entity_series(
    rows: list[tuple[datetime, dict[str, float] | None]], max_points: int = DEFAULT_POINTS
) -> list[dict[str, Any]]:
    points = [{"t": taken_at.isoformat(), **build_series_point(entry)} for taken_at, entry in rows]
    return downsample(points, max_points)


def _parse_range(params: Any) -> tuple[datetime, datetime]:
    since, until = reading.default_range()
    until = reading.parse_at(params.get("until")) or until
    duration = reading.parse_duration_seconds(params.get("duration"))
    if duration is not None:
        since = until - timedelta(seconds=duration)
    since = reading.parse_at(params.get("since")) or since
    if since > until:
        raise reading.SnapshotRequestError("since must be before until")
    return since, until


def _parse_points(raw: str | None) -> int:
    if not raw:
        return DEFAULT_POINTS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_POINTS:
        raise reading.SnapshotRequestError(f"points must be an integer between 1 and {MAX_POINTS}")
    return int(raw)


POINT_EXAMPLE = {
    "t": "2026-01-01T12:00:00+00:00",
    "inRate": 19.9,
    "errorRate5xx": 0.0,
    "errorRate4xx": 0.0,
    "errorRateGrpc": None,
    "avg": 5.4,
    "p50": 5.4,
    "p95": 9.6,
    "p99": 10.0,
    "outRate": 39.8,
    "outErrorRate5xx": 0.0,
    "outErrorRate4xx": 0.0,
    "outErrorRateGrpc": None,
    "outAvg": 14.4,
    "outP50": 19.6,
    "outP95": 29.1,
    "outP99": 29.9,
    "tcpIn": 0.0,
    "tcpOut": 0.0,
}


class EntityMetricsView(APIView):
    """Time series of one workload, app, service or namespace across the stored snapshots of a range.

    Each point is one snapshot (rates over its health window, 5 minutes by default): ``inRate``/``outRate`` in
    requests/s (http + grpc), ``errorRate5xx``/``errorRate4xx``/``errorRateGrpc`` (and ``outErrorRate…``) in percent
    of the requests of that protocol (``null`` without requests), response times ``avg``/``p50``/``p95``/``p99`` (and
    ``outAvg``…) in ms (``null`` when not measured), ``tcpIn``/``tcpOut`` in bytes/s. Namespaces only have inbound
    values: traffic entering the namespace from outside it. Long ranges are averaged down to ``points`` points.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, required=True, enum=list(ENTITY_KINDS)),
            OpenApiParameter("namespace", str, required=True),
            OpenApiParameter("name", str, description="Entity name (required unless kind=namespace)."),
            OpenApiParameter("cluster", str, description="Cluster name (default: the first enabled cluster)."),
            OpenApiParameter("since", str, description="Unix seconds or ISO 8601 (default: an hour before until)."),
            OpenApiParameter("until", str, description="Unix seconds or ISO 8601 (default now)."),
            OpenApiParameter("duration", str, description="Range length before until (15m, 1h, 1d), instead of since."),
            OpenApiParameter("points", int, description=f"Maximum points (default {DEFAULT_POINTS})."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "workload",
                response_only=True,
                value={
                    "cluster": "bookinfo",
                    "kind": "workload",
                    "namespace": "bookinfo",
                    "name": "productpage-v1",
                    "since": "2026-01-01T11:00:00+00:00",
                    "until": "2026-01-01T12:00:00+00:00",
                    "points": [POINT_EXAMPLE],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        kind, namespace, name = params.get("kind", ""), params.get("namespace", ""), params.get("name", "")
        if kind not in ENTITY_KINDS:
            return Response({"error": f"kind must be one of {', '.join(ENTITY_KINDS)}"}, status=400)
        if not namespace or (kind != "namespace" and not name):
            return Response({"error": "namespace and name are required (name only for kind=namespace)"}, status=400)
        try:
            cluster = reading.pick_cluster(params.get("cluster"))
            since, until = _parse_range(params)
            max_points = _parse_points(params.get("points"))
        except reading.SnapshotRequestError as exc:
            return Response({"error": str(exc)}, status=400)
        key = namespace if kind == "namespace" else f"{namespace}/{name}"
        points = build_entity_series(fetch_entity_series(cluster, kind, key, since, until), max_points)
        return Response(
            {
                "cluster": cluster.name,
                "kind": kind,
                "namespace": namespace,
                "name": name if kind != "namespace" else namespace,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "points": points,
            }
        )
