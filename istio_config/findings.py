"""Read side of the stored findings: per object, per namespace, per service or workload, and the Istio objects
narrowed by what was found on them. Every query is keyed by cluster and takes the caller's namespace filter.

An object's validation status is its worst finding's severity (``error``, ``warning``, ``info``), or ``valid``
without findings (Kiali's object validation).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from inventory.models import Cluster, IstioObject
from istio_config.checks import Severity
from istio_config.models import ConfigFinding, FindingTarget, ValidationRun

ObjectKey = tuple[str, str, str]  # (kind, namespace, name)
VALID = "valid"
STATUSES = (Severity.ERROR.value, Severity.WARNING.value, Severity.INFO.value, VALID)


@dataclass
class SeverityCounts:
    """How many findings of each severity something has."""

    error: int = 0
    warning: int = 0
    info: int = 0

    def add(self, severity: str, count: int = 1) -> None:
        setattr(self, severity, getattr(self, severity) + count)

    @property
    def status(self) -> str:
        """The worst severity present, or ``valid``."""
        return next((s for s in STATUSES[:3] if getattr(self, s)), VALID)

    @property
    def total(self) -> int:
        return self.error + self.warning + self.info

    @property
    def rank(self) -> int:
        """Higher is worse: 3 for errors, 0 for valid."""
        return 3 - STATUSES.index(self.status)


def findings_in(cluster: Cluster, scope: Q | None = None) -> QuerySet[ConfigFinding]:
    """The cluster's findings in the namespaces ``scope`` keeps."""
    return ConfigFinding.objects.filter(cluster=cluster).filter(scope or Q())


def count_by_object(findings: QuerySet[ConfigFinding]) -> dict[ObjectKey, SeverityCounts]:
    """Severity counts per Istio object of ``findings``."""
    counts: dict[ObjectKey, SeverityCounts] = {}
    rows = findings.order_by().values_list("kind", "namespace", "name", "severity").annotate(n=Count("id"))
    for kind, namespace, name, severity, n in rows:
        counts.setdefault((kind, namespace, name), SeverityCounts()).add(severity, n)
    return counts


def count_by_namespace(findings: QuerySet[ConfigFinding]) -> dict[str, SeverityCounts]:
    """Severity counts per namespace of ``findings``."""
    counts: dict[str, SeverityCounts] = {}
    for namespace, severity, n in findings.order_by().values_list("namespace", "severity").annotate(n=Count("id")):
        counts.setdefault(namespace, SeverityCounts()).add(severity, n)
    return counts


def count_by_target(cluster: Cluster, scope: Q | None = None) -> dict[str, dict[str, SeverityCounts]]:
    """Severity counts per service and per workload (``{"service": {"ns/name": counts}, "workload": ...}``) of the
    findings on the objects that route to or select them; ``scope`` filters the targets' namespaces."""
    counts: dict[str, dict[str, SeverityCounts]] = {"service": {}, "workload": {}}
    rows = (
        FindingTarget.objects.filter(cluster=cluster)
        .filter(scope or Q())
        .order_by()
        .values_list("target_kind", "namespace", "name", "finding__severity")
        .annotate(n=Count("id"))
    )
    for target_kind, namespace, name, severity, n in rows:
        counts[target_kind].setdefault(f"{namespace}/{name}", SeverityCounts()).add(severity, n)
    return counts


def findings_for_target(cluster: Cluster, target_kind: str, namespace: str, name: str) -> list[ConfigFinding]:
    """The findings on the objects that route to or select one service or workload, worst first."""
    found = ConfigFinding.objects.filter(
        cluster=cluster, targets__target_kind=target_kind, targets__namespace=namespace, targets__name=name
    ).distinct()
    return sorted(found, key=lambda f: (STATUSES.index(f.severity), f.namespace, f.kind, f.name, f.path))


def findings_of_object(cluster: Cluster, kind: str, namespace: str, name: str) -> list[ConfigFinding]:
    """The findings on one Istio object, in path order."""
    return list(
        ConfigFinding.objects.filter(cluster=cluster, kind=kind, namespace=namespace, name=name).order_by(
            "path", "code"
        )
    )


def _on_object(**conditions: str) -> Exists:
    return Exists(
        ConfigFinding.objects.filter(
            cluster=OuterRef("cluster"),
            kind=OuterRef("kind"),
            namespace=OuterRef("namespace"),
            name=OuterRef("name"),
            **conditions,
        )
    )


def narrow_by_findings(
    objects: QuerySet[IstioObject], severity: str = "", code: str = "", status: str = ""
) -> QuerySet[IstioObject]:
    """The objects with a finding of ``severity`` and/or ``code``, and whose validation status is ``status``."""
    if severity:
        objects = objects.filter(_on_object(severity=severity))
    if code:
        objects = objects.filter(_on_object(code=code))
    if status:
        for level in STATUSES[: STATUSES.index(status)]:  # the severities worse than the status
            objects = objects.exclude(_on_object(severity=level))
        if status != VALID:
            objects = objects.filter(_on_object(severity=status))
    return objects


def codes_found(findings: QuerySet[ConfigFinding]) -> list[str]:
    """The distinct codes among ``findings``, sorted (the choices of a code filter)."""
    return sorted(set(findings.order_by().values_list("code", flat=True).distinct()))


def last_run(cluster: Cluster) -> ValidationRun | None:
    return ValidationRun.objects.filter(cluster=cluster).first()
