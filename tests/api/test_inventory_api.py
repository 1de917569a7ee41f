"""The inventory endpoints: lists and details, filters, ordering, pagination, health, scoping by grants, ETag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client

from accounts.models import RoleGrant
from inventory.models import SyncStatus
from tests.dashboard.factories import (
    make_cluster,
    make_namespace,
    make_pod,
    make_service,
    make_snapshot,
    make_workload,
)

HEALTH = {
    "app": {"bookinfo/reviews": {"status": "Degraded", "reason": "5xx 12%"}, "bookinfo/details": {"status": "Healthy"}},
    "service": {"bookinfo/reviews": {"status": "Degraded", "reason": "5xx 12%"}},
    "workload": {"bookinfo/reviews-v1": {"status": "Failure", "reason": "no pods ready"}},
    "namespaces": {"bookinfo": {"status": "Degraded", "reason": "1 app degraded", "counts": {"Degraded": 1}}},
}


@pytest.fixture
def mesh(db):
    """Two clusters: prod with bookinfo and istio-system, staging with shop."""
    prod, staging = make_cluster("prod"), make_cluster("staging")
    for name in ("bookinfo", "istio-system"):
        make_namespace(prod, name)
    make_namespace(staging, "shop")
    for version in ("v1", "v2", "v3"):
        workload = make_workload(prod, "bookinfo", f"reviews-{version}", app="reviews", version=version)
        make_pod(prod, workload, f"reviews-{version}-abc")
    make_workload(prod, "bookinfo", "details-v1", app="details", sidecar_present=False)
    make_workload(prod, "istio-system", "istiod", app="istiod")
    make_workload(staging, "shop", "cart-v1", app="cart")
    for name in ("reviews", "details", "ratings"):
        make_service(prod, "bookinfo", name)
    make_service(prod, "istio-system", "istiod")
    make_service(staging, "shop", "cart")
    make_snapshot(prod, health=HEALTH)
    SyncStatus.objects.create(cluster=prod, kind="pods", state="ok", object_count=3)
    SyncStatus.objects.create(
        cluster=prod, kind="services", state="failed", last_error="Get https://10.0.0.1:6443: refused"
    )
    return prod, staging


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_lists_are_paged_with_a_count_and_links(client, mesh):
    body = client.get("/api/v1/services", {"limit": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2
    assert "offset=2" in body["next"] and body["previous"] is None
    assert names(client.get("/api/v1/services", {"limit": 2, "offset": 4})) == ["cart"]


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "1001"}, {"offset": "-1"}, {"limit": "x"}, {"offset": "1e40"}]
)
def test_bad_paging_is_a_400_naming_the_parameter(client, mesh, query):
    response = client.get("/api/v1/pods", query)
    assert response.status_code == 400 and list(response.json()["details"]) == list(query)


def test_filters_by_cluster_namespace_and_name(client, mesh):
    assert names(client.get("/api/v1/services", {"cluster": "staging"})) == ["cart"]
    assert names(client.get("/api/v1/services", {"namespace": "istio-system,shop"})) == ["istiod", "cart"]
    assert names(client.get("/api/v1/workloads", {"name": "REVIEWS-V"})) == ["reviews-v1", "reviews-v2", "reviews-v3"]


def test_label_selector_filters_with_kubernetes_semantics(client, mesh):
    workloads = "/api/v1/workloads"
    assert names(client.get(workloads, {"labelSelector": "app=reviews,version!=v1"})) == ["reviews-v2", "reviews-v3"]
    assert names(client.get(workloads, {"labelSelector": "version in (v2, v3)"})) == ["reviews-v2", "reviews-v3"]
    assert names(client.get(workloads, {"labelSelector": "app notin (reviews,details,istiod)"})) == ["cart-v1"]
    assert names(client.get(workloads, {"labelSelector": "app,!nothere", "cluster": "staging"})) == ["cart-v1"]


def test_a_bad_label_selector_is_a_400_with_the_reason(client, mesh):
    body = client.get("/api/v1/pods", {"labelSelector": "app in (a"}).json()
    assert body["code"] == "invalid" and "'(' without ')'" in body["details"]["labelSelector"][0]


def test_a_selector_quoting_a_percent_sign_is_a_400_not_a_500(client, mesh):
    # Found by the fuzzer: django-filter formats messages with %, and the reason quotes the input.
    body = client.get("/api/v1/namespaces", {"labelSelector": "a%s%(x)s=1"}).json()
    assert body["code"] == "invalid" and "'a%s%(x)s=1' is not key" in body["details"]["labelSelector"][0]


def test_health_comes_from_the_latest_snapshot_and_filters(client, mesh):
    services = client.get("/api/v1/services", {"cluster": "prod", "namespace": "bookinfo"}).json()["results"]
    assert {s["name"]: s["health"] and s["health"]["status"] for s in services} == {
        "details": None,
        "ratings": None,
        "reviews": "Degraded",
    }
    assert names(client.get("/api/v1/apps", {"health": "Degraded"})) == ["reviews"]
    assert names(client.get("/api/v1/workloads", {"health": "Failure"})) == ["reviews-v1"]
    no_health = names(client.get("/api/v1/services", {"health": "No health information", "cluster": "prod"}))
    assert no_health == ["details", "ratings", "istiod"]
    assert names(client.get("/api/v1/namespaces", {"health": "Degraded"})) == ["bookinfo"]
    assert client.get("/api/v1/apps", {"health": "Sickly"}).status_code == 400


def test_apps_group_workloads_by_app_label(client, mesh):
    apps = client.get("/api/v1/apps", {"cluster": "prod", "ordering": "-name"}).json()["results"]
    assert [(a["name"], a["workloads"], a["missingSidecars"]) for a in apps] == [
        ("reviews", 3, 0),
        ("istiod", 1, 0),
        ("details", 1, 1),
    ]
    detail = client.get("/api/v1/apps/prod/bookinfo/reviews").json()
    assert detail["workloadNames"] == ["reviews-v1", "reviews-v2", "reviews-v3"]
    assert detail["health"]["status"] == "Degraded" and detail["readyReplicas"] == 3


def test_details_are_addressed_by_names(client, mesh):
    service = client.get("/api/v1/services/prod/bookinfo/reviews").json()
    assert service["ports"] == [{"name": "http", "port": 9080}] and service["selector"] == {"app": "reviews"}
    assert client.get("/api/v1/workloads/prod/bookinfo/reviews-v2").json()["version"] == "v2"
    assert client.get("/api/v1/pods/prod/bookinfo/reviews-v1-abc").json()["workloadName"] == "reviews-v1"
    assert client.get("/api/v1/namespaces/prod/bookinfo").json()["health"]["status"] == "Degraded"
    missing = client.get("/api/v1/services/prod/bookinfo/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_ordering_by_a_public_field_and_refusing_others(client, mesh):
    assert names(client.get("/api/v1/services", {"ordering": "-namespace,name", "cluster": "prod"})) == [
        "istiod",
        "details",
        "ratings",
        "reviews",
    ]
    body = client.get("/api/v1/services", {"ordering": "cluster_ip"}).json()
    assert "unknown field 'cluster_ip'" in body["details"]["ordering"][0]


def test_clusters_never_show_how_they_are_reached(client, mesh):
    prod, _ = mesh
    prod.kubeconfig_path = "/etc/secret/kubeconfig"
    prod.prometheus_url = "http://user:hunter2@prometheus:9090"
    prod.save()
    response = client.get("/api/v1/clusters")
    text = response.content.decode()
    assert "kubeconfig" not in text and "hunter2" not in text and "prometheus" not in text
    clusters = {c["name"]: c for c in response.json()["results"]}
    assert clusters["prod"]["sync"] == {
        "state": "failed",
        "kinds": 2,
        "failedKinds": ["services"],
        "lastSuccess": None,
        "syncing": False,
    }
    assert clusters["staging"]["sync"]["state"] == "never"


def test_sync_errors_are_shown_to_cluster_admins_only(client, mesh, django_user_model):
    row = client.get("/api/v1/sync-status/prod/services").json()
    assert row["state"] == "failed" and row["lastError"] is None
    admin = django_user_model.objects.create_user("root", password="x", is_superuser=True)
    admin_client = Client()
    admin_client.force_login(admin)
    assert "refused" in admin_client.get("/api/v1/sync-status/prod/services").json()["lastError"]
    assert [r["kind"] for r in client.get("/api/v1/sync-status", {"state": "ok"}).json()["results"]] == ["pods"]


@pytest.fixture
def bookinfo_viewer(mesh):
    """A user who may read bookinfo in prod and nothing else."""
    user = get_user_model().objects.create_user("bob", password="x")
    RoleGrant.objects.create(user=user, role="viewer", cluster=mesh[0], namespace="bookinfo")
    client = Client()
    client.force_login(user)
    return client


def test_a_user_sees_only_granted_clusters_and_namespaces(bookinfo_viewer):
    assert names(bookinfo_viewer.get("/api/v1/clusters")) == ["prod"]
    assert names(bookinfo_viewer.get("/api/v1/namespaces")) == ["bookinfo"]
    assert names(bookinfo_viewer.get("/api/v1/services")) == ["details", "ratings", "reviews"]
    assert names(bookinfo_viewer.get("/api/v1/apps")) == ["details", "reviews"]
    assert bookinfo_viewer.get("/api/v1/services/prod/istio-system/istiod").status_code == 404
    assert bookinfo_viewer.get("/api/v1/clusters/staging").status_code == 404
    assert bookinfo_viewer.get("/api/v1/namespaces/prod/istio-system").status_code == 404


def test_reads_carry_an_etag_and_answer_304_when_unchanged(client, mesh):
    first = client.get("/api/v1/services")
    etag = first["ETag"]
    assert etag and "private" in first["Cache-Control"]
    again = client.get("/api/v1/services", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    make_service(mesh[0], "bookinfo", "productpage")
    changed = client.get("/api/v1/services", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert (
        client.get("/api/v1/health", HTTP_IF_NONE_MATCH="W/" + client.get("/api/v1/health")["ETag"]).status_code == 304
    )


def test_snapshot_answers_keep_their_etag_while_the_snapshot_only_ages(client, mesh):
    """``snapshot.ageSeconds`` grows between two reads; the ETag names the snapshot, so it still matches. A newer
    snapshot changes it."""
    from topology.models import GraphSnapshot

    first = client.get("/api/v1/health", {"cluster": "prod"})
    etag = first["ETag"]
    GraphSnapshot.objects.filter(cluster=mesh[0]).update(taken_at=F("taken_at") - timedelta(seconds=7))
    aged = client.get("/api/v1/health", {"cluster": "prod"})
    assert aged.json()["snapshot"]["ageSeconds"] >= first.json()["snapshot"]["ageSeconds"] + 7
    assert aged["ETag"] == etag
    assert client.get("/api/v1/health", {"cluster": "prod"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    make_snapshot(mesh[0], health=HEALTH)
    newer = client.get("/api/v1/health", {"cluster": "prod"}, HTTP_IF_NONE_MATCH=etag)
    assert newer.status_code == 200 and newer["ETag"] != etag


def test_the_root_lists_every_endpoint(client, mesh):
    body = client.get("/api/v1/").json()
    assert body["services"] == "http://testserver/api/v1/services"
    assert body["swaggerUi"] == "http://testserver/api/v1/docs/swagger"
    needs_parameters = {"graphDiff": {"from"}, "metrics": {"kind", "namespace"}}
    for key, url in body.items():
        response = client.get(url)
        if key in needs_parameters:
            assert response.status_code == 400 and set(response.json()["details"]) == needs_parameters[key]
        else:
            assert response.status_code == 200, url
