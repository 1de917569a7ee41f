"""Celery tasks of the configuration checks and the change history: thin wrappers that call ``istio_config.validation``
with ids, and the history's retention sweep (``istio_config.history.purge_old_changes``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from inventory.models import Cluster
from istio_config import history, validation


@shared_task(name="istio_config.tasks.validate_cluster", ignore_result=True)
def validate_cluster(cluster_id: int, force: bool = False) -> dict[str, Any]:
    """Check one cluster's stored inventory and store the findings (cheap when nothing changed)."""
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return {"cluster_id": cluster_id, "error": "no such cluster"}
    return validation.validate_cluster(cluster, force=force).as_dict()


def queue_validation(cluster_id: int) -> bool:
    """Queue a run of ``cluster_id`` unless one is already queued; debounced by ``validation.claim_queue_slot``."""
    countdown = validation.claim_queue_slot(cluster_id)
    if countdown is None:
        return False
    validate_cluster.apply_async((cluster_id,), countdown=countdown)
    return True


@shared_task(name="istio_config.tasks.purge_config_history", ignore_result=True)
def purge_config_history() -> int:
    """Delete changes past ``MESH_UI_CONFIG_HISTORY_DAYS`` (never an object's last applied version); safe to run
    twice."""
    return history.purge_old_changes()
