"""Models of the cluster inventory.

Everything is keyed by cluster. Objects refer to their namespace by name rather than by foreign key, so a failed
namespace list (which keeps what is stored) never orphans or cascades the other kinds. Each row carries the
Kubernetes ``uid`` and ``resourceVersion`` it was last written from, which makes sync writes idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

#: How long a sync lease lasts, and how often the syncing worker renews it.
LEASE_SECONDS = 30.0
LEASE_RENEW_SECONDS = 5.0
#: A lease holder silent for longer than this (a renewal missed, with 7 s to spare for a busy worker) is shown as
#: stalled within 12 s of its death. Another worker takes the cluster over only when the lease ends.
SYNC_SILENT_SECONDS = 12.0


class Cluster(models.Model):
    """A Kubernetes cluster mesh-ui polls, reached through a kubeconfig (path + context) or in-cluster config."""

    name = models.SlugField(max_length=63, unique=True)
    kubeconfig_path = models.CharField(max_length=500, blank=True, help_text="Path to a kubeconfig file.")
    context = models.CharField(max_length=253, blank=True, help_text="Kubeconfig context; empty for current.")
    in_cluster = models.BooleanField(default=False, help_text="Use the pod's service account instead.")
    prometheus_url = models.URLField(
        blank=True, help_text="Prometheus for this cluster, without credentials; empty for PROMETHEUS_URL."
    )
    # Never in clear, never shown: read with inventory.credentials.read_prometheus_credentials where a client connects.
    # A database default too, for rows written by code that predates the field (see control_plane_namespace).
    prometheus_credentials = models.TextField(
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="The Prometheus URL's userinfo and secret parameters and a bearer token, encrypted (Fernet).",
    )
    enabled = models.BooleanField(default=True)
    # A database default too, so rows written by code that predates the field (a worker mid-upgrade, a data
    # migration of an older state) still get Istio's default namespace.
    control_plane_namespace = models.CharField(
        max_length=63,
        default="istio-system",
        db_default="istio-system",
        help_text="Namespace of istiod, whose `istio` ConfigMap holds the mesh config.",
    )
    from_settings = models.BooleanField(default=False, editable=False, help_text="Created from MESH_UI_CLUSTERS.")
    # The sync lease: a worker claims it with a conditional UPDATE so two workers never sync one cluster at once.
    sync_owner = models.CharField(max_length=200, blank=True, editable=False)
    sync_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def sync_silent_seconds(self, now: datetime) -> float | None:
        """How long the worker holding the sync lease has not renewed it, when that is over ``SYNC_SILENT_SECONDS``.

        None while no worker holds the lease (a sync that ended releases it) or its holder renews it in time.
        """
        if self.sync_lease_until is None:
            return None
        silent = (now - (self.sync_lease_until - timedelta(seconds=LEASE_SECONDS))).total_seconds()
        return silent if silent > SYNC_SILENT_SECONDS else None


class KubeObject(models.Model):
    """Fields every synced Kubernetes object has."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE)
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=64, blank=True)
    resource_version = models.CharField(max_length=64, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, help_text="creationTimestamp in the cluster")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class NamespacedObject(KubeObject):
    namespace = models.CharField(max_length=63, db_index=True)

    class Meta:
        abstract = True


class Namespace(KubeObject):
    """A Kubernetes namespace and whether it asks for sidecar injection."""

    phase = models.CharField(max_length=20, blank=True)
    injection = models.CharField(
        max_length=20, blank=True, help_text="enabled, disabled, a revision name, or empty when not labelled."
    )

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="uniq_namespace")]

    def __str__(self) -> str:
        return f"{self.cluster_id}/{self.name}"


class Service(NamespacedObject):
    """A Kubernetes Service."""

    service_type = models.CharField(max_length=32, blank=True)
    cluster_ip = models.CharField(max_length=64, blank=True)
    ports = models.JSONField(default=list, blank=True)
    selector = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["cluster", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_service")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class Workload(NamespacedObject):
    """A Deployment or StatefulSet, with its app/version labels, replica counts and sidecar state."""

    kind = models.CharField(max_length=32)
    app = models.CharField(max_length=253, blank=True, db_index=True)
    version = models.CharField(max_length=253, blank=True)
    template_labels = models.JSONField(default=dict, blank=True)
    desired_replicas = models.IntegerField(default=0)
    ready_replicas = models.IntegerField(default=0)
    available_replicas = models.IntegerField(default=0)
    sidecar_present = models.BooleanField(
        default=False, help_text="Every pod of the workload runs istio-proxy (updated as pods sync)."
    )

    class Meta:
        ordering = ["cluster", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "namespace", "kind", "name"], name="uniq_workload")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class Pod(NamespacedObject):
    """A pod: its phase, readiness, sidecar and owning workload."""

    phase = models.CharField(max_length=20, blank=True)
    ready = models.BooleanField(default=False)
    sidecar = models.BooleanField(default=False, help_text="Runs an istio-proxy container.")
    containers_ready = models.IntegerField(default=0)
    containers_total = models.IntegerField(default=0)
    workload_kind = models.CharField(max_length=32, blank=True)
    workload_name = models.CharField(max_length=253, blank=True, db_index=True)
    node_name = models.CharField(max_length=253, blank=True)
    pod_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["cluster", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_pod")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class IstioObject(NamespacedObject):
    """An Istio configuration object (VirtualService, DestinationRule, Gateway, ...) with its spec.

    Also holds the Kubernetes Gateway API objects Istio implements (``group`` gateway.networking.k8s.io):
    ``group`` tells an Istio ``Gateway`` from a Gateway API ``Gateway``.
    """

    group = models.CharField(max_length=100)
    version = models.CharField(max_length=20)
    kind = models.CharField(max_length=63)
    generation = models.BigIntegerField(default=0)
    spec = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["cluster", "namespace", "kind", "name"]
        verbose_name = "Istio object"
        constraints = [
            models.UniqueConstraint(fields=["cluster", "namespace", "group", "kind", "name"], name="uniq_istio")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class ConfigMap(NamespacedObject):
    """A ConfigMap mesh-ui reads: only Istio's mesh config (the ``istio`` ConfigMap of the control plane)."""

    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["cluster", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_configmap")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class SecretName(NamespacedObject):
    """That a Secret exists: its name, namespace and labels, listed as metadata only.

    Never its data, nor its annotations (``kubectl apply`` keeps a copy of the data in one), nor its type (the
    metadata-only list does not carry it): the checks only ask whether a referenced credential exists.
    """

    class Meta:
        ordering = ["cluster", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_secret_name")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class SyncStatus(models.Model):
    """How the last sync of one kind in one cluster went."""

    class State(models.TextChoices):
        NEVER = "never", "never synced"
        OK = "ok", "ok"
        FAILED = "failed", "failed"
        NOT_INSTALLED = "absent", "not installed"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="sync_statuses")
    kind = models.CharField(max_length=63, help_text="Resource key, e.g. pods or virtualservices.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEVER)
    last_attempt = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_event = models.DateTimeField(null=True, blank=True, help_text="Last change received from a watch.")
    duration_ms = models.IntegerField(null=True, blank=True, help_text="Duration of the last full list.")
    object_count = models.IntegerField(default=0)
    resource_version = models.CharField(max_length=64, blank=True)
    watching = models.BooleanField(default=False)
    relists = models.IntegerField(default=0, help_text="Full lists done, including those after 410 Gone.")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cluster", "kind"]
        verbose_name_plural = "sync statuses"
        constraints = [models.UniqueConstraint(fields=["cluster", "kind"], name="uniq_sync_status")]

    def __str__(self) -> str:
        return f"{self.cluster_id}/{self.kind}: {self.state}"

    def is_slow(self, request_timeout_seconds: float) -> bool:
        """Whether the last complete list took at least half the request timeout: the API server answers, but so
        slowly that the next list may time out."""
        return self.state == self.State.OK and (self.duration_ms or 0) >= request_timeout_seconds * 500
