"""Query parameters of REST API v1, parsed and validated by DRF serializers.

Each endpoint has one serializer; the views read ``validated_data`` and never touch ``query_params`` themselves.
Every parameter has bounds: times between :data:`EARLIEST_TIME` and :data:`LATEST_TIME`, durations up to
:data:`MAX_DURATION_SECONDS`, names of Kubernetes' lengths, so no value reaches date arithmetic or the database
that could overflow there. An invalid request is a ``400`` in the API's error format (``mesh_ui.api_errors``),
naming each invalid parameter. The serializers also document the parameters in the OpenAPI schema.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from mesh_ui.api_errors import validation_error_body
from topology.entity_metrics import ENTITY_KINDS
from topology.graph.ambient_options import AMBIENT_TRAFFIC_VALUES, DEFAULT_AMBIENT_TRAFFIC
from topology.graph.expressions import ExpressionError, NodePredicate, parse_hide_expression
from topology.graph.filtering import BOX_KINDS
from topology.graph.model import GRAPH_TYPES
from topology.graph.rate_options import RATE_GRPC, RATE_HTTP, RATE_TCP, RESPONSE_TIME_STATS, THROUGHPUT_TYPES
from topology.retention import parse_duration

MAX_POINTS = 1000
DEFAULT_POINTS = 240
#: Times outside this range are refused: no snapshot is older than the epoch, and a bound far below datetime's
#: year 9999 leaves room for the arithmetic a range does (an hour before ``until``, ``duration`` before it).
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(3000, 1, 1, tzinfo=UTC)
#: The longest duration a parameter may name: a year (retention keeps days; a graph window is minutes).
MAX_DURATION_SECONDS = 366 * 86400
#: Kubernetes' longest object name (DNS subdomain); namespaces and clusters are DNS labels (63).
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
MAX_NAMES = 100
MAX_EXPRESSION_LENGTH = 2000
_ASCII_DIGITS = re.compile(r"[0-9]+")


class QueryError(Exception):
    """The query string does not validate: ``errors`` are the serializer's, by parameter."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.body = validation_error_body(errors)
        super().__init__(self.body["message"])
        self.errors = dict(errors)

    def response(self) -> Response:
        return Response(self.body, status=400)


def parse_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """``request``'s query string validated by ``serializer_class``; raises :class:`QueryError` when invalid."""
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise QueryError(serializer.errors)
    return dict(serializer.validated_data)


@extend_schema_field(OpenApiTypes.STR)
class TimeField(serializers.Field):
    """A moment as unix seconds or ISO 8601 (UTC when no offset is given)."""

    default_error_messages = {
        "invalid": "{value!r} is neither unix seconds nor an ISO 8601 time",
        "range": "{value!r} is outside the supported range (1970-01-01 to 3000-01-01 UTC)",
    }

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        moment = self._parse(text)
        if not EARLIEST_TIME <= moment < LATEST_TIME:
            self.fail("range", value=text)
        return moment

    def _parse(self, text: str) -> datetime:
        try:
            seconds = float(text)
        except ValueError:
            seconds = None
        if seconds is not None:
            # inf, nan and 1e308 are floats, but no moment: checked before datetime sees them.
            if not math.isfinite(seconds) or not 0 <= seconds < LATEST_TIME.timestamp():
                self.fail("range", value=text)
            return datetime.fromtimestamp(seconds, tz=UTC)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid", value=text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            # 9999-12-31T23:59:59-12:00 parses, but is past datetime's range in UTC.
            return parsed.astimezone(UTC)
        except OverflowError:
            self.fail("range", value=text)

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class DurationField(serializers.Field):
    """A length of time as Kiali sends it (``60s``, ``5m``, ``1h``, ``1d``) or plain seconds; in seconds."""

    def to_internal_value(self, data: Any) -> int:
        text = str(data).strip()
        # Only ASCII digits: str.isdigit() also accepts "²" and other digits int() refuses.
        if _ASCII_DIGITS.fullmatch(text):
            seconds = int(text)
        else:
            try:
                seconds = parse_duration(text)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        if not 0 < seconds <= MAX_DURATION_SECONDS:
            raise serializers.ValidationError(f"must be between 1 second and {MAX_DURATION_SECONDS // 86400} days")
        return seconds

    def to_representation(self, value: int) -> str:
        return f"{value}s"


@extend_schema_field(OpenApiTypes.STR)
class NameListField(serializers.Field):
    """A comma-separated list of names; blank entries are dropped, and an empty list means "all" (None)."""

    def to_internal_value(self, data: Any) -> list[str] | None:
        names = [n.strip() for n in str(data).split(",") if n.strip()]
        if len(names) > MAX_NAMES:
            raise serializers.ValidationError(f"at most {MAX_NAMES} names")
        too_long = [n for n in names if len(n) > MAX_LABEL_LENGTH]
        if too_long:
            raise serializers.ValidationError(f"names are at most {MAX_LABEL_LENGTH} characters: {too_long[0][:80]!r}")
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
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise serializers.ValidationError(f"at most {MAX_EXPRESSION_LENGTH} characters")
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
        max_length=MAX_LABEL_LENGTH,
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
    queryTime = TimeField(
        required=False,
        help_text="Kiali's queryTime (unix seconds or ISO 8601): the graph at that moment. When no snapshot was taken "
        "within one snapshot interval of it (or duration is not a stored window), it is built on demand: 202 with "
        "a status URL until it is ready.",
    )
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

    injectServiceNodes = serializers.BooleanField(
        default=True,
        help_text="Service nodes between callers and the workloads behind a service (default true, as Kiali); "
        "false draws caller → workload edges (app, versionedApp and workload graphs).",
    )
    rateHttp = serializers.ChoiceField(
        choices=list(RATE_HTTP), default="requests", help_text="requests (default) or none: leave HTTP traffic out."
    )
    rateGrpc = serializers.ChoiceField(
        choices=list(RATE_GRPC),
        default="requests",
        help_text="requests (default), sent, received or total (gRPC messages/s: istio_request_messages_total, "
        "istio_response_messages_total or both; no error rates), or none (leave gRPC out).",
    )
    rateTcp = serializers.ChoiceField(
        choices=list(RATE_TCP),
        required=False,
        help_text="sent (Kiali's default), received or total: the bytes/s of tcp edges (rate and throughput). Without "
        "the parameter, total: what snapshots store and the graph page shows.",
    )
    ambientTraffic = serializers.ChoiceField(
        choices=list(AMBIENT_TRAFFIC_VALUES),
        default=DEFAULT_AMBIENT_TRAFFIC,
        help_text="Kiali's ambient telemetry choice: total (default: both), waypoint (the waypoint proxies' L7 "
        "reports, no ztunnel row), ztunnel (ztunnel's L4 rows, no waypoint report) or none (neither; a source "
        "report a waypoint report outranks counts again).",
    )
    throughputType = serializers.ChoiceField(
        choices=list(THROUGHPUT_TYPES),
        required=False,
        help_text="request or response: http edges get throughput (bytes/s of request or response bodies, "
        "istio_request_bytes / istio_response_bytes), Kiali's throughput edge label.",
    )
    responseTime = serializers.CharField(
        required=False,
        help_text="The statistic of each edge's responseTime: avg, 50, 95 (default, as Kiali) or 99 (p50/p95/p99 too).",
    )

    def validate_responseTime(self, value: str) -> str:
        stat = value.strip().lower()
        stat = stat if stat.startswith("p") or stat == "avg" else f"p{stat}"
        if stat not in RESPONSE_TIME_STATS:
            raise serializers.ValidationError("one of avg, 50, 95, 99")
        return stat


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
    namespace = serializers.CharField(max_length=MAX_LABEL_LENGTH)
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_NAME_LENGTH,
        help_text="Entity name (required unless kind=namespace).",
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
