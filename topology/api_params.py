"""Query parameters of REST API v1, parsed and validated by DRF serializers.

Each endpoint has one serializer; the views read ``validated_data`` and never touch ``query_params`` themselves.
An invalid request is a ``400`` whose body keeps the documented ``{"error": "..."}`` line and adds the
serializer's ``errors`` by parameter. The serializers also document the parameters in the OpenAPI schema.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from topology.entity_metrics import ENTITY_KINDS
from topology.graph.expressions import ExpressionError, NodePredicate, parse_hide_expression
from topology.graph.filtering import BOX_KINDS
from topology.graph.model import GRAPH_TYPES
from topology.retention import parse_duration

MAX_POINTS = 1000
DEFAULT_POINTS = 240


class QueryError(Exception):
    """The query string does not validate: ``errors`` are the serializer's, by parameter."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__(_one_line(errors))
        self.errors = dict(errors)

    def response(self) -> Response:
        return Response({"error": str(self), "errors": self.errors}, status=400)


def _one_line(errors: Mapping[str, Any]) -> str:
    parts = []
    for name, messages in errors.items():
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return "; ".join(parts)


def parse_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """``request``'s query string validated by ``serializer_class``; raises :class:`QueryError` when invalid."""
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise QueryError(serializer.errors)
    return dict(serializer.validated_data)


@extend_schema_field(OpenApiTypes.STR)
class TimeField(serializers.Field):
    """A moment as unix seconds or ISO 8601 (UTC when no offset is given)."""

    default_error_messages = {"invalid": "{value!r} is neither unix seconds nor an ISO 8601 time"}

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except (ValueError, OverflowError):
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid", value=text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class DurationField(serializers.Field):
    """A length of time as Kiali sends it (``60s``, ``5m``, ``1h``, ``1d``) or plain seconds; in seconds."""

    def to_internal_value(self, data: Any) -> int:
        text = str(data).strip()
        if text.isdigit():
            return int(text)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: int) -> str:
        return f"{value}s"


@extend_schema_field(OpenApiTypes.STR)
class NameListField(serializers.Field):
    """A comma-separated list of names; blank entries are dropped, and an empty list means "all" (None)."""

    def to_internal_value(self, data: Any) -> list[str] | None:
        names = [n.strip() for n in str(data).split(",") if n.strip()]
        return names or None

    def to_representation(self, value: list[str] | None) -> str:
        return ",".join(value or [])


@extend_schema_field(OpenApiTypes.STR)
class BoxByField(serializers.Field):
    """Compound boxes to keep: a comma-separated subset of ``cluster,namespace,app``, or ``none``."""

    def to_internal_value(self, data: Any) -> list[str]:
        kinds = [k.strip() for k in str(data).split(",") if k.strip() and k.strip() != "none"]
        unknown = set(kinds) - set(BOX_KINDS)
        if unknown:
            raise serializers.ValidationError(f"unknown box kinds {sorted(unknown)}; use {', '.join(BOX_KINDS)}")
        return kinds

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value) or "none"


@extend_schema_field(OpenApiTypes.STR)
class HideField(serializers.Field):
    """A find/hide expression of server-evaluable terms (see ``topology.graph.expressions``); blank is none."""

    def to_internal_value(self, data: Any) -> NodePredicate | None:
        text = str(data)
        if not text.strip():
            return None
        try:
            return parse_hide_expression(text)
        except ExpressionError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: Any) -> str:
        return ""


class QuerySerializer(serializers.Serializer):
    """Base of the flat query-string serializers: fields are shallow copies of the declared ones.

    DRF deep-copies every declared field for each serializer instance, which was ~70 % of parsing a graph request
    (~0.5 ms, a quarter of the API's fixed cost). A query serializer's fields hold no nested fields and no state a
    request changes besides their binding (name, parent), which ``bind`` sets on the copy, so a shallow copy is
    enough; the declared fields are never bound or mutated.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class ClusterQuery(QuerySerializer):
    """The ``cluster`` every endpoint takes; without it the cluster comes from ``inventory.clusters.ClusterChoice``."""

    cluster = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Cluster name (default: the cluster chosen in the dashboard's header, else the first enabled one).",
    )


class NamespacedQuery(ClusterQuery):
    namespaces = NameListField(required=False, help_text="Comma-separated namespaces (default: all).")


class GraphQuery(NamespacedQuery):
    """``GET /api/v1/graph``."""

    graphType = serializers.ChoiceField(choices=list(GRAPH_TYPES), default="versionedApp")
    duration = DurationField(
        required=False, help_text="Metric window: 60s, 5m, 10m... (closest stored window; default the health window)."
    )
    at = TimeField(required=False, help_text="Unix seconds or ISO 8601; the closest snapshot is used (default now).")
    idleNodes = serializers.BooleanField(
        default=False, help_text="Include inventory nodes without traffic (default false)."
    )
    boxBy = BoxByField(
        default=list(BOX_KINDS), help_text="Comma-separated: cluster,namespace,app (default all), or none."
    )
    hide = HideField(
        required=False,
        help_text=(
            "Hide expression as on the graph page, e.g. label:app=ratings OR node=unknown: the nodes it matches, "
            "their edges and boxes left empty are left out. Terms: label:KEY=GLOB / label:KEY!=GLOB (app, version, "
            "workload, service, namespace, cluster), name=GLOB, node=TYPE, healthy, !healthy, idle, !idle, joined "
            "by AND / OR. rt, %error, rps and mtls terms are refused (400): the page applies those itself."
        ),
    )


class GraphDiffQuery(NamespacedQuery):
    """``GET /api/v1/graph/diff``: ``from`` (required; a Python keyword, so declared in :meth:`get_fields`)."""

    to = TimeField(required=False, help_text="Unix seconds or ISO 8601 (default now).")
    graphType = serializers.ChoiceField(choices=list(GRAPH_TYPES), default="versionedApp")
    duration = DurationField(required=False, help_text="Metric window (closest stored window).")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = TimeField(help_text="Unix seconds or ISO 8601: the older snapshot.")
        return fields


class HealthQuery(NamespacedQuery):
    """``GET /api/v1/health``."""

    type = serializers.ChoiceField(choices=["app", "service", "workload"], default="app")
    at = TimeField(required=False, help_text="Unix seconds or ISO 8601; the closest snapshot is used (default now).")


def default_range() -> tuple[datetime, datetime]:
    """The last hour."""
    now = timezone.now()
    return now - timedelta(hours=1), now


class SnapshotRangeQuery(ClusterQuery):
    """``GET /api/v1/snapshots``: a time range, the last hour by default."""

    since = TimeField(required=False, help_text="Unix seconds or ISO 8601 (default an hour before until).")
    until = TimeField(required=False, help_text="Unix seconds or ISO 8601 (default now).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = default_range()
        attrs["until"] = attrs.get("until") or until
        attrs["since"] = attrs.get("since") or attrs["until"] - (until - since)
        if attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"since": "must be before until"})
        return attrs


class EntityMetricsQuery(SnapshotRangeQuery):
    """``GET /api/v1/metrics``: one entity and a range (``duration`` before ``until`` instead of ``since``)."""

    kind = serializers.ChoiceField(choices=list(ENTITY_KINDS))
    namespace = serializers.CharField()
    name = serializers.CharField(
        required=False, allow_blank=True, help_text="Entity name (required unless kind=namespace)."
    )
    duration = DurationField(required=False, help_text="Range length before until (15m, 1h, 1d), instead of since.")
    points = serializers.IntegerField(
        min_value=1,
        max_value=MAX_POINTS,
        default=DEFAULT_POINTS,
        help_text=f"Maximum points (default {DEFAULT_POINTS}).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] != "namespace" and not attrs.get("name"):
            raise serializers.ValidationError({"name": "required unless kind=namespace"})
        if attrs.get("since") is None and attrs.get("duration") is not None:
            attrs["until"] = attrs.get("until") or timezone.now()
            attrs["since"] = attrs["until"] - timedelta(seconds=attrs["duration"])
        return super().validate(attrs)
