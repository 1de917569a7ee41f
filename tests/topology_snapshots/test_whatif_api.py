"""``POST /api/v1/graph/whatif`` against the Bookinfo simulator: its inventory synced, snapshots read from its
counters (the simulator's load generator honours VirtualServices, so a prediction can be checked against what the
mesh then does)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.urls import reverse
from kubernetes import config as k8s_config

from inventory.sync import sync_cluster
from tests.browser.conftest import bookinfo, take_live_snapshot  # noqa: F401 - the fixture
from tests.istio_config.checks_support import BOOKINFO_NETWORKING
from tests.istio_config.test_validation_live import apply_sample
from topology.models import GraphSnapshot

#: Istio's own samples (samples/bookinfo/networking), as a learner would apply them.
DESTINATION_RULES = (BOOKINFO_NETWORKING / "destination-rule-all.yaml").read_text()
ALL_TO_V1 = (BOOKINFO_NETWORKING / "virtual-service-all-v1.yaml").read_text()


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
    body = {"cluster": cluster.name, "namespace": "bookinfo", "objects": [DESTINATION_RULES, ALL_TO_V1]}
    answer = post(client, body).json()
    assert answer["state"] == "proposed"
    assert len(answer["objects"]) == 8  # four rules and four routes, one per Bookinfo service
    # Every service gets a route, but only reviews has more than a v1 to lose traffic from.
    assert answer["affectedServices"] == [f"bookinfo/{s}" for s in ("details", "productpage", "ratings", "reviews")]
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
    assert not edges[("details (service)", "details-v1")]["changed"]

    # Applied in the cluster with the real client (as kubectl would) and synced: now "applied".
    api = k8s_config.new_client_from_config(config_file=cluster.kubeconfig_path)
    apply_sample(api, "destination-rule-all.yaml")
    apply_sample(api, "virtual-service-all-v1.yaml")
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

    # Next task, 50/50 v1/v3: v3 and ratings had no traffic in the last minute. Two minutes earlier (the older
    # snapshots, moved back in time as if the learner had waited) v3 called ratings once per request: learned.
    latest = after["snapshot"]["id"]
    older = GraphSnapshot.objects.filter(cluster=cluster).exclude(pk=latest)
    older.update(taken_at=F("taken_at") - timedelta(minutes=2))
    fifty_fifty = (BOOKINFO_NETWORKING / "virtual-service-reviews-50-v3.yaml").read_text()
    answer = post(client, {**body, "objects": [fifty_fifty], "duration": "1m"}).json()
    edges = by_labels(answer)
    into_reviews = edges[("productpage-v1", "reviews (service)")]["current"]["rate"]
    assert edges[("reviews (service)", "reviews-v3")]["predicted"]["rate"] == pytest.approx(into_reviews / 2)
    to_ratings = edges[("reviews-v3", "ratings (service)")]["predicted"]["rate"]
    assert to_ratings == pytest.approx(into_reviews / 2, rel=0.01)  # one call per request, as learned
    assert edges[("ratings (service)", "ratings-v1")]["predicted"]["rate"] == pytest.approx(to_ratings)
    assert any("calls are taken from snapshot #" in n for n in answer["notes"])


@pytest.mark.usefixtures("bookinfo")
def test_objects_are_checked_like_a_write(client, bookinfo):  # noqa: F811
    def refused(objects: list[Any]) -> dict[str, Any]:
        response = post(client, {"cluster": bookinfo.cluster.name, "namespace": "bookinfo", "objects": objects})
        assert response.status_code == 400, response.content
        return response.json()

    bad_yaml = refused(["kind: [VirtualService"])
    assert bad_yaml["code"] == "invalid" and list(bad_yaml["details"]) == ["objects.0"]
    assert "not valid YAML (line" in bad_yaml["message"]
    not_istio = refused([DESTINATION_RULES, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}])
    assert "objects.1" in not_istio["details"] and "mesh-ui writes" in not_istio["message"]
    hosts_not_a_list = (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec: {hosts: r}\n"
    )
    schema = refused([hosts_not_a_list])
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
