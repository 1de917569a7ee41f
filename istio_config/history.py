"""The change history of Istio objects: recording mesh-ui's write attempts and the changes the sync saw made
outside mesh-ui (kubectl, GitOps), and reading an object's history back.

An external change is one the sync applied whose new ``resourceVersion`` is not one mesh-ui just wrote: the write
service records its applied change (with the cluster's answer's resourceVersion) in the same transaction that
updates the stored mirror, so the sync's own echo of that write — the watch event, or the next relist — finds it
and is not recorded twice. Should the sync apply the echo first (it runs in another thread), the write service
removes that external record when it records its own (:func:`forget_echo`); a change someone else made in between
has another resourceVersion and stays.

The history is kept ``MESH_UI_CONFIG_HISTORY_DAYS`` (:func:`purge_old_changes`, hourly), but never an object's last
applied version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from inventory.models import Cluster, IstioObject
from inventory.signals import IstioObjectChange
from istio_config.models import ConfigChange
from istio_config.write_input import ObjectRef, check_kind_of, config_yaml, unified_diff


def document_of_fields(fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored row's fields (``inventory.store.HISTORY_FIELDS_WITH_SPEC``) as a Kubernetes document."""
    if fields is None:
        return None
    metadata = {"name": fields["name"], "namespace": fields["namespace"]}
    metadata.update({k: fields[k] for k in ("labels", "annotations") if fields.get(k)})
    return {
        "apiVersion": f"{fields['group']}/{fields['version']}",
        "kind": fields["kind"],
        "metadata": metadata,
        "spec": fields.get("spec") or {},
    }


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff and how to tint it (``diff-add``, ``diff-del``, ``diff-hunk`` or none)."""

    css: str
    text: str


def diff_lines(diff: str) -> list[DiffLine]:
    """``diff`` split into lines, each with the class that tints it (the history page, the admin's conflict)."""
    lines = []
    for text in diff.splitlines():
        if text.startswith(("+++", "---", "@@")):
            css = "diff-hunk"
        elif text.startswith("+"):
            css = "diff-add"
        elif text.startswith("-"):
            css = "diff-del"
        else:
            css = ""
        lines.append(DiffLine(css, text))
    return lines


def history_of(cluster: Cluster, ref: ObjectRef) -> QuerySet[ConfigChange]:
    """Every recorded change of one object, newest first (it may have been deleted since)."""
    return ConfigChange.objects.filter(cluster=cluster, kind=ref.kind, namespace=ref.namespace, name=ref.name)


def yaml_at_version(cluster: Cluster, ref: ObjectRef, resource_version: str) -> str | None:
    """The object's configuration YAML as it was at ``resource_version``: from the history, or from the stored
    mirror when it is at that version; None when neither knows it."""
    if not resource_version:
        return None
    known = (
        history_of(cluster, ref)
        .filter(resource_version_after=resource_version, result=ConfigChange.Result.APPLIED)
        .values_list("yaml_after", flat=True)
        .first()
    )
    if known:
        return known
    stored = (
        IstioObject.objects.filter(
            cluster=cluster, namespace=ref.namespace, name=ref.name, resource_version=resource_version
        )
        .values("group", "version", "kind", "namespace", "name", "labels", "annotations", "spec")
        .first()
    )
    if stored is not None and check_kind_of(stored["group"], stored["kind"]) == ref.kind:
        return config_yaml(document_of_fields(dict(stored)))
    return None


def forget_echo(change: ConfigChange) -> None:
    """Remove an external record of ``change`` itself (the sync applied the cluster's echo of mesh-ui's write
    before the write service recorded it), whichever came first, and nothing else.

    A resourceVersion names one state of one object, so the echo of a create or update is the external record with
    the same version after. A delete leaves no version: its echo is the external delete recorded since the object's
    last known state (the newest applied change that left it existing) — the object was deleted once since then,
    by this change, or the delete would have failed.
    """
    ref = ObjectRef(change.kind, change.namespace, change.name)
    echoes = history_of(change.cluster, ref).filter(source=ConfigChange.Source.EXTERNAL).exclude(pk=change.pk)
    if change.action != ConfigChange.Action.DELETE and change.resource_version_after:
        echoes.filter(resource_version_after=change.resource_version_after).delete()
        return
    last_state = (
        history_of(change.cluster, ref)
        .filter(result=ConfigChange.Result.APPLIED, created__lte=change.created)
        .exclude(action=ConfigChange.Action.DELETE)
        .exclude(pk=change.pk)
        .order_by("-created", "-id")
        .first()
    )
    deletes = echoes.filter(action=ConfigChange.Action.DELETE)
    if last_state is not None:
        deletes = deletes.filter(
            Q(created__gt=last_state.created) | Q(created=last_state.created, pk__gt=last_state.pk)
        )
    deletes.delete()


def purge_old_changes(now: datetime | None = None, days: int | None = None) -> int:
    """Delete the history older than ``days`` (default ``MESH_UI_CONFIG_HISTORY_DAYS``) before ``now``, except each
    object's last applied change: the version it is at, or the one it had when it was deleted, which re-creating it
    needs. Returns how many changes went."""
    keep_days = settings.MESH_UI_CONFIG_HISTORY_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    applied = ConfigChange.Result.APPLIED
    newer_applied = ConfigChange.objects.filter(
        Q(created__gt=OuterRef("created")) | Q(created=OuterRef("created"), pk__gt=OuterRef("pk")),
        cluster=OuterRef("cluster"),
        kind=OuterRef("kind"),
        namespace=OuterRef("namespace"),
        name=OuterRef("name"),
        result=applied,
    )
    old = ConfigChange.objects.filter(created__lt=cutoff)
    last_versions = old.filter(result=applied).exclude(Exists(newer_applied)).values("pk")
    deleted, _ = old.exclude(pk__in=last_versions).delete()
    return deleted


def _ref_of(fields: dict[str, Any]) -> ObjectRef:
    return ObjectRef(check_kind_of(fields["group"], fields["kind"]), fields["namespace"], fields["name"])


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _our_versions(cluster_id: int, versions: list[str]) -> set[tuple[ObjectRef, str]]:
    """Which of ``versions`` mesh-ui wrote itself (a resourceVersion names one state of one object in a cluster)."""
    ours: set[tuple[ObjectRef, str]] = set()
    mine = ConfigChange.objects.filter(
        cluster_id=cluster_id, source=ConfigChange.Source.MESH_UI, result=ConfigChange.Result.APPLIED
    )
    for chunk in _chunks(sorted(set(versions))):
        for kind, namespace, name, version in mine.filter(resource_version_after__in=chunk).values_list(
            "kind", "namespace", "name", "resource_version_after"
        ):
            ours.add((ObjectRef(kind, namespace, name), version))
    return ours


def _deleted_by_us(cluster_id: int, refs: set[ObjectRef]) -> set[ObjectRef]:
    """Which of ``refs`` (objects gone from the cluster) mesh-ui deleted: their last applied change is ours."""
    last: dict[ObjectRef, tuple[str, str]] = {}
    applied = ConfigChange.objects.filter(cluster_id=cluster_id, result=ConfigChange.Result.APPLIED)
    for chunk in _chunks(sorted({ref.name for ref in refs})):
        rows = applied.filter(name__in=chunk).order_by("created", "id")
        for kind, namespace, name, source, action in rows.values_list("kind", "namespace", "name", "source", "action"):
            last[ObjectRef(kind, namespace, name)] = (source, action)
    return {ref for ref in refs if last.get(ref) == (ConfigChange.Source.MESH_UI, ConfigChange.Action.DELETE)}


def record_external_changes(cluster_id: int, changes: list[IstioObjectChange]) -> list[ConfigChange]:
    """Record the sync's changes that mesh-ui did not make as ``external`` history, with their diff.

    A few queries find which of them are echoes of mesh-ui's own writes (the same resourceVersion after, or a
    delete that was mesh-ui's last applied change of the object); the others are stored with one bulk insert.
    """
    ours = _our_versions(cluster_id, [c.after["resource_version"] for c in changes if c.after is not None])
    gone = {_ref_of(c.before) for c in changes if c.after is None and c.before is not None}
    deleted_by_us = _deleted_by_us(cluster_id, gone) if gone else set()
    rows: list[ConfigChange] = []
    for change in changes:
        fields = change.after or change.before or {}
        ref = _ref_of(fields)
        if change.after is not None and (ref, change.after["resource_version"]) in ours:
            continue
        if change.after is None and ref in deleted_by_us:
            continue
        before_yaml = config_yaml(document_of_fields(change.before))
        after_yaml = config_yaml(document_of_fields(change.after))
        if change.before is None:
            action = ConfigChange.Action.CREATE
        elif change.after is None:
            action = ConfigChange.Action.DELETE
        else:
            action = ConfigChange.Action.UPDATE
        rows.append(
            ConfigChange(
                cluster_id=cluster_id,
                kind=ref.kind,
                api_version=f"{fields['group']}/{fields['version']}",
                namespace=ref.namespace,
                name=ref.name,
                uid=fields.get("uid") or "",
                resource_version_before=(change.before or {}).get("resource_version") or "",
                resource_version_after=(change.after or {}).get("resource_version") or "",
                yaml_before=before_yaml,
                yaml_after=after_yaml,
                diff=unified_diff(before_yaml, after_yaml),
                source=ConfigChange.Source.EXTERNAL,
                action=action,
                result=ConfigChange.Result.APPLIED,
                message="changed outside mesh-ui (seen by the sync)",
            )
        )
    return ConfigChange.objects.bulk_create(rows, batch_size=500)
