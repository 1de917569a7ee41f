"""Admin pages for the inventory. Synced objects are read-only: the cluster is their source of truth.

Deleting a synced row would do nothing real (the next relist brings it back), so the admin offers no delete,
no delete action and no add or edit for synced kinds; only ``Cluster`` rows, which the admin owns, can change.

Istio objects are not here: ``istio_config.admin`` edits them through the write service.

Access follows role grants (``accounts.admin_access``): clusters are for mesh admins; synced rows are shown to any
user with a role, only those of the namespaces it may read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import admin

from accounts.admin_access import CLUSTER_FILTER, MeshAdminOnly, NamespaceScopedView
from inventory.credentials import set_prometheus_connection
from inventory.models import (
    Cluster,
    ConfigMap,
    Namespace,
    Pod,
    SecretName,
    Service,
    SyncStatus,
    Workload,
)

KEEP_HELP = "Stored encrypted and never shown. Leave empty to keep the stored one."


class ClusterForm(forms.ModelForm):
    """A cluster's settings; its Prometheus credentials are write-only: typed in, stored encrypted, never shown.

    Credentials typed into the URL (``http://user:secret@host``, ``?token=...``) are moved out of it the same way.
    """

    prometheus_userinfo = forms.CharField(
        label="Prometheus user:password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_HELP,
    )
    prometheus_token = forms.CharField(
        label="Prometheus bearer token",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_HELP,
    )
    forget_prometheus_credentials = forms.BooleanField(label="Forget the stored Prometheus credentials", required=False)

    class Meta:
        model = Cluster
        fields = [
            "name",
            "enabled",
            "kubeconfig_path",
            "context",
            "in_cluster",
            "prometheus_url",
            "control_plane_namespace",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.pk and self.instance.prometheus_credentials
        self.fields["forget_prometheus_credentials"].help_text = (
            "Credentials are stored for this cluster." if stored else "No credentials are stored for this cluster."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        userinfo = cleaned.get("prometheus_userinfo", "")
        if userinfo and (":" not in userinfo or userinfo.startswith(":")):
            self.add_error("prometheus_userinfo", "Write it as user:password.")
        return cleaned

    def save(self, commit: bool = True) -> Cluster:
        cluster = super().save(commit=False)
        # As typed; percent-encoded for the URL it will be joined into (a password may hold "@", "/" or ":").
        user, _, password = self.cleaned_data["prometheus_userinfo"].partition(":")
        userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}" if user else ""
        set_prometheus_connection(
            cluster,
            self.cleaned_data["prometheus_url"],
            userinfo=userinfo,
            bearer_token=self.cleaned_data["prometheus_token"],
            forget=self.cleaned_data["forget_prometheus_credentials"],
        )
        if commit:
            cluster.save()
            self.save_m2m()
        return cluster


@admin.register(Cluster)
class ClusterAdmin(MeshAdminOnly, admin.ModelAdmin):
    form = ClusterForm
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
