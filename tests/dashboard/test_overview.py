"""The overview page: one card per namespace, filters and sorting, and a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.dashboard.factories import make_cluster, make_namespace, make_service, make_snapshot, make_workload

pytestmark = pytest.mark.django_db


def _health(statuses: dict[str, str]) -> dict:
    return {
        "app": {},
        "namespaces": {
            ns: {"status": status, "reason": f"1 {status}", "counts": {status: 1}} for ns, status in statuses.items()
        },
    }


def _metrics(rates: dict[str, float]) -> dict:
    return {"namespace": {ns: {"inHttp": rate} for ns, rate in rates.items()}}


@pytest.fixture
def mesh():
    cluster = make_cluster()
    for ns in ("alpha", "beta", "gamma"):
        make_namespace(cluster, ns)
    make_workload(cluster, "alpha", "web-v1", app="web")
    make_workload(cluster, "alpha", "web-v2", app="web")
    make_workload(cluster, "alpha", "worker", app="")
    make_service(cluster, "alpha", "web")
    make_snapshot(cluster, metrics=_metrics({"alpha": 1.0, "beta": 5.0}), age_seconds=30)
    make_snapshot(
        cluster,
        health=_health({"alpha": "Healthy", "beta": "Failure", "gamma": "Degraded"}),
        metrics=_metrics({"alpha": 2.0, "beta": 7.5}),
    )
    return cluster


def _card_names(response) -> list[str]:
    html = response.content.decode()
    return [chunk.split('"', 1)[0] for chunk in html.split('data-namespace="')[1:]]


def test_it_shows_one_card_per_namespace_with_counts_health_and_rate(client, mesh):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _card_names(response) == ["alpha", "beta", "gamma"]
    alpha = html.split('data-namespace="alpha"')[1].split("</article>")[0]
    assert "<dd data-apps>1</dd>" in alpha
    assert "<dd data-workloads>3</dd>" in alpha
    assert "<dd data-services>1</dd>" in alpha
    assert 'data-health="Healthy"' in html
    assert "2.00 req/s in" in alpha
    assert "<polyline" in alpha
    assert 'href="/graph/?namespaces=alpha"' in alpha


def test_it_filters_by_name_and_health(client, mesh):
    assert _card_names(client.get("/", {"name": "ph"})) == ["alpha"]
    assert _card_names(client.get("/", {"health": "Failure"})) == ["beta"]


def test_it_sorts_by_health_and_traffic(client, mesh):
    assert _card_names(client.get("/", {"sort": "health"})) == ["beta", "gamma", "alpha"]
    assert _card_names(client.get("/", {"sort": "traffic"})) == ["beta", "alpha", "gamma"]


def test_htmx_request_gets_only_the_cards(client, mesh):
    response = client.get("/", {"name": "alpha"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-namespace="alpha"' in html
    assert "HX-Request" in response["Vary"]


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_namespaces(client, mesh, django_assert_max_num_queries):
    baseline = _count_queries(client)
    for index in range(200):
        ns = f"team-{index:03d}"
        make_namespace(mesh, ns)
        make_workload(mesh, ns, f"api-{index}", app="api")
        make_service(mesh, ns, "api")
    make_snapshot(mesh, metrics=_metrics({f"team-{i:03d}": float(i) for i in range(200)}))
    with django_assert_max_num_queries(baseline):
        response = client.get("/")
    assert len(_card_names(response)) == 203


def test_it_renders_without_any_cluster(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert 'data-banner="empty"' in response.content.decode()
