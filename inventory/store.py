"""Writes of synced Kubernetes objects into the inventory tables.

``apply_full_list`` makes the stored rows of one kind equal to a complete list from the cluster; ``apply_events``
applies watch events. Both are transactional and idempotent: applying the same list or event twice changes
nothing the second time. Changes of Istio / Gateway API objects are also announced with their rows before and
after (``inventory.signals.istio_objects_changed``), for the change history. Nothing here deletes rows except on
the evidence of a complete, successful list or a DELETED event, so a failed list keeps what is stored. A write that
changed rows is announced (``inventory.signals.inventory_changed``) once it has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from clients.kubernetes import GATEWAY_API_GROUP, KINDS_BY_KEY, MESH_CONFIG_KEY, ResourceKind, WatchEvent
from inventory import mapping
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
from inventory.signals import IstioObjectChange, announce_change, announce_istio_changes

Fields = dict[str, Any]
RowKey = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class KindTable:
    """Where one resource kind is stored and how its rows are built."""

    model: type[models.Model]
    build: Callable[[dict[str, Any]], Fields]
    scope: dict[str, str] = field(default_factory=dict)  # extra filter when several kinds share a table
    namespaced: bool = True

    def queryset(self, cluster: Cluster) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(cluster=cluster, **self.scope)

    def row_key(self, fields: Fields) -> RowKey:
        return (fields.get("namespace", "") if self.namespaced else "", fields["name"])


def _istio_table(kind: ResourceKind) -> KindTable:
    def build(obj: dict[str, Any]) -> Fields:
        return mapping.build_istio_fields(obj, kind.group, kind.version, kind.kind)

    return KindTable(IstioObject, build, scope={"group": kind.group, "kind": kind.kind})


def _workload_table(kind: str) -> KindTable:
    def build(obj: dict[str, Any]) -> Fields:
        return mapping.build_workload_fields(obj, kind)

    return KindTable(Workload, build, scope={"kind": kind})


TABLES: dict[str, KindTable] = {
    "namespaces": KindTable(Namespace, mapping.build_namespace_fields, namespaced=False),
    "services": KindTable(Service, mapping.build_service_fields),
    "deployments": _workload_table("Deployment"),
    "statefulsets": _workload_table("StatefulSet"),
    "pods": KindTable(Pod, mapping.build_pod_fields),
    **{
        key: _istio_table(kind)
        for key, kind in KINDS_BY_KEY.items()
        if kind.group.endswith("istio.io") or kind.group == GATEWAY_API_GROUP
    },
    MESH_CONFIG_KEY: KindTable(ConfigMap, mapping.build_config_map_fields),
    "secrets": KindTable(SecretName, mapping.build_secret_name_fields),
}

_SKIP_ON_UPDATE = {"id", "cluster"}
#: What the change history reads of an Istio object's row (``istio_objects_changed``).
HISTORY_FIELDS = ("group", "version", "kind", "namespace", "name", "uid", "resource_version", "labels", "annotations")
HISTORY_FIELDS_WITH_SPEC = (*HISTORY_FIELDS, "spec")


def _history_fields(fields: Fields) -> Fields:
    return {name: fields.get(name) for name in HISTORY_FIELDS_WITH_SPEC}


def _stored_history_rows(pks: list[int]) -> dict[int, Fields]:
    """The history fields of the stored Istio rows ``pks`` (only changed rows are read: a relist of 5,000
    unchanged objects reads none)."""
    rows: dict[int, Fields] = {}
    for start in range(0, len(pks), 1000):
        for row in IstioObject.objects.filter(pk__in=pks[start : start + 1000]).values("pk", *HISTORY_FIELDS_WITH_SPEC):
            rows[row.pop("pk")] = row
    return rows


def _listed_before(cluster: Cluster, kind_key: str, stored: bool) -> bool:
    """Whether the cluster's ``kind_key`` was known before this list: rows are stored, or an earlier list
    succeeded (it may have found none) or found the kind not installed (none either).

    Only the very first list of a kind in a cluster is a baseline, not a change anyone made. Deciding that from the
    stored rows alone took every list of a kind with no objects stored for a first list: the first DestinationRule
    someone created with kubectl, seen by a relist (the next sync run, or the relist after a watch's 410 Gone), was
    never recorded, nor was anything created after the last one was deleted.
    """
    if stored:
        return True
    known = Q(last_success__isnull=False) | Q(state=SyncStatus.State.NOT_INSTALLED)
    return SyncStatus.objects.filter(known, cluster=cluster, kind=kind_key).exists()


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    total: int = 0


def _update_field_names(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.name not in _SKIP_ON_UPDATE and not f.primary_key and f.editable
    ]


#: How long a stored row newer than a list is kept from it (:func:`newer_than_list`): far longer than a list takes,
#: short enough that a cluster whose versions went back (restored, replaced) is not shown stale rows for long.
NEWER_THAN_LIST_SECONDS = 300


def newer_than_list(stored_version: str, list_version: str, stored_at: Any, now: Any) -> bool:
    """Whether a stored row is newer than the list: the write service stored it, moments ago, from the cluster's
    answer to a write made after the list was read. resourceVersions are opaque to clients, but the API server's
    (etcd's revision) and the simulator's are one increasing number per cluster; anything else is never newer."""
    if not (stored_version.isdigit() and list_version.isdigit()) or stored_at is None:
        return False
    recent = (now - stored_at).total_seconds() < NEWER_THAN_LIST_SECONDS
    return recent and int(stored_version) > int(list_version)


def apply_full_list(
    cluster: Cluster,
    kind_key: str,
    items: Iterable[dict[str, Any]],
    list_version: str | Callable[[], str] = "",
) -> ApplyResult:
    """Make the stored rows of ``kind_key`` in ``cluster`` match ``items``, a complete list from the cluster.

    ``list_version`` is the list's resourceVersion (or a function giving it once ``items`` is consumed, for a list
    read page by page): a stored row newer than the list (:func:`newer_than_list`: stored moments ago with a later
    version) is neither overwritten nor deleted, so a list read before a mesh-ui write and applied after it undoes
    nothing and records no phantom external delete; the watch that resumes from the list brings what came after.
    """
    table = TABLES[kind_key]
    now = timezone.now()
    incoming: dict[RowKey, Fields] = {}
    for obj in items:
        fields = table.build(obj)
        fields["synced_at"] = now
        incoming[table.row_key(fields)] = fields
    version = list_version() if callable(list_version) else list_version
    result = ApplyResult(total=len(incoming))
    update_fields = [name for name in _update_field_names(table.model) if name != "synced_at"] + ["synced_at"]
    with transaction.atomic():
        stored: dict[RowKey, tuple[int, str]] = {}
        newer: set[RowKey] = set()
        for row in table.queryset(cluster).values(
            "pk", "name", "resource_version", "synced_at", *(["namespace"] if table.namespaced else [])
        ):
            key = ((row["namespace"] if table.namespaced else ""), row["name"])
            stored[key] = (row["pk"], row["resource_version"])
            if newer_than_list(row["resource_version"], version, row["synced_at"], now):
                newer.add(key)
        to_create = [
            table.model(cluster=cluster, **{**table.scope, **fields})
            for key, fields in incoming.items()
            if key not in stored
        ]
        to_update = []
        updated_fields: list[tuple[int, Fields]] = []
        for key, fields in incoming.items():
            if key in stored and key not in newer and stored[key][1] != fields["resource_version"]:
                to_update.append(table.model(pk=stored[key][0], cluster=cluster, **{**table.scope, **fields}))
                updated_fields.append((stored[key][0], fields))
        stale = [pk for key, (pk, _) in stored.items() if key not in incoming and key not in newer]
        istio_changes: list[IstioObjectChange] = []
        if table.model is IstioObject and _listed_before(cluster, kind_key, bool(stored)):
            before = _stored_history_rows([pk for pk, _ in updated_fields] + stale)
            istio_changes = [
                IstioObjectChange(None, _history_fields(fields))
                for fields in incoming.values()
                if table.row_key(fields) not in stored
            ]
            istio_changes += [
                IstioObjectChange(before.get(pk), _history_fields(fields)) for pk, fields in updated_fields
            ]
            istio_changes += [IstioObjectChange(before.get(pk), None) for pk in stale]
        table.model._default_manager.bulk_create(to_create, batch_size=1000)
        table.model._default_manager.bulk_update(to_update, update_fields, batch_size=500)
        for start in range(0, len(stale), 1000):
            table.model._default_manager.filter(pk__in=stale[start : start + 1000]).delete()
        result.created, result.updated, result.deleted = len(to_create), len(to_update), len(stale)
        if kind_key in {"pods", "deployments", "statefulsets"}:
            refresh_sidecar_flags(cluster)
        if result.created or result.updated or result.deleted:
            announce_change(cluster.pk, kind_key)
        announce_istio_changes(cluster.pk, istio_changes)
    return result


def apply_events(cluster: Cluster, kind_key: str, events: Iterable[WatchEvent]) -> int:
    """Apply watch events of one kind in one transaction; returns how many changed a row."""
    table = TABLES[kind_key]
    changed = 0
    touched_workloads: set[tuple[str, str]] = set()
    is_istio = table.model is IstioObject
    istio_changes: list[IstioObjectChange] = []
    with transaction.atomic():
        for event in events:
            if event.type not in {"ADDED", "MODIFIED", "DELETED"}:
                continue
            fields = table.build(event.object)
            namespace, name = table.row_key(fields)
            lookup: dict[str, Any] = {"name": name, **({"namespace": namespace} if table.namespaced else {})}
            if event.type == "DELETED":
                if is_istio:
                    gone = table.queryset(cluster).filter(**lookup).values(*HISTORY_FIELDS_WITH_SPEC).first()
                    if gone is not None:
                        istio_changes.append(IstioObjectChange(gone, None))
                deleted, _ = table.queryset(cluster).filter(**lookup).delete()
                changed += bool(deleted)
            else:
                fields["synced_at"] = timezone.now()
                # One read decides: unchanged (skip), stored (update by pk) or new (create).
                read = ("pk", *(HISTORY_FIELDS_WITH_SPEC if is_istio else ("resource_version",)))
                current = table.queryset(cluster).filter(**lookup).values(*read).first()
                if current is not None and current["resource_version"] == fields["resource_version"]:
                    continue
                if current is not None:
                    table.model._default_manager.filter(pk=current.pop("pk")).update(**fields)
                else:
                    table.model._default_manager.create(cluster=cluster, **{**table.scope, **fields})
                if is_istio:
                    istio_changes.append(IstioObjectChange(current, _history_fields(fields)))
                changed += 1
            if kind_key == "pods":
                touched_workloads.add((namespace, fields["workload_name"]))
            elif kind_key in {"deployments", "statefulsets"}:
                touched_workloads.add((namespace, name))
        if touched_workloads:
            refresh_sidecar_flags(cluster, touched_workloads)
        if changed:
            announce_change(cluster.pk, kind_key)
        announce_istio_changes(cluster.pk, istio_changes)
    return changed


def refresh_sidecar_flags(cluster: Cluster, workloads: set[tuple[str, str]] | None = None) -> None:
    """Set ``Workload.sidecar_present`` from the workload's pods: true when it has pods and all run istio-proxy."""
    pods = Pod.objects.filter(cluster=cluster)
    targets = Workload.objects.filter(cluster=cluster)
    if workloads is not None:
        match = Q()
        for namespace, name in workloads:
            match |= Q(namespace=namespace, workload_name=name)
        pods = pods.filter(match)
        target_match = Q()
        for namespace, name in workloads:
            target_match |= Q(namespace=namespace, name=name)
        targets = targets.filter(target_match)
    counts = {
        (row["namespace"], row["workload_name"]): (row["total"], row["with_sidecar"] or 0)
        for row in pods.values("namespace", "workload_name").annotate(
            total=Count("id"), with_sidecar=Sum(models.Case(models.When(sidecar=True, then=1), default=0))
        )
    }
    flip_on: list[int] = []
    flip_off: list[int] = []
    for pk, namespace, name, present in targets.values_list("pk", "namespace", "name", "sidecar_present"):
        total, with_sidecar = counts.get((namespace, name), (0, 0))
        wanted = total > 0 and with_sidecar == total
        if wanted != present:
            (flip_on if wanted else flip_off).append(pk)
    if flip_on:
        Workload.objects.filter(pk__in=flip_on).update(sidecar_present=True)
    if flip_off:
        Workload.objects.filter(pk__in=flip_off).update(sidecar_present=False)
