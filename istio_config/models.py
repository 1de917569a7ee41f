"""Stored results of the configuration checks: the findings of each cluster and the cluster's last run.

``ConfigFinding`` rows are replaced as a whole, per cluster, by ``istio_config.validation.validate_cluster``;
``FindingTarget`` rows say which services and workloads the object of a finding routes to or selects, so the
service and workload pages and the graph find their findings with one indexed query. ``ValidationRun`` is one row
per cluster: the last run's figures, and the little state that debounces runs. ``ConfigChange`` is the history of
every Istio object: each write mesh-ui attempted and each change the sync saw made outside mesh-ui.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inventory.models import Cluster, IstioObject
from istio_config.checks.model import Severity

#: The kinds of findings on inventory objects (the workload and service checks) rather than on Istio objects.
INVENTORY_FINDING_KINDS = ("Workload", "Service", "Pod")


class ConfigFinding(models.Model):
    """One problem a check found on one object of a cluster (see ``istio_config.checks.model.Finding``): an Istio
    object, or a workload, service or pod (``INVENTORY_FINDING_KINDS``)."""

    SEVERITIES = [(s.value, s.value) for s in Severity]

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="config_findings")
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)
    code = models.CharField(max_length=16)
    severity = models.CharField(max_length=8, choices=SEVERITIES)
    message = models.TextField()
    path = models.CharField(max_length=500, help_text="JSON path of the offending field, e.g. spec.http[0].route")
    istio_code = models.CharField(max_length=16, blank=True, help_text="The istioctl analyze code, when it has one")

    class Meta:
        ordering = ["cluster", "namespace", "kind", "name", "path", "code"]
        indexes = [
            models.Index(fields=["cluster", "namespace", "kind", "name"], name="finding_object"),
            models.Index(fields=["cluster", "severity"], name="finding_severity"),
            models.Index(fields=["cluster", "code"], name="finding_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.kind} {self.namespace}/{self.name} {self.path}"

    @property
    def on_istio_object(self) -> bool:
        """Whether the finding is on an Istio object (which has a page of its own)."""
        return self.kind not in INVENTORY_FINDING_KINDS


class FindingTarget(models.Model):
    """A service or workload that the object of a finding routes to or selects."""

    class TargetKind(models.TextChoices):
        SERVICE = "service"
        WORKLOAD = "workload"

    # DO_NOTHING: the store deletes a cluster's targets, then its findings, each in one statement; deleting the
    # cluster cascades to both through ``cluster``.
    finding = models.ForeignKey(ConfigFinding, on_delete=models.DO_NOTHING, related_name="targets")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices)
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)

    class Meta:
        indexes = [models.Index(fields=["cluster", "target_kind", "namespace", "name"], name="finding_target")]

    def __str__(self) -> str:
        return f"{self.target_kind} {self.namespace}/{self.name}"


class ValidationRun(models.Model):
    """The last validation run of one cluster, and whether another one is queued (the debounce)."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="validation_run")
    queued = models.BooleanField(default=False, help_text="A run is queued and has not started yet.")
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    object_count = models.IntegerField(default=0, help_text="Istio objects checked.")
    error_count = models.IntegerField(default=0)
    warning_count = models.IntegerField(default=0)
    info_count = models.IntegerField(default=0)
    input_signature = models.CharField(
        max_length=64, blank=True, help_text="Digest of what the checks read; an unchanged one skips the run."
    )
    last_error = models.TextField(blank=True, help_text="Why the last run failed (its findings were kept).")

    def __str__(self) -> str:
        return f"validation of {self.cluster_id}"

    @property
    def counts(self) -> dict[str, int]:
        return {"error": self.error_count, "warning": self.warning_count, "info": self.info_count}


class ConfigChange(models.Model):
    """One attempt to change an Istio object, through mesh-ui (applied or refused) or seen by the sync (external).

    The object is named by cluster, check kind (``K8sHTTPRoute`` for a Gateway API HTTPRoute), namespace and name,
    not by a key to the stored row: the history outlives the object, so a deleted object can be re-created from its
    last version. ``yaml_before``/``yaml_after`` hold the object's configuration (metadata name, namespace, labels,
    annotations; ``spec``), never the cluster's bookkeeping (resourceVersion, uid, status).
    """

    class Source(models.TextChoices):
        MESH_UI = "mesh-ui"
        EXTERNAL = "external"

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        ROLLBACK = "rollback"

    class Result(models.TextChoices):
        APPLIED = "applied"
        REFUSED_VALIDATION = "refused-validation"
        DRY_RUN_FAILED = "dry-run-failed"
        CONFLICT = "conflict"
        API_ERROR = "api-error"
        FORBIDDEN = "forbidden"
        INVALID_INPUT = "invalid-input"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="config_changes")
    kind = models.CharField(max_length=63, help_text="The check kind, e.g. VirtualService or K8sHTTPRoute.")
    api_version = models.CharField(max_length=120, blank=True)
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=64, blank=True)
    resource_version_before = models.CharField(max_length=64, blank=True)
    resource_version_after = models.CharField(max_length=64, blank=True)
    yaml_before = models.TextField(blank=True)
    yaml_after = models.TextField(blank=True)
    diff = models.TextField(blank=True, help_text="Unified diff from yaml_before to yaml_after.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The username as it was.")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MESH_UI)
    action = models.CharField(max_length=8, choices=Action.choices)
    result = models.CharField(max_length=20, choices=Result.choices)
    message = models.TextField(blank=True)
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The version restored."
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["cluster", "namespace", "kind", "name", "-created"], name="change_object"),
            # The sync asks which resourceVersions mesh-ui wrote itself (``history.record_external_changes``).
            models.Index(fields=["cluster", "resource_version_after"], name="change_version"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.kind} {self.namespace}/{self.name}: {self.result}"

    @property
    def applied(self) -> bool:
        return self.result == self.Result.APPLIED

    @property
    def restorable_yaml(self) -> str:
        """The version a rollback to this change restores: what the object was after it (before, for a delete)."""
        if self.action == self.Action.DELETE:
            return self.yaml_before
        return self.yaml_after


class _KindManager(models.Manager["IstioObject"]):
    """The stored Istio objects of one group and kind."""

    def __init__(self, group: str, kind: str) -> None:
        super().__init__()
        self.group, self.kind = group, kind

    def get_queryset(self) -> models.QuerySet[IstioObject]:
        return super().get_queryset().filter(group=self.group, kind=self.kind)


class VirtualServiceObject(IstioObject):
    """The stored VirtualServices, for the admin's VirtualService pages (a proxy: no table of its own)."""

    objects = _KindManager("networking.istio.io", "VirtualService")  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = "VirtualService"
        verbose_name_plural = "VirtualServices"


class DestinationRuleObject(IstioObject):
    """The stored DestinationRules, for the admin's DestinationRule pages (a proxy: no table of its own)."""

    objects = _KindManager("networking.istio.io", "DestinationRule")  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = "DestinationRule"
        verbose_name_plural = "DestinationRules"
