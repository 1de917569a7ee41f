"""A Prometheus URL with a password: the password appears in no stored error, API answer, page or log line, and
only mesh admins see the error's text (everyone else: which source fails and since when)."""

from __future__ import annotations

import base64
import json
import logging
import threading

import pytest

from devtools.http_stub import serving
from devtools.prometheus_server import find_free_port
from inventory.models import SyncStatus
from tests.dashboard.factories import make_cluster, make_namespace, make_snapshot
from topology.models import MetricsSourceStatus
from topology.snapshots import take_snapshot

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pw"
BASIC = base64.b64encode(f"mesh:{PASSWORD}".encode()).decode()  # what requests sends for the URL's userinfo
PAGES = ["/", "/graph/", "/services/", "/inventory/"]


def _echoing_proxy(path, headers):
    # A proxy in front of Prometheus that answers with the request it refused, headers included.
    return 502, "text/plain", f"bad gateway for {path}; Authorization: {headers.get('Authorization')}".encode()


def _secrets_in(text: str) -> list[str]:
    return [s for s in (PASSWORD, BASIC) if s in text]


@pytest.fixture
def failing_cluster(caplog):
    """A cluster whose Prometheus (an echoing proxy behind a URL with a password) fails; one good snapshot."""
    cluster = make_cluster()
    make_namespace(cluster, "shop")
    make_snapshot(cluster)
    caplog.set_level(logging.INFO)
    with serving(_echoing_proxy) as url:
        cluster.prometheus_url = url.replace("http://", f"http://mesh:{PASSWORD}@") + "/?token=" + PASSWORD
        cluster.save()
        outcome = take_snapshot(cluster.pk, force=True)
    assert outcome.status == "failed"
    cluster.log_text = caplog.text  # the setup's log lines (caplog.text is per test phase)
    return cluster


def test_the_stored_error_and_the_logs_keep_the_story_but_not_the_password(failing_cluster):
    status = MetricsSourceStatus.objects.get(cluster=failing_cluster)
    assert status.failing and "502" in status.last_error and "bad gateway" in status.last_error
    assert "mesh:***@127.0.0.1" in status.last_error and "Authorization: Basic ***" in status.last_error
    assert _secrets_in(status.last_error) == []
    assert "snapshot" in failing_cluster.log_text and "502" in failing_cluster.log_text
    assert _secrets_in(failing_cluster.log_text) == []


def test_an_unreachable_prometheus_is_named_without_its_password(caplog):
    cluster = make_cluster()
    make_namespace(cluster, "shop")
    cluster.prometheus_url = f"http://mesh:{PASSWORD}@127.0.0.1:{find_free_port()}"
    cluster.save()
    take_snapshot(cluster.pk, force=True)
    # Queries still in flight when the first failed log their retries from the client's threads: let them finish
    # inside this test.
    for thread in threading.enumerate():
        if thread.name.startswith("prometheus"):
            thread.join(timeout=10)
    status = MetricsSourceStatus.objects.get(cluster=cluster)
    assert "cannot reach Prometheus at http://mesh:***@127.0.0.1" in status.last_error
    assert "cannot reach Prometheus" in caplog.text
    assert _secrets_in(status.last_error) == [] and _secrets_in(caplog.text) == []


def test_only_admins_read_the_error_text_in_the_api(failing_cluster, client, admin_client):
    for path in ("/api/v1/graph", "/api/v1/health"):
        for who in (client, admin_client):
            response = who.get(path)
            assert response.status_code == 200
            assert _secrets_in(response.content.decode()) == [], path
        plain = json.loads(client.get(path).content)["snapshot"]
        assert plain["stale"] is True
        assert plain["sourceError"].startswith("Prometheus unavailable since 20")
        assert "502" not in plain["sourceError"] and "127.0.0.1" not in plain["sourceError"]
        detailed = json.loads(admin_client.get(path).content)["snapshot"]["sourceError"]
        assert "502" in detailed and "mesh:***@127.0.0.1" in detailed


def test_only_admins_read_the_error_text_in_the_pages(failing_cluster, client, admin_client):
    SyncStatus.objects.create(
        cluster=failing_cluster, kind="pods", state="failed", last_error="HTTP 403: pods is forbidden"
    )
    for path in PAGES:
        plain = client.get(path).content.decode()
        detailed = admin_client.get(path).content.decode()
        assert _secrets_in(plain) == [] and _secrets_in(detailed) == [], path
        assert 'data-banner="metrics"' in plain and "Prometheus unavailable since" in plain, path
        assert "bad gateway" not in plain and "forbidden" not in plain, path
        assert "bad gateway" in detailed and "pods is forbidden" in detailed, path
    inventory = client.get("/inventory/").content.decode()
    assert "Prometheus at http://mesh:***@127.0.0.1" in inventory and "list failed at" in inventory
