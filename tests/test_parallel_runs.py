"""What lets the suite run on several pytest-xdist workers at once: each worker's own Redis database, and a
Prometheus that moves to another port when someone else took the one it was given."""

from __future__ import annotations

from typing import Any

import pytest

import devtools.prometheus_server as prometheus_server
from tests.conftest import redis_url_of_worker
from tests.support.prometheus import require_prometheus, running_prometheus


def test_a_serial_run_and_the_first_worker_use_the_given_database() -> None:
    assert redis_url_of_worker("redis://127.0.0.1:6379/15", "") == "redis://127.0.0.1:6379/15"
    assert redis_url_of_worker("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"


def test_each_worker_counts_down_from_the_given_database() -> None:
    urls = [redis_url_of_worker("redis://:pw@cache:6380/12", f"gw{i}") for i in range(4)]
    assert urls == [f"redis://:pw@cache:6380/{db}" for db in (12, 11, 10, 9)]


def test_a_worker_left_without_a_database_fails_instead_of_sharing_one() -> None:
    with pytest.raises(pytest.fail.Exception, match="no Redis database for xdist worker gw3"):
        redis_url_of_worker("redis://127.0.0.1:6379/2", "gw3")


def test_prometheus_moves_to_another_port_when_another_prometheus_took_its_port(monkeypatch: Any) -> None:
    """The other server answers ``/-/ready`` on that port, so readiness alone would hand out the wrong one."""
    require_prometheus()
    with running_prometheus([]) as other:
        ports = iter([other.port])
        free_port = prometheus_server.find_free_port
        monkeypatch.setattr(prometheus_server, "find_free_port", lambda: next(ports, None) or free_port())
        with running_prometheus([]) as server:
            assert server.port != other.port
            assert server.fetch_api("status/flags")["storage.tsdb.path"] == str(server.tsdb_dir)  # type: ignore[index]
