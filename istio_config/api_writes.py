"""REST API v1 of the write path: create, update, delete and roll back Istio objects, their history, and what
depends on one.

Thin views: validate the body with its serializer (``istio_config.api_write_serializers``), find the cluster, call
the write service (``istio_config.writes``), and answer the outcome: the object as now stored, or an error with a
stable ``code`` (``WriteErrorSerializer``). Permissions are the service's (``accounts.access.can_write``); the
read-only answers (history, dependents) apply the user's namespace scope as the other endpoints do (404).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from inventory.models import Cluster
from istio_config.api import ERRORS, IstioObjectDetailView, IstioObjectListView, NotFound, _chosen_cluster
from istio_config.api_serializers import IstioObjectDetailSerializer
from istio_config.api_write_serializers import (
    ConfigChangeSerializer,
    CreateBodySerializer,
    DeleteBodySerializer,
    DeleteResultSerializer,
    DependentsSerializer,
    HistorySerializer,
    RollbackBodySerializer,
    UpdateBodySerializer,
    WriteErrorSerializer,
    WriteResultSerializer,
)
from istio_config.dependents import find_dependents
from istio_config.history import history_of
from istio_config.inventory_loader import load_config_inventory
from istio_config.objects import load_object_detail
from istio_config.write_input import ObjectRef
from istio_config.writes import WriteOutcome, apply_change, rollback_change
from mesh_ui.api_errors import error_body
from topology.api_params import QueryError

WRITE_ERRORS = {
    400: OpenApiResponse(WriteErrorSerializer, description="invalid-yaml (details: line, message), invalid-object."),
    401: ERRORS[401],
    403: OpenApiResponse(WriteErrorSerializer, description="forbidden: you may not change this namespace."),
    404: OpenApiResponse(WriteErrorSerializer, description="not-found: no such cluster or object."),
    409: OpenApiResponse(
        WriteErrorSerializer,
        description="conflict: the object changed since resourceVersion (base, mine, theirs, diffs); "
        "already-exists on a create.",
    ),
    422: OpenApiResponse(
        WriteErrorSerializer,
        description="validation-failed / warnings-not-accepted (details: findings with path, line, severity, "
        "code); dry-run-failed (details: the API server's causes).",
    ),
    502: OpenApiResponse(WriteErrorSerializer, description="cluster-unreachable or api-error; nothing was written."),
}


def _error(code: str, message: str, status: int, details: list[dict[str, Any]] | None = None) -> Response:
    return Response({"code": code, "message": message, "details": details or [], "changeId": None}, status=status)


def _bad_body(serializer: serializers.Serializer[Any]) -> Response:
    details = [
        {"field": name, "message": " ".join(str(m) for m in messages)} for name, messages in serializer.errors.items()
    ]
    return _error("invalid-object", "the request body is invalid", 400, details)


class WriteErrorsMixin:
    """Answer a request body DRF cannot parse (malformed JSON, an unsupported media type) in the write errors'
    format, as the schema documents for these operations, instead of the API's generic error body."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            status = 415 if isinstance(exc, exceptions.UnsupportedMediaType) else 400
            return _error(
                "invalid-object",
                "the request body cannot be read",
                status,
                [{"field": "body", "message": str(exc.detail)}],
            )
        return super().handle_exception(exc)  # type: ignore[misc]


def _checked(body: serializers.Serializer[Any], cluster: str) -> Cluster | Response:
    """The cluster a write names once its body is valid; else the error answer (400 for the body, 404 for it)."""
    if not body.is_valid():
        return _bad_body(body)
    try:
        return _cluster_named(cluster)
    except NotFound as exc:
        return _error("not-found", str(exc), 404)


def _cluster_named(name: str) -> Cluster:
    found = Cluster.objects.filter(name=name, enabled=True).first()
    if found is None:
        raise NotFound(f"no cluster {name!r}")
    return found


def _answer(cluster: Cluster, outcome: WriteOutcome, status: int = 200) -> Response:
    """The outcome of the write service as the API answers it."""
    change_data = ConfigChangeSerializer(outcome.change).data if outcome.change is not None else None
    if not outcome.applied:
        body: dict[str, Any] = {
            "code": outcome.code,
            "message": outcome.message,
            "details": outcome.details,
            "changeId": outcome.change.pk if outcome.change is not None else None,
        }
        if outcome.conflict is not None:
            body.update(
                base=outcome.conflict.base,
                mine=outcome.conflict.mine,
                theirs=outcome.conflict.theirs,
                theirsResourceVersion=outcome.conflict.theirs_resource_version,
                diffs=outcome.conflict.diffs,
            )
        return Response(body, status=outcome.http_status)
    ref = outcome.ref
    assert ref is not None
    if outcome.cluster_object is None:
        return Response({"change": change_data}, status=status)
    detail = load_object_detail(cluster, ref.namespace, ref.kind, ref.name)
    data = {"object": IstioObjectDetailSerializer(detail).data, "change": change_data, "warnings": outcome.warnings}
    return Response(data, status=status)


class IstioObjectListCreateView(WriteErrorsMixin, IstioObjectListView):
    """The cluster's Istio objects (GET), and creating one (POST) through the write service."""

    @extend_schema(request=CreateBodySerializer, responses={201: WriteResultSerializer, **WRITE_ERRORS})
    def post(self, request: Request) -> Response:
        body = CreateBodySerializer(data=request.data)
        if not body.is_valid():
            return _bad_body(body)
        try:
            cluster = _chosen_cluster(request, body.validated_data["cluster"] or None)
        except QueryError as exc:
            return _error("not-found", str(exc), 404)
        except NotFound as exc:
            return _error("not-found", str(exc), 404)
        data = body.validated_data
        outcome = apply_change(request.user, cluster, "create", data["yaml"], "", data["acceptWarnings"])
        return _answer(cluster, outcome, status=201)


class IstioObjectItemView(WriteErrorsMixin, IstioObjectDetailView):
    """One Istio object: read it (GET), replace it (PUT) or delete it (DELETE) through the write service."""

    @extend_schema(request=UpdateBodySerializer, responses={200: WriteResultSerializer, **WRITE_ERRORS})
    def put(self, request: Request, cluster: str, namespace: str, kind: str, name: str) -> Response:
        body = UpdateBodySerializer(data=request.data)
        checked = _checked(body, cluster)
        if isinstance(checked, Response):
            return checked
        found = checked
        data = body.validated_data
        target = ObjectRef(kind, namespace, name)
        outcome = apply_change(
            request.user, found, "update", data["yaml"], data["resourceVersion"], data["acceptWarnings"], target
        )
        return _answer(found, outcome)

    @extend_schema(
        request=DeleteBodySerializer,
        parameters=[OpenApiParameter("resourceVersion", str, description="Instead of the body.")],
        responses={200: DeleteResultSerializer, **WRITE_ERRORS},
    )
    def delete(self, request: Request, cluster: str, namespace: str, kind: str, name: str) -> Response:
        given = request.data if isinstance(request.data, dict) and request.data else request.query_params
        body = DeleteBodySerializer(data={"resourceVersion": given.get("resourceVersion", "")})
        checked = _checked(body, cluster)
        if isinstance(checked, Response):
            return checked
        found = checked
        target = ObjectRef(kind, namespace, name)
        outcome = apply_change(
            request.user, found, "delete", None, body.validated_data["resourceVersion"], target=target
        )
        return _answer(found, outcome)


class IstioObjectRollbackView(WriteErrorsMixin, APIView):
    """Restore an earlier version of the object (from its history) through the whole write path."""

    @extend_schema(request=RollbackBodySerializer, responses={200: WriteResultSerializer, **WRITE_ERRORS})
    def post(self, request: Request, cluster: str, namespace: str, kind: str, name: str) -> Response:
        body = RollbackBodySerializer(data=request.data)
        checked = _checked(body, cluster)
        if isinstance(checked, Response):
            return checked
        found = checked
        data = body.validated_data
        target = ObjectRef(kind, namespace, name)
        outcome = rollback_change(
            request.user, found, target, data["changeId"], data["resourceVersion"], data["acceptWarnings"]
        )
        return _answer(found, outcome)


def _not_found(message: str) -> Response:
    """A read's 404 in the API's one error body (the reads document ``Error``; the writes ``WriteError``)."""
    return Response(error_body("not_found", message), status=404)


def _readable(request: Request, cluster: str, namespace: str) -> Cluster:
    found = _cluster_named(cluster)
    if not access.can_read(request.user, found, namespace):
        raise NotFound(f"no namespace {namespace!r} in {cluster}")
    return found


class IstioObjectHistoryView(APIView):
    """The object's recorded changes, newest first, with their diffs (kept after the object is deleted)."""

    @extend_schema(responses={200: HistorySerializer, **ERRORS})
    def get(self, request: Request, cluster: str, namespace: str, kind: str, name: str) -> Response:
        try:
            found = _readable(request, cluster, namespace)
        except NotFound as exc:
            return _not_found(str(exc))
        changes = list(history_of(found, ObjectRef(kind, namespace, name)).select_related("cluster"))
        return Response(HistorySerializer({"count": len(changes), "changes": changes}).data)


class IstioObjectDependentsView(APIView):
    """What refers to the object (VirtualServices routing to a DestinationRule's subsets or binding a Gateway)."""

    @extend_schema(responses={200: DependentsSerializer, **ERRORS})
    def get(self, request: Request, cluster: str, namespace: str, kind: str, name: str) -> Response:
        try:
            found = _readable(request, cluster, namespace)
        except NotFound as exc:
            return _not_found(str(exc))
        objects = load_config_inventory(found).istio_objects
        target = next((o for o in objects if (o.kind, o.namespace, o.name) == (kind, namespace, name)), None)
        if target is None:
            return _not_found(f"no {kind} {namespace}/{name} in {cluster}")
        scope = access.namespace_scope(request.user, found)
        dependents = [d for d in find_dependents(target, objects) if scope.allows(d.namespace)]
        return Response(DependentsSerializer({"dependents": dependents}).data)
