"""The header on every page: cluster selector remembered in the session, freshness, and problem banners."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inventory.models import SyncStatus
from tests.dashboard.factories import make_cluster, make_snapshot
from topology.models import MetricsSourceStatus

pytestmark = pytest.mark.django_db


def test_it_remembers_the_chosen_cluster_in_the_session(client):
    make_cluster("east")
    west = make_cluster("west")
    make_snapshot(west)
    html = client.get("/").content.decode()
    assert '<option value="east" selected>' in html
    client.get("/", {"cluster": "west"})
    html = client.get("/workloads/").content.decode()
    assert '<option value="west" selected>' in html


def test_it_warns_when_the_metrics_source_fails(client, admin_client):
    cluster = make_cluster()
    make_snapshot(cluster)
    assert 'data-banner="' not in client.get("/").content.decode()
    MetricsSourceStatus.objects.filter(cluster=cluster).update(
        consecutive_failures=2, source="prometheus", last_error="connection refused", last_error_at=timezone.now()
    )
    html = client.get("/").content.decode()
    assert 'data-banner="metrics"' in html and "Prometheus unavailable since" in html
    assert "connection refused" not in html  # the error's text is for admins
    assert "connection refused" in admin_client.get("/").content.decode()


def test_it_warns_when_the_snapshot_is_old_or_missing(client, settings):
    cluster = make_cluster()
    assert 'data-banner="stale"' in client.get("/").content.decode()
    make_snapshot(cluster, age_seconds=10 * settings.MESH_UI_SNAPSHOT_INTERVAL)
    assert "Graph data is stale" in client.get("/").content.decode()


def test_it_names_failing_sync_kinds_and_shows_last_sync(client, admin_client):
    cluster = make_cluster()
    make_snapshot(cluster)
    now = timezone.now()
    SyncStatus.objects.create(cluster=cluster, kind="pods", state="ok", last_success=now)
    SyncStatus.objects.create(cluster=cluster, kind="services", state="failed", last_error="403 Forbidden")
    html = client.get("/services/").content.decode()
    # "services" alone is on every page (the nav): the banner must name the failing kind.
    assert 'data-banner="sync"' in html and "Kubernetes sync failing for services:" in html
    assert "403 Forbidden" not in html and "403 Forbidden" in admin_client.get("/services/").content.decode()
    assert "failing for pods" not in html
    assert "Inventory now" in html or "seconds ago" in html
