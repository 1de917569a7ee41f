"""Serializers of the API's inventory answers. Field names are camelCase, as in the graph API and Kubernetes.

Clusters never carry how they are reached: no kubeconfig path or context, no Prometheus URL, no token.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.health import HealthLookup
from inventory.models import Cluster, Namespace, Pod, Service, SyncStatus, Workload


def labels_field(source: str | None = None, help_text: str = "Labels of the object.") -> serializers.DictField:
    """A read-only map of label names to values (``source`` when the model's field is named otherwise)."""
    child = serializers.CharField(allow_blank=True)
    if source:
        return serializers.DictField(child=child, read_only=True, help_text=help_text, source=source)
    return serializers.DictField(child=child, read_only=True, help_text=help_text)


class HealthSerializer(serializers.Serializer):
    """Health of an entity in the latest snapshot (``docs/health.md``); optional members are absent when empty."""

    status = serializers.ChoiceField(choices=["Healthy", "Degraded", "Failure", "Not Ready", "No health information"])
    reason = serializers.CharField(required=False, allow_blank=True)
    warnings = serializers.ListField(child=serializers.CharField(), required=False)
    idle = serializers.BooleanField(required=False, help_text="No traffic in the health window.")


class NamespaceHealthSerializer(serializers.Serializer):
    """A namespace's worst app health and the count of its apps per status."""

    status = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True)
    counts = serializers.DictField(child=serializers.IntegerField(), required=False)


class HealthMixin(serializers.Serializer):
    """Adds ``health`` from the view's :class:`api.health.HealthLookup` (None without a stored entry)."""

    def health_of(self, cluster_id: int, key: str) -> dict[str, Any] | None:
        lookup: HealthLookup | None = self.context.get("health")
        return lookup.get(cluster_id, key) if lookup is not None else None


class SyncSummarySerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["ok", "failed", "never"],
        help_text="failed when any kind's last sync failed, never when no kind was synced yet, else ok.",
    )
    kinds = serializers.IntegerField(help_text="Kinds synced.")
    failedKinds = serializers.ListField(child=serializers.CharField(), help_text="Kinds whose last sync failed.")
    lastSuccess = serializers.DateTimeField(
        allow_null=True, help_text="The oldest of the kinds' last successful lists."
    )
    syncing = serializers.BooleanField(help_text="A worker holds the cluster's sync lease now.")


class ClusterSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="v1:cluster-detail", lookup_field="name")
    sync = serializers.SerializerMethodField()

    class Meta:
        model = Cluster
        fields = ["url", "name", "enabled", "sync"]

    @extend_schema_field(SyncSummarySerializer)
    def get_sync(self, cluster: Cluster) -> dict[str, Any]:
        statuses = list(cluster.sync_statuses.all())
        failed = sorted(s.kind for s in statuses if s.state == SyncStatus.State.FAILED)
        successes = [s.last_success for s in statuses if s.last_success is not None]
        state = "failed" if failed else ("ok" if successes else "never")
        lease = cluster.sync_lease_until
        return {
            "state": state,
            "kinds": len(statuses),
            "failedKinds": failed,
            "lastSuccess": min(successes) if successes else None,
            "syncing": lease is not None and lease > timezone.now(),
        }


class SyncStatusSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    lastAttempt = serializers.DateTimeField(source="last_attempt", allow_null=True)
    lastSuccess = serializers.DateTimeField(source="last_success", allow_null=True)
    lastEvent = serializers.DateTimeField(source="last_event", allow_null=True)
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)
    objectCount = serializers.IntegerField(source="object_count")
    lastError = serializers.SerializerMethodField()
    lastErrorAt = serializers.DateTimeField(source="last_error_at", allow_null=True)

    class Meta:
        model = SyncStatus
        fields = [
            "cluster",
            "kind",
            "state",
            "lastAttempt",
            "lastSuccess",
            "lastEvent",
            "durationMs",
            "objectCount",
            "watching",
            "relists",
            "lastError",
            "lastErrorAt",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Error text; cluster admins only."))
    def get_lastError(self, status: SyncStatus) -> str | None:
        # Error texts can name hosts and paths of the cluster's connection: only its admins read them.
        admin_clusters: set[int] = self.context.get("admin_cluster_ids", set())
        return status.last_error if status.cluster_id in admin_clusters else None


class SyncRequestSerializer(serializers.Serializer):
    """The answer to "sync now": the sync is queued; its outcome appears in the cluster's sync status."""

    cluster = serializers.CharField()
    queued = serializers.BooleanField()
    message = serializers.CharField()


class NamespaceSerializer(HealthMixin, serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    labels = labels_field()
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True, read_only=True)
    health = serializers.SerializerMethodField()

    class Meta:
        model = Namespace
        fields = ["cluster", "name", "phase", "injection", "labels", "createdAt", "health"]

    @extend_schema_field(NamespaceHealthSerializer(allow_null=True))
    def get_health(self, namespace: Namespace) -> dict[str, Any] | None:
        return self.health_of(namespace.cluster_id, namespace.name)


class ServicePortSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    port = serializers.IntegerField()
    protocol = serializers.CharField(required=False)
    targetPort = serializers.JSONField(required=False, help_text="A port number or a port name.")
    appProtocol = serializers.CharField(required=False)


class ServiceSerializer(HealthMixin, serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    type = serializers.CharField(source="service_type", read_only=True)
    clusterIP = serializers.CharField(source="cluster_ip", read_only=True)
    ports = ServicePortSerializer(many=True, read_only=True)
    selector = labels_field(help_text="Labels of the pods the service sends to.")
    labels = labels_field()
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True, read_only=True)
    health = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = ["cluster", "namespace", "name", "type", "clusterIP", "ports", "selector", "labels", "createdAt"]
        fields += ["health"]

    @extend_schema_field(HealthSerializer(allow_null=True))
    def get_health(self, service: Service) -> dict[str, Any] | None:
        return self.health_of(service.cluster_id, f"{service.namespace}/{service.name}")


class WorkloadSerializer(HealthMixin, serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    labels = labels_field()
    templateLabels = labels_field("template_labels", "Labels of the pod template.")
    desiredReplicas = serializers.IntegerField(source="desired_replicas", read_only=True)
    readyReplicas = serializers.IntegerField(source="ready_replicas", read_only=True)
    availableReplicas = serializers.IntegerField(source="available_replicas", read_only=True)
    sidecarPresent = serializers.BooleanField(source="sidecar_present", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True, read_only=True)
    health = serializers.SerializerMethodField()

    class Meta:
        model = Workload
        fields = ["cluster", "namespace", "name", "kind", "app", "version", "labels", "templateLabels"]
        fields += ["desiredReplicas", "readyReplicas", "availableReplicas", "sidecarPresent", "createdAt", "health"]

    @extend_schema_field(HealthSerializer(allow_null=True))
    def get_health(self, workload: Workload) -> dict[str, Any] | None:
        return self.health_of(workload.cluster_id, f"{workload.namespace}/{workload.name}")


class AppSerializer(HealthMixin, serializers.Serializer):
    """An app: the workloads of one namespace sharing an ``app`` label (rows of ``api.views.AppViewSet``)."""

    cluster = serializers.CharField(source="cluster__name")
    namespace = serializers.CharField()
    name = serializers.CharField(source="app")
    workloads = serializers.IntegerField(source="workload_count", help_text="Workloads with this app label.")
    desiredReplicas = serializers.IntegerField(source="desired")
    readyReplicas = serializers.IntegerField(source="ready")
    missingSidecars = serializers.IntegerField(
        source="missing_sidecars", help_text="Workloads whose pods do not all run istio-proxy."
    )
    health = serializers.SerializerMethodField()

    @extend_schema_field(HealthSerializer(allow_null=True))
    def get_health(self, app: dict[str, Any]) -> dict[str, Any] | None:
        return self.health_of(app["cluster"], f"{app['namespace']}/{app['app']}")


class AppDetailSerializer(AppSerializer):
    workloadNames = serializers.ListField(
        child=serializers.CharField(), source="workload_names", help_text="Names of the app's workloads."
    )


class PodSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    labels = labels_field()
    containersReady = serializers.IntegerField(source="containers_ready", read_only=True)
    containersTotal = serializers.IntegerField(source="containers_total", read_only=True)
    workloadKind = serializers.CharField(source="workload_kind", read_only=True)
    workloadName = serializers.CharField(source="workload_name", read_only=True)
    nodeName = serializers.CharField(source="node_name", read_only=True)
    podIP = serializers.CharField(source="pod_ip", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True, read_only=True)

    class Meta:
        model = Pod
        fields = ["cluster", "namespace", "name", "phase", "ready", "sidecar", "containersReady", "containersTotal"]
        fields += ["workloadKind", "workloadName", "nodeName", "podIP", "labels", "createdAt"]
