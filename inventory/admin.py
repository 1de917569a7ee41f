"""Admin pages for the inventory. Synced objects are read-only: the cluster is their source of truth.

Deleting a synced row would do nothing real (the next relist brings it back), so the admin offers no delete,
no delete action and no add or edit for synced kinds; only ``Cluster`` rows, which the admin owns, can change.

Access follows role grants (``accounts.admin_access``): clusters are for mesh admins; synced rows are shown to any
user with a role, only those of the namespaces it may read.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_access import CLUSTER_FILTER, MeshAdminOnly, NamespaceScopedView
from inventory.models import (
    Cluster,
    ConfigMap,
    IstioObject,
    Namespace,
    Pod,
    SecretName,
    Service,
    SyncStatus,
    Workload,
)


@admin.register(Cluster)
class ClusterAdmin(MeshAdminOnly, admin.ModelAdmin):
    list_display = (
        "name",
        "enabled",
        "in_cluster",
        "kubeconfig_path",
        "context",
        "control_plane_namespace",
        "from_settings",
    )
    list_filter = ["enabled", "in_cluster"]
    search_fields = ["name"]
    readonly_fields = ("from_settings", "sync_owner", "sync_lease_until", "created")


class SyncedAdmin(NamespaceScopedView, admin.ModelAdmin):
    """Read-only admin for rows the sync writes: view only (of the namespaces the user may read), for everyone."""

    list_filter = [CLUSTER_FILTER]
    search_fields = ["name"]


@admin.register(Namespace)
class NamespaceAdmin(SyncedAdmin):
    namespace_field = "name"
    list_display = ("name", "cluster", "injection", "phase", "synced_at")


@admin.register(Service)
class ServiceAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "service_type", "cluster_ip")
    list_filter = [CLUSTER_FILTER, "namespace"]


@admin.register(Workload)
class WorkloadAdmin(SyncedAdmin):
    list_display = (
        "name",
        "namespace",
        "cluster",
        "kind",
        "app",
        "version",
        "ready_replicas",
        "desired_replicas",
        "sidecar_present",
    )
    list_filter = [CLUSTER_FILTER, "namespace", "kind", "sidecar_present"]


@admin.register(Pod)
class PodAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "phase", "ready", "sidecar", "workload_name")
    list_filter = [CLUSTER_FILTER, "namespace", "phase", "ready", "sidecar"]


@admin.register(IstioObject)
class IstioObjectAdmin(SyncedAdmin):
    list_display = ("name", "kind", "group", "namespace", "cluster", "version", "resource_version")
    list_filter = [CLUSTER_FILTER, "group", "kind", "namespace"]


@admin.register(ConfigMap)
class ConfigMapAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "resource_version", "synced_at")


@admin.register(SecretName)
class SecretNameAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "synced_at")
    list_filter = [CLUSTER_FILTER, "namespace"]


@admin.register(SyncStatus)
class SyncStatusAdmin(SyncedAdmin):
    namespace_field = None  # one row per kind of a whole cluster
    list_display = (
        "cluster",
        "kind",
        "state",
        "last_success",
        "duration_ms",
        "object_count",
        "watching",
        "last_error",
    )
    list_filter = [CLUSTER_FILTER, "state"]
    search_fields = ["kind"]
