"""REST API v1 for the graph, health and snapshots: thin views over ``topology.reading``.

Parameters are parsed by the serializers of ``topology.api_params``; the cluster is chosen by
``inventory.clusters.ClusterChoice`` (``cluster`` → the session's choice → the first enabled cluster) among the
clusters the user has a role in (``accounts.access.cluster_choice``: another cluster is answered as not configured).

Access: a user without any grant gets 403; ``namespaces`` naming a namespace the user may not read gets 403 (the
request asks for it explicitly); without ``namespaces`` a restricted user gets the namespaces it may read, with
everything else folded into one opaque node per cluster (``topology.graph.restriction``), and health only of them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from django.http import HttpResponse, HttpResponseBase
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from inventory.clusters import ClusterChoice
from inventory.models import Cluster
from mesh_ui.api_errors import CODE_BY_STATUS, ErrorSerializer, error_body
from mesh_ui.auth import may_see_error_details
from topology import api_schemas as schemas
from topology import on_demand, reading
from topology.api_params import (
    GraphDiffQuery,
    GraphQuery,
    HealthQuery,
    QueryError,
    SnapshotRangeQuery,
    parse_query,
)
from topology.graph.ambient_options import DEFAULT_AMBIENT_TRAFFIC, apply_ambient_traffic
from topology.graph.derive import NodeRef, focus_graph
from topology.graph.diff import compute_graph_diff
from topology.graph.rate_options import apply_direction_options, apply_rate_options, pick_response_time
from topology.health_summary import filter_health
from topology.models import GraphSnapshot, SnapshotGraph


def _error(message: str, status: int = 400) -> Response:
    return Response(error_body(CODE_BY_STATUS.get(status, "invalid"), message), status=status)


def _cluster_choice(request: Request, query: dict[str, Any]) -> ClusterChoice:
    return access.cluster_choice(request, query.get("cluster"))


class NamespaceRefused(Exception):
    """The request names namespaces the user may not read."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"no access to namespace {', '.join(names)}")

    def response(self) -> Response:
        return _error(str(self), status=403)


def scoped_namespaces(
    request: Request, cluster: Cluster, namespaces: list[str] | None
) -> tuple[list[str] | None, frozenset[str] | None]:
    """``(namespaces to show, namespaces granted)`` for the user; None means every namespace.

    Raises :class:`NamespaceRefused` when ``namespaces`` names one the user may not read.
    """
    granted = access.granted_namespaces(request.user, cluster)
    if granted is None:
        return namespaces, None
    if namespaces is None:
        return sorted(granted), granted
    refused = [name for name in namespaces if name not in granted]
    if refused:
        raise NamespaceRefused(refused)
    return namespaces, granted


AnswerT = TypeVar("AnswerT", bound=HttpResponseBase)


def with_snapshot_etag(response: AnswerT, request: Request, meta: reading.SnapshotMeta) -> AnswerT:
    """Give an answer read from a snapshot an ``ETag`` of what it says rather than of its bytes.

    The body's ``snapshot.ageSeconds`` grows every second, so a hash of the body (the API's default ``ETag``) would
    never match twice. The tag names the request, the user's grants (the answer depends on them) and what can
    change of the snapshot (``SnapshotMeta.etag_parts``); ``If-None-Match`` then answers ``304`` until a new
    snapshot arrives or its status changes.
    """
    key = repr((request.get_full_path(), access.grants_of(request.user), meta.etag_parts()))
    response["ETag"] = f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
    return response


def _no_snapshot(cluster_name: str) -> Response:
    # Never an error page: an empty answer that says why.
    return Response(
        {"elements": {"nodes": [], "edges": []}, "snapshot": None, "warning": f"no snapshot of {cluster_name} yet"}
    )


#: A graph answer: the graph, a build in progress (202), or a failed build (503).
GRAPH_RESPONSES = {
    200: schemas.GraphSerializer,
    202: OpenApiResponse(schemas.GraphBuildingSerializer, description="Being built on demand: poll build.statusUrl."),
    503: OpenApiResponse(
        ErrorSerializer, description="The graph built on demand failed; the body also holds the build (`build`)."
    ),
}


def injects_service_nodes(query: dict[str, Any], node: NodeRef | None = None) -> bool:
    """Whether the answer is read from the graph with service nodes (a service's node graph always is)."""
    return bool(query.get("injectServiceNodes", True)) or (node is not None and node.kind == "service")


def graph_derivation(query: dict[str, Any], node: NodeRef | None = None) -> reading.Derivation | None:
    """What a graph request asks beyond the stored graph (see ``topology.graph.derive``); None: the stored graph.

    A node graph with service nodes also reads the graph stored without them (``reads_pairs``): its caller → workload
    pairs are the exact traffic through each service.
    """
    steps: list[tuple[str, Any]] = []
    rate_http, rate_grpc = query.get("rateHttp", "requests"), query.get("rateGrpc", "requests")
    if "none" in (rate_http, rate_grpc):
        steps.append((f"rates={rate_http},{rate_grpc}", lambda g: apply_rate_options(g, rate_http, rate_grpc)))
    rate_tcp, throughput_type = query.get("rateTcp", "total"), query.get("throughputType", "")
    if rate_tcp != "total" or rate_grpc not in {"requests", "none"} or throughput_type:
        steps.append(
            (
                f"directions={rate_tcp},{rate_grpc},{throughput_type}",
                lambda g: apply_direction_options(g, rate_tcp, rate_grpc, throughput_type),
            )
        )
    stat = query.get("responseTime")
    if stat and stat != "p95":
        steps.append((f"rt={stat}", lambda graph: pick_response_time(graph, stat)))
    ambient = query.get("ambientTraffic", DEFAULT_AMBIENT_TRAFFIC)
    # First, on the stored graph and its pairs: every step after it starts from the rows the option counts.
    before = (lambda graph: apply_ambient_traffic(graph, ambient)) if ambient != DEFAULT_AMBIENT_TRAFFIC else None
    if not steps and node is None and before is None:
        return None

    def apply(graph: dict[str, Any], pairs: dict[str, Any] | None) -> dict[str, Any]:
        if node is not None:
            graph = focus_graph(graph, node, pairs)
        for _, step in steps:
            graph = step(graph)
        return graph

    names = [f"ambient={ambient}"] if before is not None else []
    names += ([f"node={node!r}"] if node is not None else []) + [name for name, _ in steps]
    reads_pairs = node is not None and node.kind != "service" and injects_service_nodes(query, node)
    return reading.Derivation(key="|".join(names), apply=apply, reads_pairs=reads_pairs, before=before)


class GraphView(APIView):
    """The service graph in Kiali's JSON shape, from the snapshot closest to ``at``."""

    @extend_schema(parameters=[GraphQuery], responses=GRAPH_RESPONSES)
    def get(self, request: Request) -> HttpResponse | Response:
        return self.answer(request, None)

    def answer(self, request: Request, node: NodeRef | None) -> HttpResponse | Response:
        """The graph, or with ``node`` its node graph (the whole graph focused on it, every namespace)."""
        try:
            query = parse_query(GraphQuery, request)
            moment = query.get("queryTime")
            at = moment or query.get("at")
            cluster, snapshot = reading.find_cluster_snapshot(_cluster_choice(request, query), at)
            asked = [node.namespace] if node is not None else query.get("namespaces")
            namespaces, granted = scoped_namespaces(request, cluster, asked)
            if node is not None:
                namespaces = None if granted is None else sorted(granted)
            if snapshot is None:
                return _no_snapshot(cluster.name)
            window = reading.pick_window(snapshot, query.get("duration"))
            if on_demand.needs_build(snapshot, query.get("duration"), moment):
                window = query.get("duration") or window
                build = on_demand.find_or_start(
                    cluster, snapshot, window, moment or snapshot.telemetry_at or snapshot.taken_at, live=moment is None
                )
                if build.status != GraphSnapshot.Status.COMPLETE:
                    return _build_answer(build)
                snapshot = build.snapshot
            meta = reading.build_meta(snapshot, at, may_see_error_details(request.user))
            body = reading.read_graph_json(
                snapshot,
                query["graphType"],
                window,
                namespaces,
                query["idleNodes"],
                query["boxBy"],
                meta,
                hide=query.get("hide"),
                granted=granted,
                derive=graph_derivation(query, node),
                inject_service_nodes=injects_service_nodes(query, node),
            )
        except (QueryError, NamespaceRefused) as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        return with_snapshot_etag(HttpResponse(body, content_type="application/json"), request, meta)


def _build_answer(build: on_demand.Build) -> Response:
    """A graph still being built on demand: ``202`` with its status URL; a failed build: ``503`` saying why."""
    data = build.as_dict()
    if build.status == GraphSnapshot.Status.FAILED:
        body = error_body("unavailable", f"the graph built on demand failed: {data.get('error', 'unknown error')}")
        return Response({**body, "build": data}, status=503)
    answer = Response({"status": "building", "build": data, "elements": {"nodes": [], "edges": []}}, status=202)
    answer["Location"] = data["statusUrl"]
    answer["Retry-After"] = "1"
    return answer


class GraphBuildView(APIView):
    """The state of a graph built on demand (``topology.on_demand``): building, complete or failed."""

    @extend_schema(responses={200: schemas.GraphBuildSerializer})
    def get(self, request: Request, build_id: int) -> Response:
        snapshot = GraphSnapshot.every_snapshot.select_related("cluster").filter(pk=build_id, on_demand=True).first()
        if snapshot is None:
            return _error(f"no graph build {build_id}", status=404)
        granted = access.granted_namespaces(request.user, snapshot.cluster)
        if granted is not None and not granted:
            return _error(f"no graph build {build_id}", status=404)
        return Response(on_demand.Build(on_demand.expire(snapshot)).as_dict())


class NodeGraphView(GraphView):
    """Kiali's node graph: one workload, app, versioned app or service with its callers and callees.

    ``/namespaces/{namespace}/{workloads|applications|services}/{name}[/versions/{version}]/graph``; the query
    parameters are the graph's (``namespaces`` is ignored: a node graph shows its neighbours wherever they are).
    """

    kind: str = "workload"

    @extend_schema(parameters=[GraphQuery], responses=GRAPH_RESPONSES)
    def get(  # type: ignore[override]
        self, request: Request, namespace: str, name: str, version: str = ""
    ) -> HttpResponse | Response:
        kind = self.kind if self.kind in {"workload", "app", "service"} else "workload"
        node = NodeRef(kind=kind, namespace=namespace, name=name, version=version)  # type: ignore[arg-type]
        return self.answer(request, node)


class GraphDiffView(APIView):
    """Edges added, removed and changed in rate between the snapshots closest to ``from`` and ``to``."""

    @extend_schema(parameters=[GraphDiffQuery], responses={200: schemas.GraphDiffSerializer})
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(GraphDiffQuery, request)
            cluster = reading.pick_cluster(_cluster_choice(request, query))
            namespaces, granted = scoped_namespaces(request, cluster, query.get("namespaces"))
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
                    namespaces,
                    False,
                    [],
                    meta,
                    granted=granted,
                )
                graphs.append(json.loads(body))
        except (QueryError, NamespaceRefused) as exc:
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
            namespaces, _ = scoped_namespaces(request, cluster, query.get("namespaces"))
        except (QueryError, NamespaceRefused) as exc:
            return exc.response()
        except reading.SnapshotRequestError as exc:
            return _error(str(exc))
        at, kind = query.get("at"), query["type"]
        found = reading.find_snapshot(cluster, at)
        if found is None:
            return _no_snapshot(cluster.name)
        snapshot = GraphSnapshot.objects.get(pk=found.pk)
        summary = snapshot.health.get("namespaces", {})
        meta = reading.build_meta(snapshot, at, may_see_error_details(request.user))
        answer = Response(
            {
                "type": kind,
                "window": snapshot.health_window,
                "snapshot": meta.as_dict(),
                "namespaces": {k: v for k, v in summary.items() if namespaces is None or k in namespaces},
                "items": filter_health(snapshot.health, kind, namespaces),
            }
        )
        return with_snapshot_etag(answer, request, meta)


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
