"""What a user limited to some namespaces gets from pages and the API, and that full access keeps the fast path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import RoleGrant
from inventory.models import Cluster
from tests.access.mesh import GRANTED, HIDDEN, MARKERS, Mesh, make_mesh, make_role_user
from topology.graph.restriction import restricted_node_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh() -> Mesh:
    return make_mesh()


def _client(role: str) -> Client:
    client = Client()
    client.force_login(make_role_user(role))
    return client


@pytest.fixture
def scoped(mesh: Mesh) -> Client:
    """An editor of bookinfo only."""
    return _client("bookinfo_editor")


def _body(response: Any) -> str:
    return response.content.decode()


@pytest.mark.parametrize("graph_type", ["app", "versionedApp", "workload", "service"])
def test_the_graph_of_a_scoped_user_folds_hidden_namespaces_into_one_node(scoped: Client, graph_type: str) -> None:
    response = scoped.get("/api/v1/graph", {"graphType": graph_type})
    assert response.status_code == 200
    body = _body(response)
    assert MARKERS[GRANTED] in body and MARKERS[HIDDEN] not in body and HIDDEN not in body
    graph = json.loads(body)
    (opaque,) = [n["data"] for n in graph["elements"]["nodes"] if n["data"].get("isRestricted")]
    assert opaque["id"] == restricted_node_id("east") and opaque["isOutside"] is True
    assert any(e["data"]["source"] == opaque["id"] for e in graph["elements"]["edges"])


def test_asking_the_graph_of_a_hidden_namespace_is_refused(scoped: Client) -> None:
    response = scoped.get("/api/v1/graph", {"namespaces": f"{GRANTED},{HIDDEN}"})
    assert response.status_code == 403
    body = response.json()
    assert (body["code"], body["message"]) == ("permission_denied", f"no access to namespace {HIDDEN}")
    assert scoped.get("/api/v1/graph/diff", {"from": "2020-01-01T00:00:00Z", "namespaces": HIDDEN}).status_code == 403
    assert scoped.get("/api/v1/health", {"namespaces": HIDDEN}).status_code == 403


def test_a_user_with_every_namespace_gets_the_stored_bytes(mesh: Mesh) -> None:
    viewer = _client("viewer")
    graph = json.loads(viewer.get("/api/v1/graph").content)
    stored = json.loads(mesh.snapshot.graphs.get(graph_type="versionedApp", window=300).json_bytes())
    graph.pop("snapshot")
    assert graph == stored  # spliced unparsed: the same elements in the same order
    assert not any(n["data"].get("isRestricted") for n in graph["elements"]["nodes"])


def test_health_and_the_diff_of_a_scoped_user_hold_only_granted_namespaces(scoped: Client) -> None:
    health = scoped.get("/api/v1/health", {"type": "app"}).json()
    assert set(health["namespaces"]) == {GRANTED}
    assert health["items"] and all(key.startswith(f"{GRANTED}/") for key in health["items"])
    diff = scoped.get("/api/v1/graph/diff", {"from": "2020-01-01T00:00:00Z"})
    assert diff.status_code == 200 and MARKERS[HIDDEN] not in _body(diff)


def test_metrics_of_a_hidden_namespace_are_not_found(scoped: Client) -> None:
    params = {"kind": "workload", "namespace": HIDDEN, "name": "istio-ingressgateway"}
    assert scoped.get("/api/v1/metrics", params).status_code == 404
    assert scoped.get("/api/v1/metrics", {"kind": "namespace", "namespace": HIDDEN}).status_code == 404
    params = {"kind": "workload", "namespace": GRANTED, "name": "productpage-v1"}
    assert scoped.get("/api/v1/metrics", params).status_code == 200


@pytest.mark.parametrize("path", ["/", "/applications/", "/workloads/", "/services/", "/istio/", "/inventory/"])
def test_pages_of_a_scoped_user_show_only_granted_namespaces(scoped: Client, path: str) -> None:
    response = scoped.get(path)
    assert response.status_code == 200
    body = _body(response)
    assert GRANTED in body and MARKERS[HIDDEN] not in body and HIDDEN not in body


def test_the_overview_counts_only_granted_namespaces(scoped: Client) -> None:
    response = scoped.get("/")
    assert [card.name for card in response.context["cards"]] == [GRANTED] and response.context["total"] == 1


def test_the_graph_page_offers_only_granted_namespaces(scoped: Client) -> None:
    assert scoped.get("/graph/").context["namespaces"] == [GRANTED]


def test_detail_pages_of_hidden_namespaces_are_not_found(scoped: Client) -> None:
    assert scoped.get(f"/namespaces/{HIDDEN}/workloads/istio-ingressgateway/").status_code == 404
    assert scoped.get(f"/namespaces/{HIDDEN}/services/istio-ingressgateway/").status_code == 404
    assert scoped.get(f"/namespaces/{HIDDEN}/applications/istio-ingressgateway/").status_code == 404
    page = scoped.get(f"/namespaces/{GRANTED}/services/productpage/")
    assert page.status_code == 200
    body = _body(page)
    assert MARKERS[HIDDEN] not in body and HIDDEN not in body
    assert [n.name for n in page.context["detail"].inbound] == ["restricted"]


def test_the_header_offers_only_clusters_with_a_grant(mesh: Mesh) -> None:
    other = Cluster.objects.create(name="secret-west")
    user = make_role_user("bookinfo_editor")
    client = Client()
    client.force_login(user)
    assert "secret-west" not in _body(client.get("/"))
    assert client.get("/", {"cluster": "secret-west"}).status_code == 400  # as if it were not configured
    assert client.get("/api/v1/snapshots", {"cluster": "secret-west"}).status_code == 400
    RoleGrant.objects.create(user=user, role="viewer", cluster=other)
    client.force_login(user)
    assert "secret-west" in _body(client.get("/"))


def test_a_user_without_grants_is_told_so_and_sees_nothing(mesh: Mesh) -> None:
    client = _client("no_grant")
    page = client.get("/")
    assert page.status_code == 403 and b"No access yet" in page.content
    assert MARKERS[GRANTED] not in _body(page) and "east" not in _body(page)
    api = client.get("/api/v1/graph")
    assert api.status_code == 403 and "no role" in api.json()["message"]
