"""Stored results of the configuration checks: the findings of each cluster and the cluster's last run.

``ConfigFinding`` rows are replaced as a whole, per cluster, by ``istio_config.validation.validate_cluster``;
``FindingTarget`` rows say which services and workloads the object of a finding routes to or selects, so the
service and workload pages and the graph find their findings with one indexed query. ``ValidationRun`` is one row
per cluster: the last run's figures, and the little state that debounces runs.
"""

from __future__ import annotations

from django.db import models

from inventory.models import Cluster
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
