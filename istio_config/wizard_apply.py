"""A wizard's writes (and "Remove routing"'s deletes) made all or nothing, as far as Kubernetes allows.

Kubernetes has no transaction over several objects, so :func:`apply_writes` does what can be done:

1. **Check every write first** through :func:`istio_config.writes.apply_change` with ``check_only`` (input, access,
   the conflict check against the version the page showed, schema and configuration checks with the other objects
   taken as written, the server's dry run). One refusal and nothing is written; every refusal is shown.
2. **Write them in order** (DestinationRule first), each through ``apply_change``.
3. **Compensate** when a write still fails (a race after the check, an API error): each write made before it is
   undone, newest first, through ``apply_change`` against the resourceVersion that write left, recorded in the
   history as undoing it (``rollback_of``): a created object is deleted, an updated one restored to the version
   before it (never re-created if someone deleted it since), a deleted one re-created. When the object changed in
   the cluster since, the undo is refused like any stale write: their change is not overwritten, and the write is
   reported as left applied.

The :class:`WritesResult` says which of the four happened: ``written``, ``nothing-written``, ``rolled-back`` or
``left-applied``; each :class:`AppliedWrite` what became of one object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from inventory.models import Cluster
from istio_config.models import ConfigChange
from istio_config.wizard_writes import PlannedWrite
from istio_config.writes import WriteOutcome, apply_change

Action = ConfigChange.Action

#: :attr:`WritesResult.result` values.
WRITTEN = "written"
NOTHING_WRITTEN = "nothing-written"
ROLLED_BACK = "rolled-back"
LEFT_APPLIED = "left-applied"

#: :attr:`AppliedWrite.status` values besides WRITTEN, ROLLED_BACK and LEFT_APPLIED.
REFUSED = "refused"
NOT_WRITTEN = "not-written"  # it passed, but another write was refused


@dataclass
class AppliedWrite:
    """What became of one planned write: ``outcome`` of its check or its write, ``undo`` of its compensation."""

    write: PlannedWrite
    outcome: WriteOutcome
    status: str
    undo: WriteOutcome | None = None


@dataclass
class WritesResult:
    """What :func:`apply_writes` did: the overall result and each write's fate, in the planned order."""

    result: str
    rows: list[AppliedWrite]

    @property
    def refused(self) -> list[AppliedWrite]:
        return [r for r in self.rows if r.status == REFUSED]

    @property
    def http_status(self) -> int:
        """200 when written, else the status of the first refusal."""
        return self.refused[0].outcome.http_status if self.refused else 200


def _apply(user: Any, cluster: Cluster, write: PlannedWrite, accept_warnings: bool, **options: Any) -> WriteOutcome:
    """``write`` through the write service (``options``: ``check_only``, ``together_with``)."""
    target = None if write.action == Action.CREATE else write.ref
    return apply_change(
        user, cluster, write.action, write.document, write.base_version, accept_warnings, target, **options
    )


def _others(writes: list[PlannedWrite], write: PlannedWrite) -> tuple[dict[str, Any], ...]:
    """The documents of ``writes`` but ``write``: what its configuration checks take as written with it."""
    return tuple(w.document for w in writes if w is not write and w.document is not None)


def _check(user: Any, cluster: Cluster, writes: list[PlannedWrite], accept_warnings: bool) -> list[AppliedWrite]:
    """Every write checked (nothing written), each with the others' documents taken as written."""
    rows = []
    for write in writes:
        outcome = _apply(user, cluster, write, accept_warnings, check_only=True, together_with=_others(writes, write))
        rows.append(AppliedWrite(write, outcome, NOT_WRITTEN if outcome.applied else REFUSED))
    return rows


def _undo(user: Any, cluster: Cluster, done: AppliedWrite) -> WriteOutcome:
    """Put the object of ``done`` back as it was before it, against the version ``done`` left."""
    change = done.outcome.change
    assert change is not None
    ref = done.write.ref
    if done.write.action == Action.CREATE:
        return apply_change(
            user, cluster, Action.DELETE, None, change.resource_version_after, target=ref, rollback_of=change
        )
    version = "" if done.write.action == Action.DELETE else change.resource_version_after
    return apply_change(
        user,
        cluster,
        Action.ROLLBACK,
        change.yaml_before,
        version,
        accept_warnings=True,  # it was there before: its warnings were
        target=ref,
        rollback_of=change,
        recreate=done.write.action == Action.DELETE,
    )


def apply_writes(
    user: Any, cluster: Cluster, writes: list[PlannedWrite], versions: dict[str, str], accept_warnings: bool
) -> WritesResult:
    """Make ``writes`` all or nothing (see the module doc), each against the version in ``versions`` (what the page
    showed: empty for "did not exist", so an object created since is refused as already existing). A write whose
    key ``versions`` lacks is not made, nor any after it."""
    planned: list[PlannedWrite] = []
    for write in writes:
        base = versions.get(write.key)
        if base is None:
            break
        action = write.action if write.action == Action.DELETE else (Action.UPDATE if base else Action.CREATE)
        planned.append(replace(write, action=action, base_version=base))
    checked = _check(user, cluster, planned, accept_warnings)
    if any(row.status == REFUSED for row in checked):
        return WritesResult(NOTHING_WRITTEN, checked)
    rows: list[AppliedWrite] = []
    for index, write in enumerate(planned):
        # Checked as in the first pass (the next writes taken as written), so that it is not refused for what the
        # whole change resolves (a rule dropping a subset only the route it replaces names).
        outcome = _apply(user, cluster, write, accept_warnings, together_with=_others(planned, write))
        if outcome.applied:
            rows.append(AppliedWrite(write, outcome, WRITTEN))
            continue
        made = list(rows)
        rows.append(AppliedWrite(write, outcome, REFUSED))
        rows.extend(AppliedWrite(rest, WriteOutcome(), NOT_WRITTEN) for rest in planned[index + 1 :])
        for done in reversed(made):
            done.undo = _undo(user, cluster, done)
            done.status = ROLLED_BACK if done.undo.applied else LEFT_APPLIED
        if any(row.status == LEFT_APPLIED for row in made):
            return WritesResult(LEFT_APPLIED, rows)
        return WritesResult(ROLLED_BACK if made else NOTHING_WRITTEN, rows)
    return WritesResult(WRITTEN, rows)
