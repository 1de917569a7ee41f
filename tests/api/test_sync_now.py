""" "Sync now": cluster admins queue a full relist of a cluster (run here by an eager Celery against the simulator)."""

from __future__ import annotations

import pytest
from django.test import Client

from inventory.models import Service, SyncStatus
from mesh_ui.celery import app as celery_app


@pytest.fixture
def eager_celery():
    """The queued task runs in this process as it is sent (the app reads settings with the CELERY_ prefix)."""
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    try:
        yield
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def admin_client(django_user_model):
    admin = django_user_model.objects.create_user("root", password="x", is_superuser=True)
    logged_in = Client()
    logged_in.force_login(admin)
    return logged_in


def test_a_cluster_admin_syncs_the_cluster_now(admin_client, cluster, eager_celery):
    assert not Service.objects.filter(cluster=cluster).exists()
    response = admin_client.post(f"/api/v1/clusters/{cluster.name}/sync")
    assert response.status_code == 202, response.content
    assert response.json() == {"cluster": "sim", "queued": True, "message": "sync queued; see its sync status"}
    assert Service.objects.filter(cluster=cluster, namespace="bookinfo", name="reviews").exists()
    assert SyncStatus.objects.get(cluster=cluster, kind="services").state == "ok"
    services = admin_client.get("/api/v1/services", {"cluster": "sim", "namespace": "bookinfo"}).json()
    assert {"productpage", "reviews", "ratings", "details"} <= {s["name"] for s in services["results"]}


def test_a_viewer_may_not_sync(client, cluster, eager_celery):
    response = client.post(f"/api/v1/clusters/{cluster.name}/sync")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not SyncStatus.objects.filter(cluster=cluster).exists()


def test_a_disabled_cluster_is_not_synced(admin_client, cluster, eager_celery):
    cluster.enabled = False
    cluster.save()
    response = admin_client.post(f"/api/v1/clusters/{cluster.name}/sync")
    assert response.status_code == 400 and "disabled" in response.json()["details"]["cluster"][0]


def test_an_unknown_cluster_is_a_404(admin_client, db):
    assert admin_client.post("/api/v1/clusters/nope/sync").status_code == 404
