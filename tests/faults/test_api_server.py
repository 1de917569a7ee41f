"""Faults of the Kubernetes API server, seen by a real sync worker: down, forbidding, slow, expiring watches.

Bounds (issue #16): every affected kind, and the cluster's banner, show the failure within 5 s of the first failed
watch or list; once the server answers again, failed kinds are listed and watched again and the banner is gone
within 10 s; no stored row is lost or duplicated.
"""

from __future__ import annotations

import urllib.request

import pytest

from clients.kubernetes import KINDS_BY_KEY
from simulator import control
from tests.faults.probes import (
    all_watching,
    banner_kinds,
    inventory_fingerprint,
    measure,
    record_timing,
    states,
    syncing_worker,
)

pytestmark = [pytest.mark.faults, pytest.mark.serial, pytest.mark.redis]

DETECT_SECONDS = 5.0
RECOVER_SECONDS = 10.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=0.5):
            return True
    except OSError:
        return False


def test_api_server_outage_shows_within_seconds_and_heals_by_itself(
    fault_cluster, simulator, client, admin_client, redis_url, tmp_path
):
    with syncing_worker(fault_cluster, redis_url, tmp_path):
        before = inventory_fingerprint(fault_cluster)
        assert "sync" not in banner_kinds(client)

        control.start_outage(simulator.url, 6)
        measure(lambda: not _answers(simulator.url), "the API server went down", timeout=5)
        detect = measure(
            lambda: all(s.state == "failed" for s in states(fault_cluster).values()),
            "every kind shows the outage",
            timeout=30,
        )
        banner = banner_kinds(admin_client)["sync"]  # the error text is for admins
        assert "Kubernetes sync failing" in banner and "cannot reach the API server" in banner
        viewer_banner = banner_kinds(client)["sync"]
        assert "Kubernetes sync failing" in viewer_banner and "cannot reach" not in viewer_banner

        measure(lambda: _answers(simulator.url), "the API server came back", timeout=15)
        recover = measure(lambda: all_watching(fault_cluster), "every kind is listed and watched again", timeout=30)
        assert "sync" not in banner_kinds(client)
        assert inventory_fingerprint(fault_cluster) == before

    record_timing("api server down / back", detect=detect, recover=recover)
    assert detect <= DETECT_SECONDS
    assert recover <= RECOVER_SECONDS


def test_forbidden_kind_shows_within_seconds_and_heals_once_allowed(
    fault_cluster, simulator, client, admin_client, redis_url, tmp_path
):
    with syncing_worker(fault_cluster, redis_url, tmp_path):
        before = inventory_fingerprint(fault_cluster)

        control.set_faults(simulator.url, forbidden=["pods"])
        control.drop_watches(simulator.url)  # RBAC applies to the next request: the watches reconnect
        detect = measure(lambda: states(fault_cluster)["pods"].state == "failed", "pods show the 403", timeout=30)
        banner = banner_kinds(admin_client)["sync"]  # the error text is for admins
        assert "failing for pods:" in banner and "403" in banner and "forbidden" in banner
        assert all(s.state == "ok" for kind, s in states(fault_cluster).items() if kind != "pods")

        control.clear_faults(simulator.url)
        recover = measure(lambda: all_watching(fault_cluster), "pods are listed and watched again", timeout=30)
        assert "sync" not in banner_kinds(client)
        assert inventory_fingerprint(fault_cluster) == before

    record_timing("403 on pods", detect=detect, recover=recover)
    assert detect <= DETECT_SECONDS
    assert recover <= RECOVER_SECONDS


def test_slow_api_server_is_reported_slow_then_failing_then_healthy(
    fault_cluster, simulator, client, admin_client, redis_url, tmp_path, settings
):
    timeout = 2.0
    settings.MESH_UI_KUBE_TIMEOUT = timeout  # the web side judges "slow" against the worker's timeout
    with syncing_worker(fault_cluster, redis_url, tmp_path, MESH_UI_KUBE_TIMEOUT=str(timeout)):
        before = inventory_fingerprint(fault_cluster)

        # Slower than half the timeout: answered, and reported slow with the list's duration.
        control.set_faults(simulator.url, latency_seconds=0.6 * timeout)
        control.expire_watches(simulator.url, "pods")  # makes pods list again
        detect_slow = measure(lambda: "slow" in banner_kinds(client), "the banner says the API server is slow")
        assert "Kubernetes API slow: listed pods in 1." in banner_kinds(client)["slow"]
        assert "sync" not in banner_kinds(client)

        # Slower than the timeout: the list fails, and the kind shows it.
        control.set_faults(simulator.url, latency_seconds=1.5 * timeout)
        control.expire_watches(simulator.url, "pods")
        detect_failing = measure(lambda: states(fault_cluster)["pods"].state == "failed", "pods time out")
        assert "timed out" in banner_kinds(admin_client)["sync"]  # the error text is for admins

        control.clear_faults(simulator.url)
        recover = measure(lambda: all_watching(fault_cluster), "pods are listed and watched again", timeout=30)
        assert {"slow", "sync"}.isdisjoint(banner_kinds(client))
        assert inventory_fingerprint(fault_cluster) == before

    record_timing("slow lists (reported slow, then timing out)", detect=detect_slow, recover=recover)
    # The slow list takes 0.6 x the timeout and the failing one the whole timeout before it fails.
    assert detect_slow <= 0.6 * timeout + DETECT_SECONDS
    assert detect_failing <= 1.5 * timeout + DETECT_SECONDS
    assert recover <= RECOVER_SECONDS


def test_expired_watch_relists_that_kind_only(fault_cluster, simulator, redis_url, tmp_path):
    with syncing_worker(fault_cluster, redis_url, tmp_path):
        before = inventory_fingerprint(fault_cluster)
        relists = {kind: s.relists for kind, s in states(fault_cluster).items()}

        control.expire_watches(simulator.url, "virtualservices")
        relisted = measure(
            lambda: states(fault_cluster)["virtualservices"].relists == relists["virtualservices"] + 1,
            "virtualservices were listed again",
        )
        assert all_watching(fault_cluster)
        after = {kind: s.relists for kind, s in states(fault_cluster).items()}
        assert {kind for kind in KINDS_BY_KEY if after[kind] != relists[kind]} == {"virtualservices"}
        assert inventory_fingerprint(fault_cluster) == before

    record_timing("410 Gone on virtualservices", recover=relisted)
    assert relisted <= RECOVER_SECONDS
