"""REST API v1 of the configuration checks: stored findings, checking a posted object, Istio objects with theirs.

Thin views: parse the query with its serializer (``istio_config.api_serializers``), choose the cluster, take the
user's namespace scope (``accounts.access``), call ``istio_config.findings`` / ``objects`` / ``validation``, and
answer through a serializer. A namespace the user cannot read is answered as if it did not exist (404).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.paginator import Paginator
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from inventory.clusters import ClusterChoice, UnknownClusterError, read_chosen_cluster
from inventory.models import Cluster
from istio_config import validation
from istio_config.api_serializers import (
    IstioObjectDetailSerializer,
    IstioObjectPageSerializer,
    IstioObjectsQuery,
    ValidateQuery,
    ValidateResultSerializer,
    ValidationsQuery,
    ValidationsSerializer,
    ValidationTargetsQuery,
    ValidationTargetsSerializer,
)
from istio_config.findings import count_by_target, findings_in, last_run
from istio_config.objects import filter_objects, load_object_detail, pin_findings, rows_with_counts
from istio_config.schema import known_istio_kinds, validate_istio_object
from istio_config.yaml_lines import compose_yaml, yaml_line_of
from mesh_ui.api_errors import CODE_BY_STATUS, ErrorSerializer, error_body
from topology.api_params import QueryError, parse_query

PAGE_SIZE = 100
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A parameter or the posted object is invalid."),
    401: OpenApiResponse(ErrorSerializer, description="Not logged in (a token or a session)."),
    403: OpenApiResponse(ErrorSerializer, description="Logged in but not allowed (or a session POST without CSRF)."),
    404: OpenApiResponse(ErrorSerializer, description="No such cluster, or a namespace or object not visible to you."),
}


class NotFound(Exception):
    """What the request names is not there, or not visible to the user."""


def _error(message: str, status: int) -> Response:
    return Response(error_body(CODE_BY_STATUS.get(status, "invalid"), message), status=status)


def _chosen_cluster(request: Request, name: str | None) -> Cluster:
    try:
        cluster = read_chosen_cluster(ClusterChoice.for_request(request, name))
    except UnknownClusterError as exc:
        raise QueryError({"cluster": [str(exc)]}) from exc
    if cluster is None:
        raise NotFound("no cluster is configured")
    return cluster


def _scope(request: Request, cluster: Cluster) -> Q:
    """The user's namespace filter in ``cluster``: the one call per view that applies permissions."""
    return access.scope_filter(access.namespace_scope(request.user, cluster))


class ValidationsView(APIView):
    """The stored findings of a cluster, filtered by namespaces, kind, severity and code."""

    @extend_schema(parameters=[ValidationsQuery], responses={200: ValidationsSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(ValidationsQuery, request)
            cluster = _chosen_cluster(request, query.get("cluster"))
        except QueryError as exc:
            return exc.response()
        except NotFound as exc:
            return _error(str(exc), 404)
        findings = findings_in(cluster, _scope(request, cluster))
        if query.get("namespaces") is not None:
            findings = findings.filter(namespace__in=query["namespaces"])
        for name in ("kind", "severity", "code"):
            if query[name]:
                findings = findings.filter(**{name: query[name]})
        rows = list(findings.order_by("namespace", "kind", "name", "path", "code"))
        run = last_run(cluster)
        body = {"cluster": cluster.name, "run": run, "count": len(rows), "findings": rows}
        return Response(ValidationsSerializer(body).data)


class ValidationTargetsView(APIView):
    """Counts of findings by severity per service and per workload that an object with findings routes to or
    selects: what the graph page's node badges read."""

    @extend_schema(parameters=[ValidationTargetsQuery], responses={200: ValidationTargetsSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(ValidationTargetsQuery, request)
            cluster = _chosen_cluster(request, query.get("cluster"))
        except QueryError as exc:
            return exc.response()
        except NotFound as exc:
            return _error(str(exc), 404)
        scope = _scope(request, cluster)
        if query.get("namespaces") is not None:
            scope &= Q(namespace__in=query["namespaces"])
        counts = count_by_target(cluster, scope)
        body = {"cluster": cluster.name, "services": counts["service"], "workloads": counts["workload"]}
        return Response(ValidationTargetsSerializer(body).data)


class IstioDocumentParser(BaseParser):
    """Hands the view the body as text: it is parsed there, where its lines are known."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data: bytes = stream.read() if stream is not None else b""
        return data.decode("utf-8")


class YAMLDocumentParser(IstioDocumentParser):
    media_type = "application/yaml"


class ValidateView(APIView):
    """Check one Istio object against the cluster's stored inventory, as if it replaced (or joined) the stored one.

    Nothing is stored. The body is the object as JSON or YAML; each finding carries its JSON path and the line of
    the posted text that path points at. Findings on other objects the posted one would cause are not reported.
    """

    parser_classes = [IstioDocumentParser, YAMLDocumentParser]

    @extend_schema(
        parameters=[ValidateQuery],
        request={"application/json": OpenApiTypes.OBJECT, "application/yaml": OpenApiTypes.STR},
        responses={200: ValidateResultSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A route to a subset no DestinationRule defines",
                request_only=True,
                media_type="application/yaml",
                value="apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
                "  namespace: bookinfo\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n"
                "        host: reviews\n        subset: v9\n",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        try:
            query = parse_query(ValidateQuery, request)
            cluster = _chosen_cluster(request, query.get("cluster"))
        except QueryError as exc:
            return exc.response()
        except NotFound as exc:
            return _error(str(exc), 404)
        text = request.data if isinstance(request.data, str) else ""
        try:
            document = json.loads(text) if request.content_type.startswith("application/json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            return _error(f"the body is not a JSON or YAML object: {exc}", 400)
        if not isinstance(document, dict):
            return _error("the body must be one JSON or YAML object", 400)
        group, _, version = str(document.get("apiVersion", "")).rpartition("/")
        known = {(k["group"], k["version"], k["kind"]) for k in known_istio_kinds()}
        if (group, version, document.get("kind")) not in known:
            return _error(
                f"{document.get('apiVersion')} {document.get('kind')} is not an Istio kind mesh-ui knows", 400
            )
        try:
            posted = validation.istio_config_of(document, query["namespace"])
        except validation.PostedObjectError as exc:
            return _error(str(exc), 400)
        if not access.namespace_scope(request.user, cluster).allows(posted.namespace):
            return _error(f"no namespace {posted.namespace!r} in {cluster.name}", 404)
        root = compose_yaml(text)
        schema_errors = [
            {
                "path": c["field"],
                "message": c["message"],
                "line": yaml_line_of(c["field"], root) if c["field"] else None,
            }
            for c in validate_istio_object(document)
        ]
        findings = pin_findings(validation.check_object(cluster, posted), text)
        body = {
            "cluster": cluster.name,
            "object": {"kind": posted.kind, "namespace": posted.namespace, "name": posted.name},
            "valid": not schema_errors and all(f.severity != "error" for f in findings),
            "schemaErrors": schema_errors,
            "findings": findings,
        }
        return Response(ValidateResultSerializer(body).data)


class IstioObjectListView(APIView):
    """The cluster's Istio objects with their validation counts, filtered and paginated (100 a page)."""

    @extend_schema(
        operation_id="istio_objects_list",
        parameters=[IstioObjectsQuery],
        responses={200: IstioObjectPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        try:
            query = parse_query(IstioObjectsQuery, request)
            cluster = _chosen_cluster(request, query.get("cluster"))
        except QueryError as exc:
            return exc.response()
        except NotFound as exc:
            return _error(str(exc), 404)
        filters = {k: query[k] for k in ("namespace", "kind", "name", "severity", "code", "status")}
        objects = filter_objects(cluster, _scope(request, cluster), **filters)
        paginator = Paginator(objects, PAGE_SIZE)
        if query["page"] > max(paginator.num_pages, 1):
            return _error(f"page {query['page']} is past the last page ({paginator.num_pages})", 404)
        page = paginator.page(query["page"])
        body = {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "results": rows_with_counts(cluster, list(page.object_list)),
        }
        return Response(IstioObjectPageSerializer(body).data)


class IstioObjectDetailView(APIView):
    """One Istio object: metadata, spec, its YAML and its findings, each pinned to the YAML's line."""

    @extend_schema(responses={200: IstioObjectDetailSerializer, **ERRORS})
    def get(self, request: Request, cluster: str, namespace: str, kind: str, name: str) -> Response:
        found = Cluster.objects.filter(name=cluster, enabled=True).first()
        if found is None:
            return _error(f"no cluster {cluster!r}", 404)
        detail = None
        if access.namespace_scope(request.user, found).allows(namespace):
            detail = load_object_detail(found, namespace, kind, name)
        if detail is None:
            return _error(f"no {kind} {namespace}/{name} in {cluster}", 404)
        return Response(IstioObjectDetailSerializer(detail).data)
