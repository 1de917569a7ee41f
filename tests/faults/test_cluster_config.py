"""A kubeconfig that stops parsing: the cluster's status names the line, without a traceback or a retry storm."""

from __future__ import annotations

import shutil
import time

import pytest

from clients.kubernetes import KINDS_BY_KEY
from inventory.models import Cluster, SyncStatus
from tests.faults.probes import banner_kinds, inventory_fingerprint, measure, record_timing
from tests.support.celery_worker import call_task, running_worker, worker_env

pytestmark = [pytest.mark.faults, pytest.mark.serial, pytest.mark.redis]

BROKEN_LINE = 4


def _all_listed(cluster: Cluster) -> bool:
    statuses = SyncStatus.objects.filter(cluster=cluster)
    return statuses.count() == len(KINDS_BY_KEY) and not statuses.exclude(state="ok").exists()


def _attempts(cluster: Cluster) -> set:
    return set(SyncStatus.objects.filter(cluster=cluster).values_list("last_attempt", flat=True))


def test_kubeconfig_with_a_yaml_error_is_named_by_line_once(
    transactional_db, simulator, client, admin_client, redis_url, tmp_path
):
    kubeconfig = tmp_path / "cluster.kubeconfig"
    shutil.copy(simulator.kubeconfig_path, kubeconfig)
    good = kubeconfig.read_text()
    cluster = Cluster.objects.create(name="sim", kubeconfig_path=str(kubeconfig))
    env = worker_env(tmp_path, CELERY_BROKER_URL=redis_url)
    queue = f"mesh-ui-faults-{cluster.pk}-{tmp_path.name}"[:60]
    log = tmp_path / "worker.log"
    with running_worker(env, log, "--pool", "solo", "--queues", queue) as worker:
        call_task(env, "inventory.tasks.sync_cluster", cluster.pk, 0, queue=queue)
        measure(lambda: _all_listed(cluster), "the first sync listed everything")
        before = inventory_fingerprint(cluster)

        lines = good.splitlines()
        lines[BROKEN_LINE - 1] = lines[BROKEN_LINE - 1] + " ]["  # an unbalanced flow sequence
        kubeconfig.write_text("\n".join(lines) + "\n")
        for _ in range(2):  # two dispatches: the second must not log again
            attempted, queued = _attempts(cluster), time.monotonic()
            call_task(env, "inventory.tasks.sync_cluster", cluster.pk, 0, queue=queue)
            measure(lambda a=attempted: _attempts(cluster) != a, "the sync ran on the broken kubeconfig")
            detect = time.monotonic() - queued
        statuses = SyncStatus.objects.filter(cluster=cluster)
        assert set(statuses.values_list("state", flat=True)) == {"failed"}
        (error,) = set(statuses.values_list("last_error", flat=True))
        assert error.startswith(f"kubeconfig invalid: line {BROKEN_LINE}, column ")
        assert "\n" not in error
        assert f"kubeconfig invalid: line {BROKEN_LINE}" in banner_kinds(admin_client)["sync"]  # text for admins
        assert inventory_fingerprint(cluster) == before

        kubeconfig.write_text(good)
        queued = time.monotonic()
        call_task(env, "inventory.tasks.sync_cluster", cluster.pk, 0, queue=queue)
        measure(lambda: _all_listed(cluster), "the mended kubeconfig synced")
        recover = time.monotonic() - queued
        output = worker.stop()

    # No traceback of the broken kubeconfig (PyYAML's ScannerError/ParserError used to be raised every 10 s). A
    # warm shutdown of the solo pool while a sync still runs prints Celery's own kill_job traceback: not ours.
    assert "ScannerError" not in output and "ParserError" not in output
    assert output.count("kubeconfig invalid") == 1, output[-3000:]
    assert inventory_fingerprint(cluster) == before
    record_timing("kubeconfig YAML error (from queueing the sync, incl. `celery call`)", detect=detect, recover=recover)
