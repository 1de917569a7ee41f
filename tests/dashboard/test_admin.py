"""The admin offers no action that does nothing real: synced inventory rows cannot be added, edited or deleted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from inventory.models import IstioObject, Namespace, Pod, Service, SyncStatus, Workload
from tests.dashboard.factories import (
    make_cluster,
    make_istio,
    make_namespace,
    make_pod,
    make_service,
    make_workload,
)

pytestmark = pytest.mark.django_db

# Istio objects are not here: their admin changes the cluster through the write service
# (tests/istio_config/test_admin_forms_live.py); only its bulk delete, which would remove stored rows, is off.
SYNCED = [Namespace, Service, Workload, Pod, SyncStatus]


@pytest.fixture
def admin_client(client):
    """A superuser: every permission an admin page could check is granted, so only the admin's own refusal counts."""
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def synced_rows():
    cluster = make_cluster()
    make_namespace(cluster, "shop")
    workload = make_workload(cluster, "shop", "cart-v1", app="cart")
    make_pod(cluster, workload, "cart-v1-abc")
    make_service(cluster, "shop", "cart")
    make_istio(cluster, "shop", "VirtualService", "cart", {"hosts": ["cart"]})
    SyncStatus.objects.create(cluster=cluster, kind="pods", state="ok")
    return cluster


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", SYNCED, ids=lambda m: m.__name__)
def test_synced_rows_offer_no_delete_action_and_no_delete_page(admin_client, synced_rows, model):
    changelist = admin_client.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert 'value="delete_selected"' not in html
    row = model.objects.first()
    assert admin_client.get(_url(model, "delete", row.pk)).status_code == 403
    assert admin_client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", SYNCED, ids=lambda m: m.__name__)
def test_synced_rows_are_read_only(admin_client, synced_rows, model):
    row = model.objects.first()
    change = admin_client.get(_url(model, "change", row.pk))
    assert change.status_code == 200  # viewing stays possible
    html = change.content.decode()
    assert 'name="_save"' not in html and "deletelink" not in html
    assert admin_client.get(_url(model, "add")).status_code == 403


def test_istio_objects_offer_no_bulk_delete(admin_client, synced_rows):
    changelist = admin_client.get(_url(IstioObject, "changelist")).content.decode()
    assert "cart" in changelist and 'value="delete_selected"' not in changelist


def test_a_bulk_delete_post_is_refused_for_synced_rows(admin_client, synced_rows):
    ids = list(Workload.objects.values_list("pk", flat=True))
    admin_client.post(
        _url(Workload, "changelist"), {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert Workload.objects.filter(pk__in=ids).count() == len(ids)


def test_clusters_stay_editable_and_deletable(admin_client, synced_rows):
    changelist = admin_client.get(_url(type(synced_rows), "changelist")).content.decode()
    assert 'value="delete_selected"' in changelist
    assert admin_client.get(_url(type(synced_rows), "delete", synced_rows.pk)).status_code == 200
