"""Serializers of the write API: the bodies it takes (create, update, delete, rollback) and the answers it gives —
the changed object, its history, what depends on it, and the errors with their stable codes (documented)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from istio_config.api_serializers import IstioObjectDetailSerializer
from istio_config.models import ConfigChange


class CreateBodySerializer(serializers.Serializer[dict[str, Any]]):
    """``POST /api/v1/istio-objects``."""

    cluster = serializers.CharField(required=False, allow_blank=True, default="", help_text="Cluster name.")
    yaml = serializers.CharField(trim_whitespace=False, help_text="The object as YAML or JSON text.")
    acceptWarnings = serializers.BooleanField(required=False, default=False)


class UpdateBodySerializer(serializers.Serializer[dict[str, Any]]):
    """``PUT /api/v1/istio-objects/<cluster>/<namespace>/<kind>/<name>``."""

    yaml = serializers.CharField(trim_whitespace=False, help_text="The object as YAML or JSON text.")
    resourceVersion = serializers.CharField(help_text="The resourceVersion the edit started from.")
    acceptWarnings = serializers.BooleanField(required=False, default=False)


class DeleteBodySerializer(serializers.Serializer[dict[str, Any]]):
    """``DELETE``: in the body or as ``?resourceVersion=``."""

    resourceVersion = serializers.CharField(help_text="The resourceVersion the user saw.")


class RollbackBodySerializer(serializers.Serializer[dict[str, Any]]):
    """``POST .../rollback``."""

    changeId = serializers.IntegerField(help_text="The change whose version to restore.")
    resourceVersion = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The current resourceVersion (empty if deleted)."
    )
    acceptWarnings = serializers.BooleanField(required=False, default=False)


class ConfigChangeSerializer(serializers.ModelSerializer[ConfigChange]):
    """One recorded change (a mesh-ui write attempt, or an external change the sync saw)."""

    cluster = serializers.CharField(source="cluster.name")
    apiVersion = serializers.CharField(source="api_version")
    resourceVersionBefore = serializers.CharField(source="resource_version_before")
    resourceVersionAfter = serializers.CharField(source="resource_version_after")
    yamlBefore = serializers.CharField(source="yaml_before")
    yamlAfter = serializers.CharField(source="yaml_after")
    actor = serializers.CharField(source="actor_name", help_text="Username; empty for external changes.")
    rollbackOf = serializers.IntegerField(source="rollback_of_id", allow_null=True)

    class Meta:
        model = ConfigChange
        fields = [
            "id",
            "cluster",
            "kind",
            "apiVersion",
            "namespace",
            "name",
            "uid",
            "resourceVersionBefore",
            "resourceVersionAfter",
            "yamlBefore",
            "yamlAfter",
            "diff",
            "actor",
            "source",
            "action",
            "result",
            "message",
            "rollbackOf",
            "created",
        ]


class WriteFindingSerializer(serializers.Serializer[dict[str, Any]]):
    """A schema failure or a finding of the checks, pinned to the posted text's line."""

    path = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    severity = serializers.CharField()
    code = serializers.CharField(help_text="A check code (KIA1107...) or 'schema'.")
    istioCode = serializers.CharField(required=False)
    message = serializers.CharField()


class WriteResultSerializer(serializers.Serializer[dict[str, Any]]):
    """A create, update or rollback that was applied: the object as stored now, the change, accepted warnings."""

    object = IstioObjectDetailSerializer()
    change = ConfigChangeSerializer()
    warnings = WriteFindingSerializer(many=True)


class DeleteResultSerializer(serializers.Serializer[dict[str, Any]]):
    change = ConfigChangeSerializer()


class HistorySerializer(serializers.Serializer[dict[str, Any]]):
    """An object's history, newest first."""

    count = serializers.IntegerField()
    changes = ConfigChangeSerializer(many=True)


class DependentSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField()
    reason = serializers.CharField()


class DependentsSerializer(serializers.Serializer[dict[str, Any]]):
    """What refers to the object (shown before it is deleted)."""

    dependents = DependentSerializer(many=True)


class ConflictDiffsSerializer(serializers.Serializer[dict[str, str]]):
    baseToTheirs = serializers.CharField()
    baseToMine = serializers.CharField()
    theirsToMine = serializers.CharField()


class WriteErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """A refused write; nothing was written. ``code`` is stable: invalid-yaml, invalid-object (400); forbidden
    (403); not-found (404); conflict, already-exists (409); validation-failed, warnings-not-accepted, dry-run-failed
    (422); cluster-unreachable, api-error (502). A conflict adds base, mine, theirs, theirsResourceVersion, diffs."""

    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.ListField(child=serializers.DictField())
    changeId = serializers.IntegerField(allow_null=True, help_text="The history record of this attempt.")
    base = serializers.CharField(required=False, help_text="Conflict: the version the edit started from.")
    mine = serializers.CharField(required=False, help_text="Conflict: the posted version.")
    theirs = serializers.CharField(required=False, help_text="Conflict: the cluster's current version.")
    theirsResourceVersion = serializers.CharField(required=False)
    diffs = ConflictDiffsSerializer(required=False)
