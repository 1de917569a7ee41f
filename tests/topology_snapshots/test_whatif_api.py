"""``POST /api/v1/graph/whatif`` against the Bookinfo simulator: its inventory synced, snapshots read from its
counters (the simulator's load generator honours VirtualServices, so a prediction can be checked against what the
mesh then does)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.urls import reverse

from inventory.sync import sync_cluster
from tests.browser.conftest import bookinfo, take_live_snapshot  # noqa: F401 - the fixture
from topology.models import GraphSnapshot

DESTINATION_RULE = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
  - name: v3
    labels: {version: v3}
"""
ALL_TO_V1 = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
"""


def post(client: Any, body: dict[str, Any]) -> Any:
    return client.post(reverse("v1:graph-whatif"), data=body, content_type="application/json")


def by_labels(answer: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["sourceLabel"], e["targetLabel"]): e for e in answer["edges"]}


def observed(answer: dict[str, Any], source: str, target: str) -> float:
    edge = by_labels(answer).get((source, target))
    return edge["current"]["rate"] if edge else 0.0


@pytest.mark.usefixtures("bookinfo")
def test_all_to_v1_is_predicted_and_then_observed(client, bookinfo):  # noqa: F811
    cluster = bookinfo.cluster
    body = {"cluster": cluster.name, "namespace": "bookinfo", "objects": [DESTINATION_RULE, ALL_TO_V1]}
    answer = post(client, body).json()
    assert answer["state"] == "proposed"
    assert answer["affectedServices"] == ["bookinfo/reviews"]
    edges = by_labels(answer)
    # Today the simulator spreads reviews over its three versions; all of it is predicted on v1.
    into_reviews = edges[("productpage-v1", "reviews (service)")]["current"]["rate"]
    assert observed(answer, "reviews (service)", "reviews-v2") > 0
    to_v1 = edges[("reviews (service)", "reviews-v1")]
    assert to_v1["kind"] == "routed" and to_v1["changed"]
    assert to_v1["predicted"]["rate"] == pytest.approx(into_reviews)
    assert to_v1["delta"] == pytest.approx(into_reviews - to_v1["current"]["rate"])
    assert edges[("reviews (service)", "reviews-v2")]["predicted"]["rate"] == 0.0
    assert edges[("reviews-v2", "ratings (service)")]["predicted"]["rate"] == 0.0
    assert edges[("ratings (service)", "ratings-v1")]["predicted"]["rate"] == 0.0
    assert not edges[("productpage (service)", "productpage-v1")]["changed"]

    # Applied in the cluster (as kubectl would) and synced: the same objects are now "applied".
    for text in (DESTINATION_RULE, ALL_TO_V1):
        obj = yaml.safe_load(text)
        obj["metadata"]["namespace"] = "bookinfo"
        bookinfo.store.create(obj)
    sync_cluster(cluster.pk)
    assert post(client, body).json()["state"] == "applied"

    # A minute later the 1-minute window holds only traffic under the new routing: what was predicted is observed.
    take_live_snapshot(bookinfo, cluster, seconds=60)
    after = post(client, {**body, "duration": "1m"}).json()
    assert after["appliedAt"] is not None and after["appliedAt"] < after["snapshot"]["takenAt"]
    assert after["snapshot"]["id"] == GraphSnapshot.objects.filter(cluster=cluster).latest("taken_at").pk
    assert observed(after, "reviews (service)", "reviews-v2") == 0.0
    assert observed(after, "reviews (service)", "reviews-v3") == 0.0
    assert observed(after, "ratings (service)", "ratings-v1") == 0.0
    share_v1 = observed(after, "reviews (service)", "reviews-v1") / observed(
        after, "productpage-v1", "reviews (service)"
    )
    assert share_v1 == pytest.approx(1.0)  # predicted: all of reviews on v1


@pytest.mark.usefixtures("bookinfo")
def test_objects_are_checked_like_a_write(client, bookinfo):  # noqa: F811
    def refused(objects: list[Any]) -> dict[str, Any]:
        response = post(client, {"cluster": bookinfo.cluster.name, "namespace": "bookinfo", "objects": objects})
        assert response.status_code == 400, response.content
        return response.json()

    bad_yaml = refused(["kind: [VirtualService"])
    assert bad_yaml["code"] == "invalid" and list(bad_yaml["details"]) == ["objects.0"]
    assert "not valid YAML (line" in bad_yaml["message"]
    not_istio = refused([DESTINATION_RULE, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}])
    assert "objects.1" in not_istio["details"] and "mesh-ui writes" in not_istio["message"]
    schema = refused([ALL_TO_V1.replace("hosts: [reviews]", "hosts: reviews")])
    assert "hosts" in schema["message"]
    assert "delete names" in refused([{"action": "delete", "kind": "VirtualService"}])["message"]
    assert list(refused([42])["details"]) == ["objects.0"]
    missing = post(client, {"namespace": "bookinfo"}).json()
    assert missing["details"] == {"objects": ["This field is required."]}


@pytest.mark.usefixtures("bookinfo")
def test_delete_and_ignored_kinds_are_reported(client, bookinfo):  # noqa: F811
    gateway = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "gw"},
        "spec": {"selector": {"istio": "ingressgateway"}},
    }
    # Deleting the gateway's VirtualService: the ingress keeps sending, sidecars never used it (gateways: [..]).
    delete = {"action": "delete", "kind": "VirtualService", "namespace": "bookinfo", "name": "bookinfo"}
    body = {"cluster": bookinfo.cluster.name, "namespace": "bookinfo", "objects": [gateway, delete]}
    answer = post(client, body).json()
    assert answer["objects"] == [
        {"action": "delete", "kind": "VirtualService", "namespace": "bookinfo", "name": "bookinfo", "applied": False}
    ]
    assert "Gateway bookinfo/gw does not route requests: ignored" in answer["notes"]
    assert answer["affectedServices"] == [] and not [e for e in answer["edges"] if e["changed"]]
