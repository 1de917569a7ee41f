"""``POST /api/v1/graph/whatif``: the traffic a proposed routing change is expected to give, edge by edge.

A thin view over ``topology.whatif_service``: validate the body, choose the cluster as the graph API does
(``accounts.access.cluster_choice``), refuse a namespace the user may not read (403, like ``GET /api/v1/graph``),
and answer the prediction. Nothing is written; errors use the API's one format (``mesh_ui.api_errors``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from mesh_ui.api_errors import ErrorSerializer, error_body, validation_error_body
from mesh_ui.auth import may_see_error_details
from topology import reading
from topology.api import NamespaceRefused, scoped_namespaces
from topology.api_params import MAX_LABEL_LENGTH, DurationField
from topology.api_schemas import SnapshotMetaSerializer, optional_text
from topology.whatif_service import MAX_OBJECTS, ProposedInputError, preview, read_proposal


class WhatIfBodySerializer(serializers.Serializer[dict[str, Any]]):
    """The proposed change: objects to create or replace (YAML/JSON text or objects) and objects to delete."""

    cluster = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_LABEL_LENGTH, help_text="Cluster name (default: as /graph)."
    )
    namespace = serializers.CharField(max_length=MAX_LABEL_LENGTH, help_text="The namespace whose graph to predict.")
    duration = DurationField(required=False, help_text="Metric window of the graph (closest stored window).")
    objects = serializers.ListField(
        child=serializers.JSONField(),
        max_length=MAX_OBJECTS,
        help_text='Each: an Istio object, its YAML or JSON text (several documents allowed), or {"action": "delete", '
        '"kind", "namespace", "name"}.',
    )


class RatesSerializer(serializers.Serializer[dict[str, Any]]):
    rate = serializers.FloatField(allow_null=True, help_text="Requests/s; null when only bounds are known.")
    errorRate = serializers.FloatField(allow_null=True, help_text="Percent; null when unknown.")


class PredictedRatesSerializer(RatesSerializer):
    low = serializers.FloatField(help_text="Lowest requests/s possible (an unknown match share).")
    high = serializers.FloatField(help_text="Highest requests/s possible.")
    errorsLow = serializers.FloatField(help_text="Lowest errors/s possible.")
    errorsHigh = serializers.FloatField(help_text="Highest errors/s possible.")


class PredictedEdgeSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.CharField(help_text="The graph's edge id; whatif-... for an edge the change adds.")
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    sourceLabel = serializers.CharField()
    targetLabel = serializers.CharField()
    protocol = serializers.CharField()
    kind = serializers.ChoiceField(choices=["routed", "mirror", "scaled", "unchanged"])
    changed = serializers.BooleanField()
    current = RatesSerializer()
    predicted = PredictedRatesSerializer()
    delta = serializers.FloatField(allow_null=True, help_text="Predicted minus current requests/s (null: bounds).")
    responseTimeMs = serializers.FloatField(allow_null=True, help_text="Expected average with a fault delay.")
    delayMs = serializers.FloatField()
    delayedShare = serializers.FloatField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())


class ProposedObjectSerializer(serializers.Serializer[dict[str, Any]]):
    action = serializers.ChoiceField(choices=["apply", "delete"])
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    applied = serializers.BooleanField(help_text="The cluster already holds it (same spec), or no longer (delete).")


class WhatIfNodeSerializer(serializers.Serializer[dict[str, Any]]):
    data = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(), help_text="Node data as in the graph API; isWhatIf on nodes the change adds."
    )


class WhatIfNodesSerializer(serializers.Serializer[dict[str, Any]]):
    nodes = WhatIfNodeSerializer(many=True)


class WhatIfAnswerSerializer(serializers.Serializer[dict[str, Any]]):
    """Every edge of the namespace's versioned-app graph, today and as predicted."""

    cluster = serializers.CharField()
    namespace = serializers.CharField()
    graphType = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["proposed", "partly-applied", "applied"], help_text="Whether the cluster already holds the change."
    )
    objects = ProposedObjectSerializer(many=True)
    appliedAt = serializers.DateTimeField(
        allow_null=True, help_text="Applied: when (the newest recorded change of its objects); null if unknown."
    )
    duration = serializers.IntegerField(required=False, help_text="Metric window, seconds.")
    snapshot = SnapshotMetaSerializer(allow_null=True)
    affectedServices = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField(), help_text="Assumptions and what is unknown.")
    elements = WhatIfNodesSerializer()
    edges = PredictedEdgeSerializer(many=True)
    warning = optional_text("Why there is nothing to predict from (no snapshot yet).")


WHATIF_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="The body or one of its objects is invalid (details by field)."),
    401: OpenApiResponse(ErrorSerializer, description="Not logged in (a token or a session)."),
    403: OpenApiResponse(ErrorSerializer, description="No access to the namespace (or a session POST without CSRF)."),
    404: OpenApiResponse(ErrorSerializer, description="No such cluster."),
}

ALL_TO_V1 = (
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n"
    "  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v1\n"
)


def _invalid(field: str, message: str) -> Response:
    return Response(error_body("invalid", f"{field}: {message}", {field: [message]}), status=400)


class WhatIfView(APIView):
    """Predict the namespace's traffic under proposed VirtualServices and DestinationRules, from the newest
    snapshot and today's rates (``docs/whatif.md``: the rules and what is assumed). Nothing is written."""

    @extend_schema(
        request=WhatIfBodySerializer,
        responses={200: WhatIfAnswerSerializer, **WHATIF_ERRORS},
        examples=[
            OpenApiExample(
                "All of reviews to v1",
                request_only=True,
                value={"cluster": "bookinfo", "namespace": "bookinfo", "objects": [ALL_TO_V1]},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = WhatIfBodySerializer(data=request.data)
        if not body.is_valid():
            return Response(validation_error_body(body.errors), status=400)
        data = body.validated_data
        namespace = data["namespace"]
        try:
            cluster = reading.pick_cluster(access.cluster_choice(request, data.get("cluster") or None))
        except reading.SnapshotRequestError as exc:
            return Response(error_body("not_found", str(exc)), status=404)
        try:
            _, granted = scoped_namespaces(request, cluster, [namespace])
            proposal = read_proposal(data["objects"], namespace)
            for change in proposal.changes:
                if not access.can_read(request.user, cluster, change.obj.namespace):
                    raise NamespaceRefused([change.obj.namespace])
        except NamespaceRefused as exc:
            return exc.response()
        except ProposedInputError as exc:
            return _invalid(exc.field, exc.message)
        answer = preview(
            cluster,
            namespace,
            proposal,
            data.get("duration"),
            lambda ns: access.can_read(request.user, cluster, ns),
            granted,
            may_see_error_details(request.user),
        )
        return Response(answer)
