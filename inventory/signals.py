"""The inventory's one signal: stored rows of a cluster changed (sent after the writing transaction commits).

Rooms above the inventory (the configuration checks) react to it without the inventory importing them.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

#: Sent with ``cluster_id`` and ``kind_key`` once a write that changed rows of that kind has committed.
inventory_changed = Signal()


def announce_change(cluster_id: int, kind_key: str) -> None:
    """Send :data:`inventory_changed` when the current transaction commits (at once outside one)."""
    transaction.on_commit(
        lambda: inventory_changed.send(sender=announce_change, cluster_id=cluster_id, kind_key=kind_key)
    )
