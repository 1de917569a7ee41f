"""REST API v1 for per-entity time series (request rates, error rates, response times) from stored snapshots.

Only the ``metrics`` JSON of the snapshots is read, and only the entry of the entity asked for (extracted by the
database), so a day of snapshots costs one small query and no graph body is loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models.fields.json import KeyTransform
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from inventory.models import Cluster
from mesh_ui.api_errors import error_body
from topology import reading
from topology.api_params import DEFAULT_POINTS, EntityMetricsQuery, QueryError, parse_query
from topology.api_schemas import EntityMetricsSerializer
from topology.entity_metrics import build_series_point, downsample
from topology.models import GraphSnapshot


def read_entity_series(
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


POINT_EXAMPLE = {
    "t": "2026-01-01T12:00:00+00:00",
    "inRate": 19.9,
    "errorRate5xx": 0.0,
    "errorRate4xx": 0.0,
    "errorRateGrpc": None,
    "errorRateNoResponse": 0.0,
    "avg": 5.4,
    "p50": 5.4,
    "p95": 9.6,
    "p99": 10.0,
    "outRate": 39.8,
    "outErrorRate5xx": 0.0,
    "outErrorRate4xx": 0.0,
    "outErrorRateGrpc": None,
    "outErrorRateNoResponse": 0.0,
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
    of the requests of that protocol, ``errorRateNoResponse`` of http + grpc requests (``null`` without requests),
    response times ``avg``/``p50``/``p95``/``p99`` (and ``outAvg``…) in ms (``null`` when not measured),
    ``tcpIn``/``tcpOut`` in bytes/s. Namespaces only have inbound values: traffic entering the namespace from outside
    it. Long ranges are averaged down to ``points`` points.
    """

    @extend_schema(
        parameters=[EntityMetricsQuery],
        responses={200: EntityMetricsSerializer},
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
        try:
            query = parse_query(EntityMetricsQuery, request)
            cluster = reading.pick_cluster(access.cluster_choice(request, query.get("cluster")))
        except QueryError as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return Response(error_body("invalid", str(exc), {"cluster": [str(exc)]}), status=400)
        kind, namespace, name = query["kind"], query["namespace"], query.get("name", "")
        if not access.can_read(request.user, cluster, namespace):
            # As for an object that does not exist: whether it does is not told.
            return Response({"error": f"no {kind} {namespace}/{name} in {cluster.name}"}, status=404)
        since, until = query["since"], query["until"]
        key = namespace if kind == "namespace" else f"{namespace}/{name}"
        points = build_entity_series(read_entity_series(cluster, kind, key, since, until), query["points"])
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
