"""Detail pages of a workload, service and application: health, pods, routing objects, neighbours, 404s."""

from __future__ import annotations

import pytest

from tests.dashboard.factories import (
    make_cluster,
    make_istio,
    make_pod,
    make_service,
    make_snapshot,
    make_workload,
)

pytestmark = pytest.mark.django_db


def _node(node_id: str, node_type: str, namespace: str, **fields: str) -> dict:
    return {"data": {"id": node_id, "nodeType": node_type, "namespace": namespace, **fields}}


def _edge(source: str, target: str, rate: str, errors: str = "0") -> dict:
    rates = {"http": rate, "httpPercentErr": errors}
    return {
        "data": {
            "id": f"{source}>{target}",
            "source": source,
            "target": target,
            "traffic": {"protocol": "http", "rates": rates},
            "responseTimes": {"p95": "12.5"},
            "healthStatus": "Healthy",
        }
    }


WORKLOAD_GRAPH = {
    "elements": {
        "nodes": [
            _node("gw", "workload", "istio-system", workload="ingress"),
            _node("svc-cart", "service", "shop", service="cart"),
            _node("cart", "workload", "shop", workload="cart-v1", app="cart"),
            _node("svc-db", "service", "shop", service="db"),
        ],
        "edges": [_edge("gw", "svc-cart", "10"), _edge("svc-cart", "cart", "10"), _edge("cart", "svc-db", "4", "25.0")],
    }
}


@pytest.fixture
def mesh():
    cluster = make_cluster()
    cart = make_workload(cluster, "shop", "cart-v1", app="cart", ready_replicas=1, desired_replicas=2)
    make_pod(cluster, cart, "cart-v1-abc", ready=True)
    make_pod(cluster, cart, "cart-v1-def", ready=False)
    make_service(cluster, "shop", "cart")
    make_istio(cluster, "shop", "VirtualService", "cart-routes", {"hosts": ["cart"]})
    make_istio(cluster, "shop", "DestinationRule", "cart-dr", {"host": "cart.shop.svc.cluster.local"})
    make_istio(cluster, "other", "VirtualService", "not-ours", {"hosts": ["cart"]})  # resolves to cart.other
    make_istio(cluster, "other", "DestinationRule", "cross-ns", {"host": "cart.shop"})
    health = {
        "workload": {"shop/cart-v1": {"status": "Degraded", "reason": "cart-v1: 1/2 pods ready"}},
        "service": {"shop/cart": {"status": "Healthy", "reason": ""}},
        "app": {"shop/cart": {"status": "Degraded", "reason": "cart-v1: 1/2 pods ready"}},
        "namespaces": {},
    }
    make_snapshot(cluster, health=health, graphs={"workload": WORKLOAD_GRAPH})
    return cluster


def test_workload_page_shows_health_reason_pods_routing_and_neighbours(client, mesh):
    response = client.get("/namespaces/shop/workloads/cart-v1/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-health="Degraded"' in html and "cart-v1: 1/2 pods ready" in html
    assert 'data-pod="cart-v1-abc"' in html and 'data-pod="cart-v1-def"' in html
    assert 'data-istio="VirtualService/cart-routes"' in html
    assert 'data-istio="DestinationRule/cart-dr"' in html
    assert 'data-istio="DestinationRule/cross-ns"' in html
    assert "not-ours" not in html
    assert 'data-neighbour="shop/cart"' in html  # called through the cart service
    assert 'data-neighbour="shop/db"' in html
    assert "25.0%" in html
    assert '<canvas data-chart="in-rate">' in html
    assert 'data-kind="workload" data-namespace="shop" data-name="cart-v1"' in html


def test_service_page_shows_no_routing_menu_to_a_reader(client, mesh):
    html = client.get("/namespaces/shop/services/cart/").content.decode()
    assert 'id="wizards"' not in html and "/wizards/" not in html and "/routing/remove/" not in html
    assert 'href="/namespaces/shop/workloads/cart-v1/"' in html


def test_service_page_gives_an_editor_the_routing_menu(django_user_model, mesh):
    from django.test import Client

    from accounts.models import RoleGrant

    user = django_user_model.objects.create_user("ed", "ed@example.com", "pw")
    RoleGrant.objects.create(user=user, role="editor", namespace="shop")
    editor = Client()
    editor.force_login(user)
    html = editor.get("/namespaces/shop/services/cart/").content.decode()
    assert '<details class="routing-menu" id="wizards" data-routing-menu>' in html
    for wizard in ("request-routing", "traffic-shifting", "fault-injection", "timeouts-retries", "circuit-breaking"):
        assert f'href="/namespaces/shop/services/cart/wizards/{wizard}/?cluster=' in html
    assert 'href="/namespaces/shop/services/cart/wizards/mirroring/?cluster=' in html
    assert 'href="/namespaces/shop/services/cart/routing/remove/?cluster=' in html


def test_application_page_lists_workloads_and_pods(client, mesh):
    response = client.get("/namespaces/shop/applications/cart/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-pod="cart-v1-abc"' in html
    assert 'data-health="Degraded"' in html


@pytest.mark.parametrize(
    "url",
    ["/namespaces/shop/workloads/nope/", "/namespaces/nope/services/cart/", "/namespaces/shop/applications/nope/"],
)
def test_unknown_entities_are_404(client, mesh, url):
    assert client.get(url).status_code == 404


def test_htmx_refresh_returns_the_live_part_only(client, mesh):
    response = client.get("/namespaces/shop/workloads/cart-v1/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<canvas" not in html and 'data-pod="cart-v1-abc"' in html
