"""Celery tasks of the topology: thin wrappers that call the snapshot service with ids.

A snapshot is one task that starts it and fans its windows out as a ``group`` of :func:`build_snapshot_window`
tasks, which any worker process or machine may take; see ``topology.snapshots`` for how the last window completes
the snapshot without a result backend.
"""

from __future__ import annotations

from typing import Any

from celery import Task, group, shared_task

from inventory.models import Cluster
from topology import snapshots


@shared_task(name="topology.tasks.dispatch_graph_snapshots", ignore_result=True)
def dispatch_graph_snapshots() -> list[int]:
    """Beat's entry point: queue a snapshot of every enabled cluster."""
    cluster_ids = list(Cluster.objects.filter(enabled=True).values_list("pk", flat=True))
    for cluster_id in cluster_ids:
        take_graph_snapshot.delay(cluster_id)
    return cluster_ids


@shared_task(name="topology.tasks.take_graph_snapshot")
def take_graph_snapshot(cluster_id: int, at: float | None = None, force: bool = False) -> dict[str, Any]:
    """Start a snapshot of one cluster and queue one task per window to build it.

    ``at`` (unix seconds) reads telemetry at another moment, ``force`` takes a snapshot even when this interval's
    was taken already (benchmarks).
    """
    outcome = snapshots.start_snapshot(cluster_id, force=force, at=at)
    if outcome.snapshot_id is not None:
        group(build_snapshot_window.si(outcome.snapshot_id, window) for window in outcome.windows).apply_async()
    return outcome.as_dict()


@shared_task(
    bind=True,
    name="topology.tasks.build_snapshot_window",
    # A worker lost mid-window hands the message back, so only this window runs again; the attempts are counted
    # in the database (snapshots.WINDOW_ATTEMPTS), which also bounds these redeliveries.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    ignore_result=True,
)
def build_snapshot_window(self: Task, snapshot_id: int, window: int) -> dict[str, Any]:
    """Read one window's telemetry, build and store its graphs; the last window completes the snapshot."""
    outcome = snapshots.build_snapshot_window(snapshot_id, window)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.as_dict()


@shared_task(name="topology.tasks.thin_snapshots", ignore_result=True)
def thin_snapshots() -> dict[int, int]:
    """Apply the retention tiers to every cluster's snapshots (and fail those that can no longer finish)."""
    return {pk: snapshots.thin_snapshots(pk) for pk in Cluster.objects.values_list("pk", flat=True)}
