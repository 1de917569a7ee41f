"""Serializers of the validation API: the query strings it takes and the answers it gives (and documents)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from istio_config.findings import STATUSES
from istio_config.models import ConfigFinding, ValidationRun
from topology.api_params import ClusterQuery, NamespacedQuery

SEVERITY_CHOICES = list(STATUSES[:3])


class ValidationsQuery(NamespacedQuery):
    """``GET /api/v1/validations``."""

    kind = serializers.CharField(required=False, allow_blank=True, default="", help_text="e.g. VirtualService")
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES, required=False, allow_blank=True, default="")
    code = serializers.CharField(required=False, allow_blank=True, default="", help_text="e.g. KIA1107")


class ValidationTargetsQuery(NamespacedQuery):
    """``GET /api/v1/validations/targets``: ``namespaces`` are those of the services and workloads."""


class ValidateQuery(ClusterQuery):
    """``POST /api/v1/validate``: the cluster whose inventory the object is checked against."""

    namespace = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Namespace when the object's metadata has none."
    )


class IstioObjectsQuery(ClusterQuery):
    """``GET /api/v1/istio-objects``."""

    namespace = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.CharField(required=False, allow_blank=True, default="")
    name = serializers.CharField(required=False, allow_blank=True, default="", help_text="Name contains.")
    severity = serializers.ChoiceField(
        choices=SEVERITY_CHOICES,
        required=False,
        allow_blank=True,
        default="",
        help_text="Objects with at least one finding of this severity.",
    )
    code = serializers.CharField(required=False, allow_blank=True, default="", help_text="Objects with this code.")
    status = serializers.ChoiceField(
        choices=list(STATUSES),
        required=False,
        allow_blank=True,
        default="",
        help_text="Validation status: the worst severity found, or valid.",
    )
    page = serializers.IntegerField(min_value=1, required=False, default=1)


class FindingSerializer(serializers.ModelSerializer[ConfigFinding]):
    """One stored finding."""

    istioCode = serializers.CharField(source="istio_code")

    class Meta:
        model = ConfigFinding
        fields = ["kind", "namespace", "name", "code", "istioCode", "severity", "message", "path"]


class PinnedFindingSerializer(FindingSerializer):
    """A finding with the line of the shown or posted YAML its path points at."""

    line = serializers.IntegerField(allow_null=True, help_text="1-based line of the YAML; null if not YAML")

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "line"]


class ValidationRunSerializer(serializers.ModelSerializer[ValidationRun]):
    """The cluster's last validation run."""

    class Meta:
        model = ValidationRun
        fields = [
            "started_at",
            "finished_at",
            "duration_ms",
            "object_count",
            "error_count",
            "warning_count",
            "info_count",
            "last_error",
            "queued",
        ]


class ValidationsSerializer(serializers.Serializer[dict[str, Any]]):
    """The answer of ``GET /api/v1/validations``."""

    cluster = serializers.CharField()
    run = ValidationRunSerializer(allow_null=True)
    count = serializers.IntegerField()
    findings = FindingSerializer(many=True)


class SchemaErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """A failure of the CRD schema (what the API server would refuse)."""

    path = serializers.CharField()
    message = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)


class ObjectRefSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()


class ValidateResultSerializer(serializers.Serializer[dict[str, Any]]):
    """The answer of ``POST /api/v1/validate``: nothing is stored."""

    cluster = serializers.CharField()
    object = ObjectRefSerializer()
    valid = serializers.BooleanField(help_text="No schema error and no error-severity finding.")
    schemaErrors = SchemaErrorSerializer(many=True)
    findings = PinnedFindingSerializer(many=True)


class ValidationCountsSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=list(STATUSES))
    error = serializers.IntegerField()
    warning = serializers.IntegerField()
    info = serializers.IntegerField()


class ValidationTargetsSerializer(serializers.Serializer[dict[str, Any]]):
    """Findings counts per service and per workload (``namespace/name``) of the objects routing to or selecting
    them."""

    cluster = serializers.CharField()
    services = serializers.DictField(child=ValidationCountsSerializer())
    workloads = serializers.DictField(child=ValidationCountsSerializer())


class IstioObjectSerializer(serializers.Serializer[Any]):
    """An Istio object of the list, with its validation counts."""

    cluster = serializers.CharField()
    namespace = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    apiVersion = serializers.SerializerMethodField()
    validation = ValidationCountsSerializer()

    def get_apiVersion(self, obj: Any) -> str:
        return f"{obj.group}/{obj.version}"


class IstioObjectPageSerializer(serializers.Serializer[Any]):
    """One page of ``GET /api/v1/istio-objects``."""

    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = IstioObjectSerializer(many=True)


class IstioObjectDetailSerializer(IstioObjectSerializer):
    """One Istio object with its metadata, spec, YAML and findings (each pinned to its YAML line)."""

    metadata = serializers.DictField()
    spec = serializers.DictField()
    yaml = serializers.CharField()
    findings = PinnedFindingSerializer(many=True)
