"""Tasks run by real Celery worker processes: over Redis, and over the embedded file-system broker.

The helpers here start and stop a worker on the test's database; ``tests/topology_snapshots`` uses them too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from clients.kubernetes import KINDS_BY_KEY
from inventory.models import Cluster, SyncStatus, Workload
from tests.conftest import STRICT, require

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database this process uses, so worker processes write where the test reads."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        MESH_UI_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="mesh_ui.settings",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def stop_worker(process: subprocess.Popen, log: Path) -> str:
    # SIGQUIT is Celery's cold shutdown: no waiting for a sync that is following watches.
    process.send_signal(signal.SIGQUIT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return log.read_text()[-3000:]


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "mesh_ui", *args]


@pytest.mark.redis
def test_worker_over_redis_runs_the_sync_task(transactional_db, simulator, redis_url, tmp_path):
    cluster = Cluster.objects.create(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))
    env = worker_env(tmp_path, CELERY_BROKER_URL=redis_url)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        celery_command(
            "worker",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--queues",
            "mesh-ui-test",
        ),
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        subprocess.run(
            celery_command(
                "call",
                "inventory.tasks.sync_cluster",
                "--args",
                f"[{cluster.pk}, 0]",
                "--queue",
                "mesh-ui-test",
            ),
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        done = wait_until(
            lambda: SyncStatus.objects.filter(cluster=cluster, state="ok").count() == len(KINDS_BY_KEY), 60
        )
    finally:
        output = stop_worker(worker, log)
    assert done, f"the worker did not sync the cluster; worker log:\n{output}"
    assert Workload.objects.filter(cluster=cluster, name="reviews-v3", ready_replicas=1).exists()


def test_worker_and_beat_on_the_embedded_broker_keep_the_inventory_synced(transactional_db, simulator, tmp_path):
    env = worker_env(
        tmp_path,
        CELERY_BROKER_URL="filesystem://",
        MESH_UI_CLUSTERS=f"sim={simulator.kubeconfig_path}",
        MESH_UI_SYNC_INTERVAL="1",
        MESH_UI_RELIST_INTERVAL="10",
    )
    log = tmp_path / "worker.log"
    # -B runs beat inside the worker: beat's schedule queues dispatch_cluster_syncs, which queues sync_cluster.
    worker = subprocess.Popen(
        celery_command(
            "worker",
            "-B",
            "--concurrency",
            "2",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ),
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        synced = wait_until(lambda: Workload.objects.filter(name="reviews-v3", ready_replicas=1).exists(), 60)
        from kubernetes import client as k8s
        from kubernetes import config as k8s_config

        api = k8s_config.new_client_from_config(config_file=str(simulator.kubeconfig_path))
        k8s.AppsV1Api(api).patch_namespaced_deployment("reviews-v3", "bookinfo", {"spec": {"replicas": 0}})
        watched = synced and wait_until(
            lambda: Workload.objects.filter(name="reviews-v3", desired_replicas=0, ready_replicas=0).exists(),
            10,
        )
    finally:
        output = stop_worker(worker, log)
    assert synced, f"beat + worker did not sync the cluster; worker log:\n{output}"
    assert watched, f"a scale did not reach the database within 10 s; worker log:\n{output}"
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
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        celery_command("worker", "--pool", "solo", "--without-heartbeat", "--without-mingle", "--without-gossip"),
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        subprocess.run(
            celery_command("call", "topology.tasks.thin_snapshots"),
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        thinned = wait_until(lambda: not GraphSnapshot.objects.filter(pk=doomed.pk).exists(), 60)
    finally:
        output = stop_worker(worker, log)
    assert thinned, f"the worker did not thin the snapshots; worker log:\n{output}"
    assert GraphSnapshot.objects.filter(pk=kept.pk).exists()
