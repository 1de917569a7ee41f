"""The inventory page: the chosen cluster's namespaces with their objects, sync status and traffic edges."""

from __future__ import annotations

import pytest

from dashboard.traffic import build_edge_rows
from inventory.models import SyncStatus
from tests.dashboard.factories import make_cluster, make_istio, make_namespace, make_service, make_workload

GRAPH = {
    "elements": {
        "nodes": [
            {"data": {"id": "a", "nodeType": "workload", "namespace": "shop", "workload": "cart-v1"}},
            {"data": {"id": "b", "nodeType": "service", "namespace": "shop", "service": "db"}},
            {"data": {"id": "c", "nodeType": "unknown", "namespace": "unknown"}},
            {"data": {"id": "d", "nodeType": "workload", "namespace": "shop", "workload": "idle-v1"}},
        ],
        "edges": [
            {
                "data": {
                    "source": "a",
                    "target": "b",
                    "traffic": {"protocol": "http", "rates": {"http": "4.00", "httpPercentReq": "100.0"}},
                    "responseTimes": {"p95": "12"},
                    "healthStatus": "Healthy",
                }
            },
            {"data": {"source": "c", "target": "a", "traffic": {"protocol": "http", "rates": {"http": "1.50"}}}},
            {"data": {"source": "a", "target": "d", "traffic": {"protocol": "http", "rates": {"http": "0"}}}},
        ],
    }
}


def test_edge_rows_group_by_the_source_namespace_and_skip_idle_edges():
    rows = build_edge_rows(GRAPH)
    assert set(rows) == {"shop"}
    assert [(r.source, r.target, r.rate) for r in rows["shop"]] == [
        ("cart-v1", "db (service)", 4.0),
        ("unknown", "cart-v1", 1.5),  # from outside the mesh: listed under its target's namespace
    ]
    assert rows["shop"][0].p95_ms == "12" and rows["shop"][0].health == "Healthy"


@pytest.mark.django_db
def test_the_page_shows_only_the_chosen_cluster(client, admin_client):
    east, west = make_cluster("east"), make_cluster("west")
    for cluster in (east, west):
        make_namespace(cluster, "shop")
        make_workload(cluster, "shop", f"{cluster.name}-cart", app="cart")
    make_service(west, "shop", "cart")
    make_istio(west, "shop", "VirtualService", "cart", {"hosts": ["cart"]})
    SyncStatus.objects.create(cluster=west, kind="pods", state="failed", last_error="403 Forbidden")

    html = client.get("/inventory/", {"cluster": "west"}).content.decode()
    assert 'data-cluster="west"' in html and 'data-cluster="east"' not in html
    assert 'data-workload="west-cart"' in html and "east-cart" not in html
    assert 'data-istio="VirtualService/cart"' in html
    assert "Sync failing for" in html and "403 Forbidden" not in html  # the error's text is for admins
    assert "403 Forbidden" in admin_client.get("/inventory/", {"cluster": "west"}).content.decode()


@pytest.mark.django_db
def test_without_a_cluster_it_says_how_to_add_one(client):
    html = client.get("/inventory/").content.decode()
    assert "No cluster configured" in html and 'href="/admin/inventory/cluster/"' in html
