"""The inventory's signals, sent after the writing transaction commits: stored rows of a cluster changed
(:data:`inventory_changed`), and which Istio / Gateway API objects changed, with their rows before and after
(:data:`istio_objects_changed`, what the change history reads to record changes made outside mesh-ui).

Rooms above the inventory (the configuration checks, the history) react to them without the inventory importing
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.dispatch import Signal

#: Sent with ``cluster_id`` and ``kind_key`` once a write that changed rows of that kind has committed.
inventory_changed = Signal()

#: Sent with ``cluster_id`` and ``changes`` (a list of :class:`IstioObjectChange`) once a sync write that created,
#: changed or deleted Istio / Gateway API objects has committed. Not sent for the first successful list of a kind in
#: a cluster: that is the baseline, nothing anyone changed.
istio_objects_changed = Signal()


@dataclass(frozen=True)
class IstioObjectChange:
    """One stored Istio object's row fields before and after a sync write (None: it did not exist)."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None


def announce_istio_changes(cluster_id: int, changes: list[IstioObjectChange]) -> None:
    """Send :data:`istio_objects_changed` when the current transaction commits (nothing for no change)."""
    if changes:
        transaction.on_commit(
            lambda: istio_objects_changed.send(sender=announce_istio_changes, cluster_id=cluster_id, changes=changes)
        )


def announce_change(cluster_id: int, kind_key: str) -> None:
    """Send :data:`inventory_changed` when the current transaction commits (at once outside one)."""
    transaction.on_commit(
        lambda: inventory_changed.send(sender=announce_change, cluster_id=cluster_id, kind_key=kind_key)
    )
