"""Celery tasks of the inventory: thin wrappers that call the sync service with ids."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inventory import sync
from inventory.clusters import sync_clusters_from_settings
from inventory.models import Cluster


@shared_task(name="inventory.tasks.dispatch_cluster_syncs", ignore_result=True)
def dispatch_cluster_syncs() -> list[int]:
    """Beat's entry point: queue a sync for every enabled cluster whose lease is free."""
    sync_clusters_from_settings()
    free = Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=timezone.now())
    cluster_ids = list(Cluster.objects.filter(enabled=True).filter(free).values_list("pk", flat=True))
    for cluster_id in cluster_ids:
        sync_cluster.delay(cluster_id)
    return cluster_ids


@shared_task(name="inventory.tasks.sync_cluster")
def sync_cluster(cluster_id: int, watch_seconds: float | None = None) -> dict[str, Any]:
    """List one cluster's inventory, then follow watches until the safety relist interval ends."""
    seconds = settings.MESH_UI_RELIST_INTERVAL if watch_seconds is None else watch_seconds
    return sync.sync_cluster(cluster_id, watch_seconds=seconds).as_dict()
