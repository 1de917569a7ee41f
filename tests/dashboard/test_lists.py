"""List pages: server-side filters (namespace, name, label, health), sorting, pagination, Istio validation."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.factories import make_cluster, make_istio, make_service, make_snapshot, make_workload

pytestmark = pytest.mark.django_db


def _rows(response) -> list[str]:
    return re.findall(r'data-row="([^"]+)"', response.content.decode())


@pytest.fixture
def mesh():
    cluster = make_cluster()
    make_workload(cluster, "shop", "cart-v1", app="cart")
    make_workload(cluster, "shop", "cart-v2", app="cart", version="v2", labels={"app": "cart", "tier": "gold"})
    make_workload(cluster, "shop", "db", app="db", ready_replicas=0)
    make_workload(cluster, "ops", "agent", app="agent")
    make_service(cluster, "shop", "cart")
    make_service(cluster, "ops", "agent")
    health = {
        "workload": {
            "shop/cart-v1": {"status": "Healthy", "reason": ""},
            "shop/cart-v2": {"status": "Degraded", "reason": "inbound 5xx 5% ≥ 0%"},
            "shop/db": {"status": "Failure", "reason": "db: 0/1 pods ready"},
        },
        "app": {"shop/cart": {"status": "Degraded", "reason": "x"}, "shop/db": {"status": "Failure", "reason": "y"}},
        "service": {"shop/cart": {"status": "Healthy", "reason": ""}},
        "namespaces": {},
    }
    make_snapshot(cluster, health=health)
    return cluster


def test_workloads_filter_by_namespace_name_and_label(client, mesh):
    assert _rows(client.get("/workloads/")) == ["ops/agent", "shop/cart-v1", "shop/cart-v2", "shop/db"]
    assert _rows(client.get("/workloads/", {"namespace": "shop", "name": "cart"})) == ["shop/cart-v1", "shop/cart-v2"]
    assert _rows(client.get("/workloads/", {"label": "tier=gold"})) == ["shop/cart-v2"]
    assert _rows(client.get("/workloads/", {"label": "version=v2"})) == ["shop/cart-v2"]
    assert _rows(client.get("/workloads/", {"label": "tier"})) == ["shop/cart-v2"]


def test_a_malformed_label_filter_is_refused_with_a_message(client, mesh):
    response = client.get("/workloads/", {"label": "bad key=1"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-query-error="label"' in html and "label filter must be key=value or key" in html
    assert '<nav class="mainnav"' in html  # the whole page, header included
    assert not _rows(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "size"}, "sort"), ({"page": "0"}, "page"), ({"page": "two"}, "page"), ({"health": "Sunny"}, "health")],
)
def test_invalid_list_parameters_are_400_naming_the_parameter(client, mesh, params, field):
    response = client.get("/workloads/", params)
    assert response.status_code == 400
    assert f'data-query-error="{field}"' in response.content.decode()


def test_an_htmx_filter_request_with_an_invalid_value_gets_the_message_fragment(client, mesh):
    response = client.get("/workloads/", {"label": "a b"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<div class="banner error"') and "<html" not in html


def test_workloads_filter_and_sort_by_health(client, mesh):
    assert _rows(client.get("/workloads/", {"health": "Failure"})) == ["shop/db"]
    assert _rows(client.get("/workloads/", {"health": "No health information"})) == ["ops/agent"]
    assert _rows(client.get("/workloads/", {"sort": "health"})) == [
        "shop/db",
        "shop/cart-v2",
        "shop/cart-v1",
        "ops/agent",
    ]


def test_applications_are_grouped_workloads(client, mesh):
    response = client.get("/applications/", {"namespace": "shop"})
    assert _rows(response) == ["shop/cart", "shop/db"]
    html = response.content.decode()
    assert 'data-row="shop/cart" data-health="Degraded"' in html
    assert _rows(client.get("/applications/", {"health": "Failure"})) == ["shop/db"]


def test_services_show_health(client, mesh):
    html = client.get("/services/").content.decode()
    assert 'data-row="shop/cart" data-health="Healthy"' in html
    assert 'data-row="ops/agent" data-health="No health information"' in html


def test_pagination_splits_thousands_of_rows(client, mesh):
    from inventory.models import Workload

    Workload.objects.bulk_create(
        Workload(cluster=mesh, namespace="bulk", name=f"w-{i:04d}", kind="Deployment") for i in range(1200)
    )
    response = client.get("/workloads/", {"namespace": "bulk", "page": "3"})
    rows = _rows(response)
    assert rows[0] == "bulk/w-0100" and len(rows) == 50
    html = response.content.decode()
    assert "page 3 of 24" in html
    assert 'href="?namespace=bulk&amp;page=4"' in html
    # An out-of-range page shows the last one instead of failing.
    assert _rows(client.get("/workloads/", {"namespace": "bulk", "page": "99"}))[-1] == "bulk/w-1199"


def test_htmx_filter_request_returns_the_table_only(client, mesh):
    response = client.get("/workloads/", {"namespace": "ops"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'data-list-table="workloads"' in html
    assert _rows(response) == ["ops/agent"]


def test_istio_config_shows_the_stored_findings_and_filters_by_them(client, mesh):
    from istio_config.validation import validate_cluster

    routes = {"hosts": ["cart"], "http": [{"route": [{"destination": {"host": "cart", "subset": "v2"}}]}]}
    make_istio(mesh, "shop", "VirtualService", "cart", routes)
    make_istio(mesh, "shop", "DestinationRule", "broken", {"host": "nowhere"})
    make_istio(
        mesh,
        "ops",
        "VirtualService",
        "agent",
        {"hosts": ["agent"], "http": [{"route": [{"destination": {"host": "agent"}}]}]},
    )
    validate_cluster(mesh)
    html = client.get("/istio/").content.decode()
    assert 'data-row="shop/VirtualService/cart" data-health="warning"' in html
    assert 'data-row="shop/DestinationRule/broken" data-health="error"' in html
    assert 'data-row="ops/VirtualService/agent" data-health="valid"' in html
    assert "1 warning</span>" in html and "1 error</span>" in html
    assert 'href="/namespaces/shop/istio/VirtualService/cart/"' in html
    assert '<option value="KIA0202">KIA0202</option>' in html
    assert _rows(client.get("/istio/", {"health": "error"})) == ["shop/DestinationRule/broken"]
    assert _rows(client.get("/istio/", {"severity": "warning"})) == ["shop/VirtualService/cart"]
    assert _rows(client.get("/istio/", {"code": "KIA1107"})) == ["shop/VirtualService/cart"]
    assert _rows(client.get("/istio/", {"kind": "VirtualService", "health": "valid"})) == ["ops/VirtualService/agent"]
    worst_first = _rows(client.get("/istio/", {"sort": "health"}))
    assert worst_first == ["shop/DestinationRule/broken", "shop/VirtualService/cart", "ops/VirtualService/agent"]
    assert client.get("/istio/", {"severity": "fatal"}).status_code == 400


def test_cluster_value_from_the_cluster_is_escaped(client, mesh):
    make_workload(mesh, "shop", "x", app="<script>alert(1)</script>")
    html = client.get("/workloads/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
