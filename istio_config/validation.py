"""Running the configuration checks on a cluster's stored inventory and storing what they find.

``validate_cluster`` loads one cluster's inventory, runs ``istio_config.checks.check_config`` and replaces the
cluster's stored findings in one transaction; it records the run (figures, or the error of a failed run, which keeps
the previous findings) on the cluster's ``ValidationRun``. A run whose inputs have not changed since the last one
(same digest of what the checks read, same checks code) returns after a handful of aggregate queries.

``claim_queue_slot`` is the debounce in front of the Celery task: at most one queued run per cluster, started at
least ``DEBOUNCE_SECONDS`` after the previous one. ``check_object`` checks one posted object (``check_objects``
several at once) against the stored inventory without storing anything (what the editors and wizards call before
writing).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from inventory.models import Cluster, ConfigMap, IstioObject, Namespace, Pod, SecretName, Service, SyncStatus, Workload
from istio_config.checks import ConfigInventory, Finding, IstioConfig, Severity, check_config
from istio_config.inventory_loader import load_config_inventory
from istio_config.models import ConfigFinding, FindingTarget, ValidationRun
from istio_config.targets import ObjectTargets, TargetIndex

log = logging.getLogger(__name__)

#: At most one run per cluster this often, however fast the inventory changes.
DEBOUNCE_SECONDS = 2.0
#: A queued run waits at least this long, so the kinds a sync lists one after the other land in one run.
SETTLE_SECONDS = 0.5
#: A run queued longer ago than this is taken as lost (a dead worker, a purged queue) and may be queued again.
QUEUE_EXPIRY = timedelta(seconds=60)

#: The tables the checks read (through ``inventory_loader``): a table the loader starts reading belongs here too.
VALIDATION_INPUT_MODELS = (Namespace, Service, Workload, Pod, IstioObject, ConfigMap, SecretName)


@dataclass(frozen=True)
class ValidationOutcome:
    """What one ``validate_cluster`` call did, returned by the Celery task."""

    cluster: str
    skipped: bool = False
    findings: int = 0
    objects: int = 0
    duration_ms: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@cache
def checks_code_digest() -> str:
    """A digest of the checks' source: new checks after a deploy make the next run a full one."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for source in sorted([*root.glob("checks/*.py"), root / "targets.py", root / "inventory_loader.py"]):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def compute_input_signature(cluster: Cluster) -> str:
    """A digest of what the checks read of ``cluster``: per input table, its row count and latest write.

    Every create and update sets ``synced_at``, and a delete lowers the count, so any change the sync applies changes
    the digest. A workload's sidecar flag follows its pods without a write of its own: its count is part of it.
    Whether Secrets are readable is part of it too.
    """
    parts: list[str] = [checks_code_digest()]
    for model in VALIDATION_INPUT_MODELS:
        extra: dict[str, Any] = {}
        if model is Workload:
            extra["sidecars"] = Count("id", filter=Q(sidecar_present=True))
        figures = model._default_manager.filter(cluster=cluster).aggregate(
            rows=Count("id"), latest=Max("synced_at"), **extra
        )
        parts.append(f"{model.__name__}:{sorted(figures.items())}")
    # Secret names count only while they can be listed (a 403 makes the credential checks fall silent).
    readable = SyncStatus.objects.filter(cluster=cluster, kind="secrets", state=SyncStatus.State.OK).exists()
    parts.append(f"secrets-readable:{readable}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def claim_queue_slot(cluster_id: int) -> float | None:
    """Mark a run of ``cluster_id`` queued; the countdown to queue it with, or None when one is already queued.

    One conditional UPDATE decides, so concurrent syncs queue one run. The countdown keeps runs at least
    ``DEBOUNCE_SECONDS`` apart; a change arriving while a run is queued is seen by that run (it reads the inventory
    when it starts, after clearing the flag), and one arriving later queues the next.
    """
    now = timezone.now()
    run, _ = ValidationRun.objects.get_or_create(cluster_id=cluster_id)
    free = Q(queued=False) | Q(queued_at__lt=now - QUEUE_EXPIRY)
    if ValidationRun.objects.filter(pk=run.pk).filter(free).update(queued=True, queued_at=now) != 1:
        return None
    since_last = (now - run.started_at).total_seconds() if run.started_at else DEBOUNCE_SECONDS
    return max(SETTLE_SECONDS, DEBOUNCE_SECONDS - since_last)


def validate_cluster(cluster: Cluster, force: bool = False) -> ValidationOutcome:
    """Check ``cluster``'s stored inventory and replace its stored findings; skip when nothing changed."""
    started = time.monotonic()
    run, _ = ValidationRun.objects.get_or_create(cluster=cluster)
    ValidationRun.objects.filter(pk=run.pk).update(queued=False, started_at=timezone.now())
    signature = compute_input_signature(cluster)
    if not force and signature == run.input_signature and not run.last_error:
        return ValidationOutcome(cluster=cluster.name, skipped=True, findings=run.error_count + run.warning_count)
    try:
        inventory = load_config_inventory(cluster)
        findings = check_config(inventory)
        store_findings(cluster, inventory, findings)
    except Exception as exc:  # a failed run is recorded and keeps the previous findings
        log.exception("validation of %s failed", cluster.name)
        ValidationRun.objects.filter(pk=run.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:2000])
        return ValidationOutcome(cluster=cluster.name, error=str(exc))
    duration_ms = int((time.monotonic() - started) * 1000)
    counts = {severity: sum(1 for f in findings if f.severity == severity) for severity in Severity}
    ValidationRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        duration_ms=duration_ms,
        object_count=len(inventory.istio_objects),
        error_count=counts[Severity.ERROR],
        warning_count=counts[Severity.WARNING],
        info_count=counts[Severity.INFO],
        input_signature=signature,
        last_error="",
    )
    return ValidationOutcome(
        cluster=cluster.name, findings=len(findings), objects=len(inventory.istio_objects), duration_ms=duration_ms
    )


def store_findings(cluster: Cluster, inventory: ConfigInventory, findings: list[Finding]) -> None:
    """Replace ``cluster``'s findings (and their targets) with ``findings``, in one transaction."""
    index = TargetIndex(inventory)
    objects = {(o.kind, o.namespace, o.name): o for o in inventory.istio_objects}
    targets: dict[tuple[str, str, str], ObjectTargets] = {}
    rows = [
        ConfigFinding(
            cluster=cluster,
            kind=f.kind,
            namespace=f.namespace,
            name=f.name,
            code=f.code,
            severity=f.severity.value,
            message=f.message,
            path=f.path,
            istio_code=f.istio_code,
        )
        for f in findings
    ]
    with transaction.atomic():
        # Targets first: both deletes are single statements (the finding key does not cascade in Python).
        FindingTarget.objects.filter(cluster=cluster).delete()
        ConfigFinding.objects.filter(cluster=cluster).delete()
        ConfigFinding.objects.bulk_create(rows, batch_size=1000)  # sets the keys (SQLite and PostgreSQL)
        target_rows: list[FindingTarget] = []
        for row in rows:
            key = (row.kind, row.namespace, row.name)
            if key not in targets:
                obj = objects.get(key)
                if obj is not None:
                    targets[key] = index.compute_targets(obj)
                else:
                    targets[key] = index.compute_inventory_targets(*key)
            found = targets[key]
            for kind, refs in (("service", found.services), ("workload", found.workloads)):
                target_rows.extend(
                    FindingTarget(finding=row, cluster=cluster, target_kind=kind, namespace=ns, name=name)
                    for ns, name in sorted(refs)
                )
        FindingTarget.objects.bulk_create(target_rows, batch_size=1000)


class PostedObjectError(ValueError):
    """A posted object that cannot be checked: not an Istio kind mesh-ui knows, or without a name."""


def istio_config_of(document: dict[str, Any], default_namespace: str) -> IstioConfig:
    """The checks' view of a posted Istio object; raises :class:`PostedObjectError` when it cannot be one."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise PostedObjectError("metadata.name is required")
    namespace = metadata.get("namespace") or default_namespace
    if not isinstance(namespace, str) or not namespace:
        raise PostedObjectError("metadata.namespace (or the namespace parameter) is required")
    spec = document.get("spec")
    labels = metadata.get("labels")
    return IstioConfig(
        kind=str(document.get("kind", "")),
        namespace=namespace,
        name=metadata["name"],
        spec=spec if isinstance(spec, dict) else {},
        labels=labels if isinstance(labels, dict) else {},
        resource_version=str(metadata.get("resourceVersion", "")),
    )


def check_object(cluster: Cluster, posted: IstioConfig) -> list[Finding]:
    """The findings on ``posted`` when it replaces (or joins) the stored object of the same kind and name."""
    return check_objects(cluster, [posted])


def check_objects(cluster: Cluster, posted: list[IstioConfig]) -> list[Finding]:
    """The findings on the ``posted`` objects when they replace (or join) the stored objects of the same kinds and
    names all at once (a wizard's DestinationRule and the VirtualService that names its subsets)."""
    inventory = load_config_inventory(cluster)
    keys = {(p.kind, p.namespace, p.name) for p in posted}
    others = tuple(o for o in inventory.istio_objects if (o.kind, o.namespace, o.name) not in keys)
    findings = check_config(replace(inventory, istio_objects=(*others, *posted)))
    return [f for f in findings if (f.kind, f.namespace, f.name) in keys]
