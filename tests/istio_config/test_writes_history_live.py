"""History, external changes, rollback and a failing cluster, through the real kubernetes client against the
simulator: the sync records changes made outside mesh-ui (and not mesh-ui's own), a rollback goes through the whole
write path, a deleted object keeps its history and comes back from it, and a cluster that fails mid-write leaves
nothing written."""

from __future__ import annotations

import json

from inventory.models import IstioObject
from istio_config.models import ConfigChange
from tests.istio_config.writes_support import (
    REVIEWS_RULE,
    cluster_copy,
    create,
    custom_api,
    editor,
    object_url,
    reviews_route,
    sync_once,
    synced,
    update,
)

__all__ = ["editor", "synced"]  # fixtures


def subset_of(spec: dict) -> str:
    return spec["http"][0]["route"][0]["destination"]["subset"]


def stored_subset() -> str:
    return subset_of(IstioObject.objects.get(kind="VirtualService", name="reviews").spec)


def start_reviews(editor) -> str:
    """The rule and a route to v1; returns the route's resourceVersion."""
    assert create(editor, REVIEWS_RULE).status_code == 201
    answer = create(editor, reviews_route("v1"))
    assert answer.status_code == 201, answer.json()
    return answer.json()["object"]["metadata"]["resourceVersion"]


def test_a_change_made_with_kubectl_is_recorded_as_external(
    synced, editor, simulator, django_capture_on_commit_callbacks
):
    start_reviews(editor)
    sync_once(synced, django_capture_on_commit_callbacks)
    assert not ConfigChange.objects.filter(source="external").exists()  # mesh-ui's own writes are not external

    custom_api(simulator).patch_namespaced_custom_object(
        "networking.istio.io",
        "v1",
        "bookinfo",
        "virtualservices",
        "reviews",
        {"spec": {"http": [{"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]}},
    )
    custom_api(simulator).delete_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "destinationrules", "reviews"
    )
    sync_once(synced, django_capture_on_commit_callbacks)

    external = ConfigChange.objects.filter(source="external").order_by("kind")
    assert [(c.kind, c.action, c.actor_id) for c in external] == [
        ("DestinationRule", "delete", None),
        ("VirtualService", "update", None),
    ]
    route_change = external.get(kind="VirtualService")
    assert "-        subset: v1\n+        subset: v2" in route_change.diff
    assert (
        route_change.resource_version_after
        == cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["resourceVersion"]
    )
    history = editor.get(object_url("VirtualService", "reviews", suffix="/history")).json()["changes"]
    assert [(c["source"], c["action"]) for c in history] == [("external", "update"), ("mesh-ui", "create")]


def test_watch_events_of_external_changes_are_recorded(synced, editor, simulator, django_capture_on_commit_callbacks):
    from clients.kubernetes import KINDS_BY_KEY, KubernetesClient
    from inventory.store import apply_events
    from inventory.sync import connection_for

    version = start_reviews(editor)
    kube = KubernetesClient(connection_for(synced))
    custom_api(simulator).patch_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews", {"metadata": {"labels": {"team": "a"}}}
    )
    events = list(kube.watch(KINDS_BY_KEY["virtualservices"], version, timeout_seconds=1))
    kube.close()
    with django_capture_on_commit_callbacks(execute=True):
        apply_events(synced, "virtualservices", events)
    change = ConfigChange.objects.get(source="external")
    assert change.action == "update"
    assert "+  labels:\n+    team: a" in change.diff


def test_rollback_restores_an_earlier_version_and_is_recorded(synced, editor, simulator):
    version = start_reviews(editor)
    first = ConfigChange.objects.get(kind="VirtualService", action="create")
    moved = update(editor, "VirtualService", "reviews", reviews_route("v2"), version).json()
    current = moved["object"]["metadata"]["resourceVersion"]

    body = {"changeId": first.pk, "resourceVersion": current}
    answer = editor.post(
        object_url("VirtualService", "reviews", suffix="/rollback"), json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["change"]["action"] == "rollback"
    assert answer.json()["change"]["rollbackOf"] == first.pk
    assert subset_of(cluster_copy(simulator, "virtualservices", "reviews")["spec"]) == "v1"
    assert stored_subset() == "v1"

    stale = editor.post(
        object_url("VirtualService", "reviews", suffix="/rollback"), json.dumps(body), content_type="application/json"
    )
    assert stale.status_code == 409  # the version it started from is gone: the same conflict check as an update


def test_a_deleted_object_keeps_its_history_and_comes_back_from_it(synced, editor, simulator):
    version = start_reviews(editor)
    assert editor.delete(object_url("VirtualService", "reviews") + f"?resourceVersion={version}").status_code == 200
    assert cluster_copy(simulator, "virtualservices", "reviews") is None
    deletion = ConfigChange.objects.get(kind="VirtualService", action="delete", result="applied")
    assert "subset: v1" in deletion.yaml_before and deletion.yaml_after == ""

    body = {"changeId": deletion.pk, "resourceVersion": ""}
    again = editor.post(
        object_url("VirtualService", "reviews", suffix="/rollback"), json.dumps(body), content_type="application/json"
    )
    assert again.status_code == 200, again.json()
    assert subset_of(cluster_copy(simulator, "virtualservices", "reviews")["spec"]) == "v1"
    history = editor.get(object_url("VirtualService", "reviews", suffix="/history")).json()["changes"]
    assert [c["action"] for c in history] == ["rollback", "delete", "create"]


def test_unreachable_cluster_answers_502_and_writes_nothing(synced, editor, simulator):
    version = start_reviews(editor)
    simulator.stop()
    answer = update(editor, "VirtualService", "reviews", reviews_route("v2"), version)
    assert answer.status_code == 502
    assert answer.json()["code"] == "cluster-unreachable"
    assert stored_subset() == "v1"
    assert ConfigChange.objects.get(pk=answer.json()["changeId"]).result == "api-error"


def test_cluster_failing_between_dry_run_and_write_writes_nothing(synced, editor, simulator):
    version = start_reviews(editor)
    simulator.faults.fail_writes("virtualservices")
    answer = update(editor, "VirtualService", "reviews", reviews_route("v2"), version)
    assert answer.status_code == 502
    assert answer.json()["code"] == "api-error"
    assert "etcdserver" in answer.json()["message"]
    simulator.faults.clear()
    assert subset_of(cluster_copy(simulator, "virtualservices", "reviews")["spec"]) == "v1"
    assert cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["resourceVersion"] == version
    assert stored_subset() == "v1"


def test_the_api_servers_refusal_in_the_dry_run_is_reported_with_its_causes(synced, editor, simulator):
    route = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: Bad_Name
  namespace: bookinfo
spec:
  rules:
  - backendRefs:
    - name: reviews
      port: 9080
"""
    answer = create(editor, route, accept_warnings=True)
    assert answer.status_code == 422, answer.json()
    body = answer.json()
    assert body["code"] == "dry-run-failed"
    assert [c["field"] for c in body["details"]] == ["metadata.name"]
    assert not IstioObject.objects.filter(name="Bad_Name").exists()
