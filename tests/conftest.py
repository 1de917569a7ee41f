"""Shared fixtures: the named test user, clients logged in as her or anonymous, the Bookinfo simulator, a Cluster
pointing at it, and checks for real services.

Every page and API endpoint needs a login, so pytest-django's ``client`` is logged in as ``alice`` here; a test
about what strangers get asks for ``anonymous_client``.

``MESH_UI_STRICT=1`` (CI) turns a missing service (PostgreSQL, Redis, Prometheus, Chromium) into a failure;
otherwise the tests that need it are skipped with a loud reason.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

STRICT = os.environ.get("MESH_UI_STRICT", "") in {"1", "true", "yes"}


def require(condition: bool, what: str) -> None:
    """Skip (or, in strict mode, fail) when a real service the test needs is not there."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"MESH_UI_STRICT=1 and {what}", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {what} (set MESH_UI_STRICT=1 to make this a failure)")


def tcp_reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


#: The named test user (Healthchecks style): an ordinary account, not staff, not superuser; a viewer everywhere.
ALICE_USERNAME = "alice"
ALICE_PASSWORD = "alice-password"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hash test passwords with a fast hasher: PBKDF2's real cost (~0.3 s) would add minutes to the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: the counts of refused tokens (mesh_ui.throttling) live there."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    """The test user ``alice`` with password ``ALICE_PASSWORD``: a viewer of every namespace of every cluster.

    Tests about roles make users of their own; alice is the everyday reader most tests need.
    """
    from accounts.models import RoleGrant

    user = django_user_model.objects.create_user(ALICE_USERNAME, f"{ALICE_USERNAME}@example.com", ALICE_PASSWORD)
    RoleGrant.objects.create(user=user, role="viewer")
    return user


@pytest.fixture
def anonymous_client() -> Any:
    """A client with no session and no credentials."""
    from django.test import Client

    return Client()


@pytest.fixture
def client(alice: Any) -> Any:
    """pytest-django's ``client``, logged in as ``alice``."""
    from django.test import Client

    logged_in = Client()
    logged_in.force_login(alice)
    return logged_in


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[object]:
    """A fresh Bookinfo simulator on a free loopback port, with a kubeconfig at ``simulator.kubeconfig_path``."""
    from simulator import Simulator

    sim = Simulator().start(host="127.0.0.1", port=0)
    sim.kubeconfig_path = sim.write_kubeconfig(tmp_path / "simulator.kubeconfig")  # type: ignore[attr-defined]
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def cluster(db: None, simulator: object):
    """A Cluster row for the simulator."""
    from inventory.models import Cluster

    return Cluster.objects.create(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))  # type: ignore[attr-defined]


def redis_url_of_worker(base_url: str, worker: str) -> str:
    """The Redis URL of one pytest-xdist worker: database ``N - i`` for worker ``gw<i>`` of a base URL ending in
    ``/N`` (``gw0`` and a serial run use ``N`` itself), so the Celery queues of tests running side by side never mix.

    A base database too low for the number of workers fails loudly rather than sharing a database.
    """
    parts = urlsplit(base_url)
    base_db = int(parts.path.strip("/") or 0)
    index = int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    if base_db - index < 0:
        pytest.fail(
            f"MESH_UI_TEST_REDIS_URL={base_url} leaves no Redis database for xdist worker {worker}: "
            f"workers gw0..gwK use databases N..N-K, so give a database number of at least {index}",
            pytrace=False,
        )
    return urlunsplit(parts._replace(path=f"/{base_db - index}"))


@pytest.fixture
def redis_url() -> str:
    """The Redis URL of this test process (see :func:`redis_url_of_worker`), skipped when Redis is not there."""
    base_url = os.environ.get("MESH_UI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    url = redis_url_of_worker(base_url, os.environ.get("PYTEST_XDIST_WORKER", ""))
    require(tcp_reachable(url, 6379), f"Redis is not reachable at {url}")
    return url
