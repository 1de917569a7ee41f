"""Admin pages for the inventory. Synced objects are read-only: the cluster is their source of truth.

Deleting a synced row would do nothing real (the next relist brings it back), so the admin offers no delete,
no delete action and no add or edit for synced kinds; only ``Cluster`` rows, which the admin owns, can change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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
class ClusterAdmin(admin.ModelAdmin):
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


class SyncedAdmin(admin.ModelAdmin):
    """Read-only admin for rows the sync writes: view only, whatever the user's permissions."""

    list_filter = ["cluster"]
    search_fields = ["name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Namespace)
class NamespaceAdmin(SyncedAdmin):
    list_display = ("name", "cluster", "injection", "phase", "synced_at")


@admin.register(Service)
class ServiceAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "service_type", "cluster_ip")
    list_filter = ["cluster", "namespace"]


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
    list_filter = ["cluster", "namespace", "kind", "sidecar_present"]


@admin.register(Pod)
class PodAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "phase", "ready", "sidecar", "workload_name")
    list_filter = ["cluster", "namespace", "phase", "ready", "sidecar"]


@admin.register(IstioObject)
class IstioObjectAdmin(SyncedAdmin):
    list_display = ("name", "kind", "group", "namespace", "cluster", "version", "resource_version")
    list_filter = ["cluster", "group", "kind", "namespace"]


@admin.register(ConfigMap)
class ConfigMapAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "resource_version", "synced_at")


@admin.register(SecretName)
class SecretNameAdmin(SyncedAdmin):
    list_display = ("name", "namespace", "cluster", "synced_at")
    list_filter = ["cluster", "namespace"]


@admin.register(SyncStatus)
class SyncStatusAdmin(SyncedAdmin):
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
    list_filter = ["cluster", "state"]
    search_fields = ["kind"]
