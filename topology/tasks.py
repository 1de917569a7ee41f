"""Celery tasks of the topology: thin wrappers that call the snapshot service with ids."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown

from inventory.models import Cluster
from topology import snapshots, window_build


@shared_task(name="topology.tasks.dispatch_graph_snapshots", ignore_result=True)
def dispatch_graph_snapshots() -> list[int]:
    """Beat's entry point: queue a snapshot of every enabled cluster."""
    cluster_ids = list(Cluster.objects.filter(enabled=True).values_list("pk", flat=True))
    for cluster_id in cluster_ids:
        take_graph_snapshot.delay(cluster_id)
    return cluster_ids


@shared_task(name="topology.tasks.take_graph_snapshot")
def take_graph_snapshot(cluster_id: int) -> dict[str, Any]:
    """Read telemetry, build the graphs and health of one cluster, and store them as a snapshot."""
    return snapshots.take_snapshot(cluster_id).as_dict()


@shared_task(name="topology.tasks.thin_snapshots", ignore_result=True)
def thin_snapshots() -> dict[int, int]:
    """Apply the retention tiers to every cluster's snapshots."""
    return {pk: snapshots.thin_snapshots(pk) for pk in Cluster.objects.values_list("pk", flat=True)}


@worker_process_shutdown.connect
def stop_window_processes(**_: Any) -> None:
    """A worker process going away stops the processes it builds snapshot windows in."""
    window_build.shutdown_pool()
