"""Tasks run by real Celery worker processes: over Redis, and over the embedded file-system broker.

The worker is started by ``tests.support.celery_worker.running_worker`` on the test's database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from clients.kubernetes import KINDS_BY_KEY
from inventory.models import Cluster, SyncStatus, Workload
from tests.conftest import STRICT, require
from tests.support.celery_worker import call_task, running_worker, worker_env
from tests.support.wait import wait_until


@pytest.mark.redis
def test_worker_over_redis_runs_the_sync_task(transactional_db, simulator, redis_url, tmp_path):
    cluster = Cluster.objects.create(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))
    env = worker_env(tmp_path, CELERY_BROKER_URL=redis_url)
    with running_worker(env, tmp_path / "worker.log", "--pool", "solo", "--queues", "mesh-ui-test"):
        call_task(env, "inventory.tasks.sync_cluster", cluster.pk, 0, queue="mesh-ui-test")
        wait_until(
            lambda: SyncStatus.objects.filter(cluster=cluster, state="ok").count() == len(KINDS_BY_KEY),
            "the worker synced the cluster",
            timeout=60,
        )
    assert Workload.objects.filter(cluster=cluster, name="reviews-v3", ready_replicas=1).exists()


def test_worker_and_beat_on_the_embedded_broker_keep_the_inventory_synced(transactional_db, simulator, tmp_path):
    env = worker_env(
        tmp_path,
        CELERY_BROKER_URL="filesystem://",
        MESH_UI_CLUSTERS=f"sim={simulator.kubeconfig_path}",
        MESH_UI_SYNC_INTERVAL="1",
        MESH_UI_RELIST_INTERVAL="10",
    )
    # -B runs beat inside the worker: beat's schedule queues dispatch_cluster_syncs, which queues sync_cluster.
    options = ("-B", "--concurrency", "2", "--schedule", str(tmp_path / "beat-schedule"))
    with running_worker(env, tmp_path / "worker.log", *options):
        wait_until(
            lambda: Workload.objects.filter(name="reviews-v3", ready_replicas=1).exists(),
            "beat + worker synced the cluster",
            timeout=60,
        )
        from kubernetes import client as k8s
        from kubernetes import config as k8s_config

        api = k8s_config.new_client_from_config(config_file=str(simulator.kubeconfig_path))
        k8s.AppsV1Api(api).patch_namespaced_deployment("reviews-v3", "bookinfo", {"spec": {"replicas": 0}})
        wait_until(
            lambda: Workload.objects.filter(name="reviews-v3", desired_replicas=0, ready_replicas=0).exists(),
            "a scale reached the database",
            timeout=10,
        )
    assert Cluster.objects.get(name="sim").from_settings


def test_worker_writes_to_the_suite_database(transactional_db, tmp_path):
    """A task run by a real worker process changes the database the suite runs on (PostgreSQL in strict mode)."""
    from django.utils import timezone

    from topology.models import GraphSnapshot

    if STRICT:
        require(connection.vendor == "postgresql", "DATABASE_URL does not point at PostgreSQL")
    cluster = Cluster.objects.create(name="old", kubeconfig_path="/nonexistent")
    long_ago = timezone.now() - timedelta(days=365)  # older than every retention tier
    doomed = GraphSnapshot.objects.create(cluster=cluster, taken_at=long_ago, source="direct")
    kept = GraphSnapshot.objects.create(cluster=cluster, taken_at=timezone.now(), source="direct")
    env = worker_env(tmp_path, CELERY_BROKER_URL="filesystem://")
    with running_worker(env, tmp_path / "worker.log", "--pool", "solo"):
        call_task(env, "topology.tasks.thin_snapshots")
        wait_until(
            lambda: not GraphSnapshot.objects.filter(pk=doomed.pk).exists(),
            "the worker thinned the snapshots",
            timeout=60,
        )
    assert GraphSnapshot.objects.filter(pk=kept.pk).exists()
