"""REST API v1 for the graph, health and snapshots: thin views over ``topology.reading``."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from topology import reading
from topology.graph.diff import compute_graph_diff
from topology.health_summary import filter_health
from topology.models import GraphSnapshot, SnapshotGraph

CLUSTER = OpenApiParameter("cluster", str, description="Cluster name (default: the first enabled cluster).")
NAMESPACES = OpenApiParameter("namespaces", str, description="Comma-separated namespaces (default: all).")
AT = OpenApiParameter("at", str, description="Unix seconds or ISO 8601; the closest snapshot is used (default now).")
GRAPH_PARAMETERS = [
    CLUSTER,
    NAMESPACES,
    OpenApiParameter("graphType", str, enum=list(reading.GRAPH_TYPES), description="Default versionedApp."),
    OpenApiParameter("duration", str, description="Metric window: 60s, 5m, 10m... (closest stored window)."),
    AT,
    OpenApiParameter("idleNodes", bool, description="Include inventory nodes without traffic (default false)."),
    OpenApiParameter("boxBy", str, description="Comma-separated: cluster,namespace,app (default all), or none."),
    OpenApiParameter(
        "hide",
        str,
        description=(
            "Hide expression as on the graph page, e.g. label:app=ratings OR node=unknown: the nodes it matches, "
            "their edges and boxes left empty are left out. Terms: label:KEY=GLOB / label:KEY!=GLOB (app, version, "
            "workload, service, namespace, cluster), name=GLOB, node=TYPE, healthy, !healthy, idle, !idle, joined "
            "by AND / OR. rt, %error, rps and mtls terms are refused (400): the page applies those itself."
        ),
    ),
]


def _error(message: str, status: int = 400) -> Response:
    return Response({"error": message}, status=status)


def _namespaces(request: Request) -> list[str] | None:
    raw = request.query_params.get("namespaces")
    names = [n.strip() for n in raw.split(",") if n.strip()] if raw else []
    return names or None


def _no_snapshot(cluster_name: str) -> Response:
    # Never an error page: an empty answer that says why.
    return Response(
        {"elements": {"nodes": [], "edges": []}, "snapshot": None, "warning": f"no snapshot of {cluster_name} yet"}
    )


class GraphView(APIView):
    """The service graph in Kiali's JSON shape, from the snapshot closest to ``at``."""

    @extend_schema(parameters=GRAPH_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> HttpResponse | Response:
        params = request.query_params
        try:
            at = reading.parse_at(params.get("at"))
            duration = reading.parse_duration_seconds(params.get("duration"))
            box_by = reading.parse_box_by(params.get("boxBy"))
            hide = reading.parse_hide(params.get("hide"))
            graph_type = params.get("graphType", "versionedApp")
            cluster, snapshot = reading.find_cluster_snapshot(params.get("cluster"), at)
            if snapshot is None:
                return _no_snapshot(cluster.name)
            body = reading.read_graph_json(
                snapshot,
                graph_type,
                reading.pick_window(snapshot, duration),
                _namespaces(request),
                params.get("idleNodes", "false").lower() in {"1", "true", "yes"},
                box_by,
                reading.build_meta(snapshot, at),
                hide=hide,
            )
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        return HttpResponse(body, content_type="application/json")


class GraphDiffView(APIView):
    """Edges added, removed and changed in rate between the snapshots closest to ``from`` and ``to``."""

    @extend_schema(
        parameters=[
            CLUSTER,
            NAMESPACES,
            OpenApiParameter("from", str, required=True),
            OpenApiParameter("to", str, description="Default now."),
            OpenApiParameter("graphType", str, enum=list(reading.GRAPH_TYPES)),
            OpenApiParameter("duration", str),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            cluster = reading.pick_cluster(params.get("cluster"))
            if not params.get("from"):
                raise reading.SnapshotRequestError("from: required")
            older = reading.find_snapshot(cluster, reading.parse_at(params.get("from")))
            newer = reading.find_snapshot(cluster, reading.parse_at(params.get("to")))
            if older is None or newer is None:
                return _no_snapshot(cluster.name)
            duration = reading.parse_duration_seconds(params.get("duration"))
            graph_type = params.get("graphType", "versionedApp")
            graphs = []
            for snapshot in (older, newer):
                meta = reading.build_meta(snapshot, snapshot.taken_at)
                body = reading.read_graph_json(
                    snapshot,
                    graph_type,
                    reading.pick_window(snapshot, duration),
                    _namespaces(request),
                    False,
                    [],
                    meta,
                )
                graphs.append(json.loads(body))
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        diff = compute_graph_diff(graphs[0], graphs[1])
        return Response({"from": graphs[0]["snapshot"], "to": graphs[1]["snapshot"], "graphType": graph_type, **diff})


class HealthView(APIView):
    """Health of every app, service or workload (and namespace summaries) from one snapshot."""

    @extend_schema(
        parameters=[
            CLUSTER,
            NAMESPACES,
            OpenApiParameter("type", str, enum=["app", "service", "workload"], description="Default app."),
            AT,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        kind = params.get("type", "app")
        if kind not in {"app", "service", "workload"}:
            return _error("type must be app, service or workload")
        try:
            cluster = reading.pick_cluster(params.get("cluster"))
            at = reading.parse_at(params.get("at"))
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        found = reading.find_snapshot(cluster, at)
        if found is None:
            return _no_snapshot(cluster.name)
        snapshot = GraphSnapshot.objects.get(pk=found.pk)
        namespaces = _namespaces(request)
        summary = snapshot.health.get("namespaces", {})
        return Response(
            {
                "type": kind,
                "window": snapshot.health_window,
                "snapshot": reading.build_meta(snapshot, at).as_dict(),
                "namespaces": {k: v for k, v in summary.items() if namespaces is None or k in namespaces},
                "items": filter_health(snapshot.health, kind, namespaces),
            }
        )


class SnapshotListView(APIView):
    """Times of the stored snapshots in a range (default: the last hour), for replay."""

    @extend_schema(
        parameters=[CLUSTER, OpenApiParameter("since", str), OpenApiParameter("until", str)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            cluster = reading.pick_cluster(params.get("cluster"))
            since, until = reading.default_range()
            since = reading.parse_at(params.get("since")) or since
            until = reading.parse_at(params.get("until")) or until
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        snapshots = reading.snapshot_times(cluster, since, until)
        complete = SnapshotGraph.objects.filter(snapshot__cluster=cluster, snapshot__status="complete")
        graphs = complete.values_list("graph_type").distinct()
        return Response({"cluster": cluster.name, "snapshots": snapshots, "graphTypes": sorted({g for (g,) in graphs})})
