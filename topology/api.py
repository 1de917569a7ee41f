"""REST API v1 for the graph, health and snapshots: thin views over ``topology.reading``.

Parameters are parsed by the serializers of ``topology.api_params``; the cluster is chosen by
``inventory.clusters.ClusterChoice`` (``cluster`` → the session's choice → the first enabled cluster).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.clusters import ClusterChoice
from mesh_ui.api_errors import CODE_BY_STATUS, error_body
from mesh_ui.auth import may_see_error_details
from topology import api_schemas as schemas
from topology import reading
from topology.api_params import (
    GraphDiffQuery,
    GraphQuery,
    HealthQuery,
    QueryError,
    SnapshotRangeQuery,
    parse_query,
)
from topology.graph.diff import compute_graph_diff
from topology.health_summary import filter_health
from topology.models import GraphSnapshot, SnapshotGraph


def _error(message: str, status: int = 400) -> Response:
    return Response(error_body(CODE_BY_STATUS.get(status, "invalid"), message), status=status)


def _cluster_choice(request: Request, query: dict[str, Any]) -> ClusterChoice:
    return ClusterChoice.for_request(request, query.get("cluster"))


def _no_snapshot(cluster_name: str) -> Response:
    # Never an error page: an empty answer that says why.
    return Response(
        {"elements": {"nodes": [], "edges": []}, "snapshot": None, "warning": f"no snapshot of {cluster_name} yet"}
    )


class GraphView(APIView):
    """The service graph in Kiali's JSON shape, from the snapshot closest to ``at``."""

    @extend_schema(parameters=[GraphQuery], responses={200: schemas.GraphSerializer})
    def get(self, request: Request) -> HttpResponse | Response:
        try:
            query = parse_query(GraphQuery, request)
            at = query.get("at")
            cluster, snapshot = reading.find_cluster_snapshot(_cluster_choice(request, query), at)
            if snapshot is None:
                return _no_snapshot(cluster.name)
            body = reading.read_graph_json(
                snapshot,
                query["graphType"],
                reading.pick_window(snapshot, query.get("duration")),
                query.get("namespaces"),
                query["idleNodes"],
                query["boxBy"],
                reading.build_meta(snapshot, at, may_see_error_details(request.user)),
                hide=query.get("hide"),
            )
        except QueryError as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        return HttpResponse(body, content_type="application/json")


class GraphDiffView(APIView):
    """Edges added, removed and changed in rate between the snapshots closest to ``from`` and ``to``."""

    @extend_schema(parameters=[GraphDiffQuery], responses={200: schemas.GraphDiffSerializer})
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(GraphDiffQuery, request)
            cluster = reading.pick_cluster(_cluster_choice(request, query))
            older = reading.find_snapshot(cluster, query["from"])
            newer = reading.find_snapshot(cluster, query.get("to"))
            if older is None or newer is None:
                return _no_snapshot(cluster.name)
            graphs = []
            for snapshot in (older, newer):
                meta = reading.build_meta(snapshot, snapshot.taken_at)
                body = reading.read_graph_json(
                    snapshot,
                    query["graphType"],
                    reading.pick_window(snapshot, query.get("duration")),
                    query.get("namespaces"),
                    False,
                    [],
                    meta,
                )
                graphs.append(json.loads(body))
        except QueryError as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        diff = compute_graph_diff(graphs[0], graphs[1])
        return Response(
            {"from": graphs[0]["snapshot"], "to": graphs[1]["snapshot"], "graphType": query["graphType"], **diff}
        )


class HealthView(APIView):
    """Health of every app, service or workload (and namespace summaries) from one snapshot."""

    @extend_schema(parameters=[HealthQuery], responses={200: schemas.HealthAnswerSerializer})
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(HealthQuery, request)
            cluster = reading.pick_cluster(_cluster_choice(request, query))
        except QueryError as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        at, kind = query.get("at"), query["type"]
        found = reading.find_snapshot(cluster, at)
        if found is None:
            return _no_snapshot(cluster.name)
        snapshot = GraphSnapshot.objects.get(pk=found.pk)
        namespaces = query.get("namespaces")
        summary = snapshot.health.get("namespaces", {})
        return Response(
            {
                "type": kind,
                "window": snapshot.health_window,
                "snapshot": reading.build_meta(snapshot, at, may_see_error_details(request.user)).as_dict(),
                "namespaces": {k: v for k, v in summary.items() if namespaces is None or k in namespaces},
                "items": filter_health(snapshot.health, kind, namespaces),
            }
        )


class SnapshotListView(APIView):
    """Times of the stored snapshots in a range (default: the last hour), for replay."""

    @extend_schema(parameters=[SnapshotRangeQuery], responses={200: schemas.SnapshotListSerializer})
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(SnapshotRangeQuery, request)
            cluster = reading.pick_cluster(_cluster_choice(request, query))
        except QueryError as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        snapshots = reading.snapshot_times(cluster, query["since"], query["until"])
        complete = SnapshotGraph.objects.filter(snapshot__cluster=cluster, snapshot__status="complete")
        graphs = complete.values_list("graph_type").distinct()
        return Response({"cluster": cluster.name, "snapshots": snapshots, "graphTypes": sorted({g for (g,) in graphs})})
