"""The one write path for Istio and Gateway API objects: every create, update, delete and rollback — from the API,
the YAML editor, the admin, later the wizards — goes through :func:`apply_change`.

Steps, each of which can stop the change with nothing written:

1. read the posted YAML/JSON (the line of a YAML error), refuse a wrong kind or apiVersion, a missing name, a name,
   kind or namespace that is not the URL's, a body over 256 KiB (``istio_config.write_input``);
2. refuse a namespace the user may not write (``accounts.access.can_write``);
3. the CRD schema and the configuration checks against the stored inventory: errors block, warnings block unless
   accepted;
4. a server-side dry run (``dryRun=All``);
5. the write, carrying the resourceVersion the user started from: when the object changed in the cluster since,
   nothing is written and the outcome is a conflict with base, mine, theirs and their diffs;
6. the stored mirror is updated from what the cluster answered, never from the posted text.

Every attempt is recorded in the history (``ConfigChange``) and the audit log, whatever its result; a
``check_only`` call (steps 1 to 4 and the conflict check, for writes that must all pass before any is made, as a
wizard's) records only a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts import access
from audit.events import record_write
from clients.kubernetes import KubeError, WatchEvent
from clients.kubernetes_writes import KubernetesWriteClient, ResourceKind, writable_kind
from inventory.models import Cluster
from inventory.store import apply_events
from inventory.sync import connection_for
from istio_config import validation
from istio_config.checks import IstioConfig
from istio_config.history import forget_echo, history_of, yaml_at_version
from istio_config.inventory_loader import stored_kind
from istio_config.models import ConfigChange
from istio_config.objects import PinnedFinding, pin_findings
from istio_config.write_input import (
    ObjectRef,
    WriteInputError,
    check_identity,
    check_kind_of,
    check_schema,
    config_yaml,
    read_document,
    unified_diff,
)

Result = ConfigChange.Result
Action = ConfigChange.Action

#: The HTTP status each outcome code is answered with (the API's contract).
HTTP_STATUS = {
    "": 200,
    "invalid-yaml": 400,
    "invalid-object": 400,
    "forbidden": 403,
    "not-found": 404,
    "conflict": 409,
    "already-exists": 409,
    "validation-failed": 422,
    "warnings-not-accepted": 422,
    "dry-run-failed": 422,
    "cluster-unreachable": 502,
    "api-error": 502,
}


@dataclass
class Conflict:
    """The object changed in the cluster since the user started: what they started from, wrote, and what is there."""

    base: str
    mine: str
    theirs: str
    theirs_resource_version: str

    @property
    def diffs(self) -> dict[str, str]:
        return {
            "baseToTheirs": unified_diff(self.base, self.theirs, "base", "theirs"),
            "baseToMine": unified_diff(self.base, self.mine, "base", "mine"),
            "theirsToMine": unified_diff(self.theirs, self.mine, "theirs", "mine"),
        }


@dataclass
class WriteOutcome:
    """What one :func:`apply_change` did. ``code`` is empty when the change was applied."""

    code: str = ""
    message: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)
    ref: ObjectRef | None = None
    change: ConfigChange | None = None
    cluster_object: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    conflict: Conflict | None = None

    @property
    def applied(self) -> bool:
        return not self.code

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


class _Stop(Exception):
    """Ends a change early with an outcome code, the history result and a message."""

    def __init__(self, code: str, result: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code, self.result, self.message, self.details = code, result, message, details or []


def _finding_row(finding: PinnedFinding) -> dict[str, Any]:
    return {
        "path": finding.path,
        "line": finding.line,
        "severity": finding.severity,
        "code": finding.code,
        "istioCode": finding.istio_code,
        "message": finding.message,
    }


def _kube_stop(exc: KubeError, during: str) -> _Stop:
    """The outcome of a failed call to the API server."""
    causes = [{"field": c["field"], "message": c["message"], "reason": c["reason"]} for c in exc.causes]
    if exc.status == 0:
        return _Stop("cluster-unreachable", Result.API_ERROR, f"the cluster could not be reached: {exc.message}")
    if exc.status == 409 and exc.reason == "AlreadyExists":
        return _Stop("already-exists", Result.API_ERROR, exc.message)
    if exc.status == 404:
        return _Stop("not-found", Result.API_ERROR, exc.message)
    if during == "dry-run" and exc.status in (400, 403, 422):
        return _Stop("dry-run-failed", Result.DRY_RUN_FAILED, f"the API server refused it: {exc.message}", causes)
    return _Stop("api-error", Result.API_ERROR, f"the API server answered {exc.status}: {exc.message}", causes)


def _write_client(cluster: Cluster) -> KubernetesWriteClient:
    try:
        return KubernetesWriteClient(connection_for(cluster), timeout=settings.MESH_UI_KUBE_TIMEOUT)
    except KubeError as exc:
        raise _kube_stop(exc, "connect") from exc


def _checked_config(document: dict[str, Any]) -> IstioConfig:
    """``document`` as the configuration checks take it (the kind they know it by)."""
    group = str(document["apiVersion"]).rpartition("/")[0]
    return replace(validation.istio_config_of(document, ""), kind=check_kind_of(group, str(document["kind"])))


def _validate(
    cluster: Cluster,
    document: dict[str, Any],
    text: str,
    accept_warnings: bool,
    together_with: tuple[dict[str, Any], ...] = (),
) -> list[dict[str, Any]]:
    """Schema and configuration checks (``together_with`` taken as written too); returns the warnings (and infos) to
    show, raises on what blocks."""
    schema_errors = check_schema(document, text)
    if schema_errors:
        raise _Stop(
            "validation-failed", Result.REFUSED_VALIDATION, "the object does not match its schema", schema_errors
        )
    posted = _checked_config(document)
    key = (posted.kind, posted.namespace, posted.name)
    found = validation.check_objects(cluster, [posted, *(_checked_config(d) for d in together_with)])
    mine = [f for f in found if (f.kind, f.namespace, f.name) == key]
    findings = [_finding_row(f) for f in pin_findings(mine, text)]
    errors = [f for f in findings if f["severity"] == "error"]
    if errors:
        raise _Stop("validation-failed", Result.REFUSED_VALIDATION, "the configuration checks found errors", findings)
    warnings = [f for f in findings if f["severity"] == "warning"]
    if warnings and not accept_warnings:
        raise _Stop(
            "warnings-not-accepted",
            Result.REFUSED_VALIDATION,
            "the configuration checks found warnings; accept them to save anyway",
            findings,
        )
    return findings


def _resource_kind(document: dict[str, Any]) -> ResourceKind:
    found = writable_kind(str(document["apiVersion"]).rpartition("/")[0], str(document["kind"]))
    assert found is not None  # check_identity refused every other kind
    return found


def _resource_kind_of_ref(ref: ObjectRef) -> ResourceKind:
    group, kind = stored_kind(ref.kind)
    for candidate in (group,) if group else ("networking.istio.io", "security.istio.io"):
        found = writable_kind(candidate, kind)
        if found is not None:
            return found
    raise _Stop("not-found", Result.INVALID_INPUT, f"mesh-ui does not write {ref.kind} objects")


class _Attempt:
    """One change being tried: collects what the history and the audit log record, whatever happens."""

    def __init__(self, user: Any, cluster: Cluster, action: str, ref: ObjectRef | None) -> None:
        self.user, self.cluster, self.action, self.ref = user, cluster, action, ref
        self.api_version = ""
        self.uid = ""
        self.version_before = ""
        self.version_after = ""
        self.yaml_before = ""
        self.yaml_after = ""
        self.rollback_of: ConfigChange | None = None
        self.check_only = False
        self.recreate = True
        self.together_with: tuple[dict[str, Any], ...] = ()

    def record(self, result: str, message: str) -> ConfigChange:
        ref = self.ref or ObjectRef("", "", "")
        change = ConfigChange.objects.create(
            cluster=self.cluster,
            kind=ref.kind,
            api_version=self.api_version,
            namespace=ref.namespace,
            name=ref.name,
            uid=self.uid,
            resource_version_before=self.version_before,
            resource_version_after=self.version_after,
            yaml_before=self.yaml_before,
            yaml_after=self.yaml_after,
            diff=unified_diff(self.yaml_before, self.yaml_after) if result == Result.APPLIED else "",
            actor=self.user if getattr(self.user, "is_authenticated", False) else None,
            actor_name=getattr(self.user, "username", "") or "",
            source=ConfigChange.Source.MESH_UI,
            action=self.action,
            result=result,
            message=message[:5000],
            rollback_of=self.rollback_of,
        )
        detail = {"changeId": change.pk, "message": message[:2000], "resourceVersion": self.version_after}
        audit_result = "ok" if result == Result.APPLIED else result
        record_write(self.user, self.cluster, ref.kind, ref.namespace, ref.name, self.action, audit_result, detail)
        return change


def apply_change(
    user: Any,
    cluster: Cluster,
    action: str,
    document: str | dict[str, Any] | None,
    base_resource_version: str = "",
    accept_warnings: bool = False,
    target: ObjectRef | None = None,
    rollback_of: ConfigChange | None = None,
    *,
    check_only: bool = False,
    together_with: tuple[dict[str, Any], ...] = (),
    recreate: bool = True,
) -> WriteOutcome:
    """Create, update or delete one Istio / Gateway API object of ``cluster`` as ``user``; see the module doc.

    ``action`` is ``create``, ``update``, ``delete`` or ``rollback`` (an update, or a create when the object no
    longer exists, of the version ``rollback_of`` restores). ``target`` is the object the URL names (required but
    for a create); ``document`` the posted YAML/JSON (None for a delete); ``base_resource_version`` the version the
    user started from (required for an update, a delete and a rollback of an existing object).

    ``check_only``: everything but the write itself (the dry run included); a pass is not recorded and its outcome
    has no ``change``. ``together_with``: objects the configuration checks take as written alongside (a wizard's
    DestinationRule when its VirtualService is checked before either is written). ``recreate=False``: a rollback of
    an object that no longer exists is refused (not-found) instead of re-creating it (a wizard's compensation must
    not undo someone else's delete).
    """
    attempt = _Attempt(user, cluster, action, target)
    attempt.rollback_of = rollback_of
    attempt.check_only, attempt.together_with, attempt.recreate = check_only, together_with, recreate
    outcome = WriteOutcome(ref=target)
    try:
        _run(attempt, outcome, document, base_resource_version, accept_warnings)
    except WriteInputError as exc:
        outcome.code, outcome.message, outcome.details = exc.code, exc.message, exc.details
        outcome.change = attempt.record(Result.INVALID_INPUT, exc.message)
    except _Stop as stop:
        outcome.code, outcome.message, outcome.details = stop.code, stop.message, stop.details
        outcome.change = attempt.record(stop.result, stop.message)
    outcome.ref = attempt.ref
    return outcome


def _run(
    attempt: _Attempt,
    outcome: WriteOutcome,
    posted: str | dict[str, Any] | None,
    base_version: str,
    accept_warnings: bool,
) -> None:
    user, cluster, target = attempt.user, attempt.cluster, attempt.ref
    if target is not None and not access.can_write(user, cluster, target.namespace):
        raise _Stop("forbidden", Result.FORBIDDEN, f"you may not change objects in {target.namespace!r}")
    document: dict[str, Any] | None = None
    text = posted if isinstance(posted, str) else ""
    if attempt.action != Action.DELETE:
        if posted is None:
            raise WriteInputError("invalid-object", "the object's YAML is required")
        document = read_document(posted)
        attempt.ref = check_identity(document, target)
        attempt.api_version = str(document["apiVersion"])
        attempt.yaml_after = config_yaml(document)
        if target is None and not access.can_write(user, cluster, attempt.ref.namespace):
            raise _Stop("forbidden", Result.FORBIDDEN, f"you may not change objects in {attempt.ref.namespace!r}")
    ref = attempt.ref
    assert ref is not None
    kind = _resource_kind(document) if document is not None else _resource_kind_of_ref(ref)
    client = _write_client(cluster)
    try:
        current = _fetch(client, kind, ref) if attempt.action != Action.CREATE else None
        if attempt.action == Action.ROLLBACK and current is None and attempt.recreate:
            base_version = ""  # the object is gone: the rollback re-creates it
        elif attempt.action in (Action.UPDATE, Action.DELETE, Action.ROLLBACK):
            if current is None:
                raise _Stop(
                    "not-found", Result.API_ERROR, f"there is no {ref.kind} {ref.namespace}/{ref.name} in the cluster"
                )
            if not base_version:
                raise WriteInputError("invalid-object", "resourceVersion (the version you started from) is required")
            attempt.uid = str(current["metadata"].get("uid", ""))
            attempt.version_before = base_version
            attempt.yaml_before = config_yaml(current)
            if str(current["metadata"].get("resourceVersion")) != base_version:
                _raise_conflict(attempt, outcome, client, kind, ref, base_version)
        if document is not None:
            outcome.warnings = _validate(cluster, document, text, accept_warnings, attempt.together_with)
        answer = _dry_run_and_write(attempt, outcome, client, kind, ref, document, base_version)
    finally:
        client.close()
    if attempt.check_only:
        return
    _store_applied(attempt, outcome, kind, answer)


def _fetch(client: KubernetesWriteClient, kind: ResourceKind, ref: ObjectRef) -> dict[str, Any] | None:
    try:
        return client.fetch_object(kind, ref.namespace, ref.name)
    except KubeError as exc:
        raise _kube_stop(exc, "read") from exc


def _dry_run_and_write(
    attempt: _Attempt,
    outcome: WriteOutcome,
    client: KubernetesWriteClient,
    kind: ResourceKind,
    ref: ObjectRef,
    document: dict[str, Any] | None,
    base_version: str,
) -> dict[str, Any]:
    body: dict[str, Any] | None = None
    if document is not None:
        body = {**document, "metadata": {**document["metadata"]}}
        body["metadata"].pop("resourceVersion", None)
        if base_version:
            body["metadata"]["resourceVersion"] = base_version
    for dry_run in (True,) if attempt.check_only else (True, False):
        try:
            if body is None:
                answer = client.delete_object(kind, ref.namespace, ref.name, base_version, dry_run=dry_run)
            elif base_version:
                answer = client.replace_object(kind, body, dry_run=dry_run)
            else:
                answer = client.create_object(kind, body, dry_run=dry_run)
        except KubeError as exc:
            if exc.status == 409 and exc.reason == "Conflict" and base_version:
                _raise_conflict(attempt, outcome, client, kind, ref, base_version)
            raise _kube_stop(exc, "dry-run" if dry_run else "write") from exc
    return answer


def _raise_conflict(
    attempt: _Attempt,
    outcome: WriteOutcome,
    client: KubernetesWriteClient,
    kind: ResourceKind,
    ref: ObjectRef,
    base_version: str,
) -> None:
    """Stop with a conflict: the object is no longer at ``base_version``; nothing was written."""
    theirs = _fetch(client, kind, ref)
    theirs_version = str((theirs or {}).get("metadata", {}).get("resourceVersion", ""))
    base = yaml_at_version(attempt.cluster, ref, base_version) or ""
    outcome.conflict = Conflict(
        base=base, mine=attempt.yaml_after, theirs=config_yaml(theirs), theirs_resource_version=theirs_version
    )
    attempt.yaml_before = base
    message = (
        f"{ref.kind} {ref.namespace}/{ref.name} changed in the cluster since version {base_version} "
        f"(it is at {theirs_version or 'nothing: it was deleted'}); nothing was written"
    )
    raise _Stop("conflict", Result.CONFLICT, message)


def _store_applied(attempt: _Attempt, outcome: WriteOutcome, kind: ResourceKind, answer: dict[str, Any]) -> None:
    """Record the applied change and update the stored mirror from the cluster's answer, in one transaction."""
    assert attempt.ref is not None
    deleted = attempt.action == Action.DELETE
    if not deleted:
        metadata = answer.get("metadata") or {}
        attempt.uid = str(metadata.get("uid", attempt.uid))
        attempt.version_after = str(metadata.get("resourceVersion", ""))
        attempt.yaml_after = config_yaml(answer)
        outcome.cluster_object = answer
    with transaction.atomic():
        outcome.change = change = attempt.record(Result.APPLIED, _applied_message(attempt))
        if deleted:
            gone = {"metadata": {"name": attempt.ref.name, "namespace": attempt.ref.namespace}}
            apply_events(attempt.cluster, kind.key, [WatchEvent("DELETED", gone)])
        else:
            apply_events(attempt.cluster, kind.key, [WatchEvent("MODIFIED", answer)])
    forget_echo(change)


def _applied_message(attempt: _Attempt) -> str:
    ref = attempt.ref
    assert ref is not None
    verb = {"create": "created", "update": "updated", "delete": "deleted", "rollback": "rolled back"}[attempt.action]
    return f"{ref.kind} {ref.namespace}/{ref.name} {verb}"


def rollback_change(
    user: Any, cluster: Cluster, target: ObjectRef, change_id: int, base_resource_version: str, accept_warnings: bool
) -> WriteOutcome:
    """Restore the version of ``target`` that change ``change_id`` left (before it, for a delete), through the
    whole write path; recorded as a ``rollback``."""
    change = history_of(cluster, target).filter(pk=change_id).first()
    restorable = change.restorable_yaml if change is not None else ""
    if change is None or not restorable:
        attempt = _Attempt(user, cluster, Action.ROLLBACK, target)
        message = f"change {change_id} of {target.kind} {target.namespace}/{target.name} has no version to restore"
        if not access.can_write(user, cluster, target.namespace):
            return WriteOutcome(
                "forbidden",
                f"you may not change objects in {target.namespace!r}",
                ref=target,
                change=attempt.record(Result.FORBIDDEN, "forbidden"),
            )
        return WriteOutcome("invalid-object", message, ref=target, change=attempt.record(Result.INVALID_INPUT, message))
    return apply_change(
        user, cluster, Action.ROLLBACK, restorable, base_resource_version, accept_warnings, target, rollback_of=change
    )
