"""Changes made outside mesh-ui reach the change history through every path of the sync, against the simulator
with the real ``kubernetes`` client and the real ``kubectl``: the relist of a kind that had no objects yet (the
first DestinationRule of a cluster), the watch, a creation while the kind's watch is reconnecting, an object
created and deleted between two relists (nothing to see), and the first sync of a cluster (a baseline, nothing
recorded)."""

from __future__ import annotations

from typing import Any

from clients.kubernetes import KINDS_BY_KEY, KubernetesClient
from inventory.models import IstioObject, SyncStatus
from inventory.store import apply_events
from inventory.sync import SyncOutcome, connection_for, follow_watches
from istio_config.models import ConfigChange
from tests.istio_config.writes_support import REVIEWS_RULE, custom_api, sync_once, synced
from tests.simulator.kubectl_support import Kubectl, find_kubectl

__all__ = ["synced"]  # fixtures

DR = ("networking.istio.io", "v1", "bookinfo", "destinationrules")


def external(kind: str = "DestinationRule") -> list[tuple[str, str]]:
    rows = ConfigChange.objects.filter(source="external", kind=kind).order_by("created", "id")
    return [(c.action, c.name) for c in rows]


def test_the_first_sync_of_a_cluster_records_nothing(cluster, django_capture_on_commit_callbacks):
    sync_once(cluster, django_capture_on_commit_callbacks)
    assert IstioObject.objects.filter(cluster=cluster).exists()
    assert not ConfigChange.objects.exists()


def test_kubectl_apply_of_the_first_destination_rule_is_recorded_by_the_relist(
    synced, simulator, tmp_path, django_capture_on_commit_callbacks
):
    assert not IstioObject.objects.filter(kind="DestinationRule").exists()  # the cluster has none yet
    kubectl = Kubectl(find_kubectl(), simulator.kubeconfig_path, tmp_path / "cache")
    kubectl("apply", "-f", "-", stdin=REVIEWS_RULE)
    sync_once(synced, django_capture_on_commit_callbacks)

    assert external() == [("create", "reviews")]
    change = ConfigChange.objects.get(source="external")
    assert "+  host: reviews" in change.diff and "+    name: v2" in change.diff
    assert change.resource_version_after == IstioObject.objects.get(kind="DestinationRule").resource_version


def test_the_last_destination_rule_deleted_and_a_new_one_created_are_both_recorded(
    synced, simulator, django_capture_on_commit_callbacks
):
    api = custom_api(simulator)
    api.create_namespaced_custom_object(*DR, _rule("reviews"))
    sync_once(synced, django_capture_on_commit_callbacks)
    api.delete_namespaced_custom_object(*DR, "reviews")
    sync_once(synced, django_capture_on_commit_callbacks)  # no DestinationRule stored any more
    api.create_namespaced_custom_object(*DR, _rule("ratings"))
    sync_once(synced, django_capture_on_commit_callbacks)
    assert external() == [("create", "reviews"), ("delete", "reviews"), ("create", "ratings")]


def test_a_creation_seen_by_the_watch_is_recorded(synced, simulator, django_capture_on_commit_callbacks):
    version = SyncStatus.objects.get(cluster=synced, kind="destinationrules").resource_version
    custom_api(simulator).create_namespaced_custom_object(*DR, _rule("reviews"))
    kube = KubernetesClient(connection_for(synced))
    events = list(kube.watch(KINDS_BY_KEY["destinationrules"], version, timeout_seconds=1))
    kube.close()
    with django_capture_on_commit_callbacks(execute=True):
        apply_events(synced, "destinationrules", events)
    assert external() == [("create", "reviews")]


def test_a_creation_while_the_watch_is_reconnecting_is_recorded_by_its_relist(
    synced, simulator, django_capture_on_commit_callbacks
):
    """The watch of DestinationRules starts from a version the simulator has compacted away (410 Gone, as after a
    long disconnection), and the rule was created meanwhile: the relist that follows records it."""
    version = SyncStatus.objects.get(cluster=synced, kind="destinationrules").resource_version
    custom_api(simulator).create_namespaced_custom_object(*DR, _rule("reviews"))
    simulator.store.compact()
    kube = KubernetesClient(connection_for(synced))
    outcome = SyncOutcome(cluster=synced.name)
    with django_capture_on_commit_callbacks(execute=True):
        follow_watches(synced, kube, {"destinationrules": version}, 2.0, "test-owner", outcome)
    kube.close()
    assert outcome.relists_after_gone == 1
    assert external() == [("create", "reviews")]


def test_an_object_created_and_deleted_between_two_relists_leaves_no_trace(
    synced, simulator, django_capture_on_commit_callbacks
):
    api = custom_api(simulator)
    api.create_namespaced_custom_object(*DR, _rule("reviews"))
    api.delete_namespaced_custom_object(*DR, "reviews")
    sync_once(synced, django_capture_on_commit_callbacks)
    assert external() == []


def _rule(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": name},
        "spec": {"host": name, "subsets": [{"name": "v1", "labels": {"version": "v1"}}]},
    }


def test_objects_of_a_kind_installed_after_the_first_sync_are_recorded(
    cluster, simulator, django_capture_on_commit_callbacks
):
    """The first sync found the Gateway API not installed (no HTTPRoute anywhere): an HTTPRoute created once its
    CRDs are installed is a change, not a baseline."""
    simulator.remove_crds("gateway.networking.k8s.io")
    sync_once(cluster, django_capture_on_commit_callbacks)
    simulator.install_crds("gateway.networking.k8s.io")
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "reviews"},
        "spec": {"rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}]},
    }
    custom_api(simulator).create_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", "bookinfo", "httproutes", route
    )
    sync_once(cluster, django_capture_on_commit_callbacks)
    assert external("K8sHTTPRoute") == [("create", "reviews")]


def test_a_list_read_before_a_mesh_ui_write_neither_undoes_it_nor_records_a_delete(
    synced, simulator, django_user_model, django_capture_on_commit_callbacks
):
    """A relist is read in the watch thread and applied later on the syncing thread: a mesh-ui write in between is
    newer than the list. The list keeps the row the write service stored and records no external delete."""
    from inventory.store import apply_full_list
    from tests.istio_config.writes_support import create, user_with_role

    kube = KubernetesClient(connection_for(synced))
    listing = kube.fetch_list(KINDS_BY_KEY["destinationrules"])  # no DestinationRule yet
    kube.close()
    editor = user_with_role(django_user_model, "erin", "editor", "bookinfo")
    with django_capture_on_commit_callbacks(execute=True):
        assert create(editor, REVIEWS_RULE).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        apply_full_list(synced, "destinationrules", listing.items, listing.resource_version)
    assert IstioObject.objects.filter(kind="DestinationRule", name="reviews").exists()
    assert external() == []


def test_only_a_recent_row_with_a_later_number_is_newer_than_a_list():
    from datetime import UTC, datetime, timedelta

    from inventory.store import NEWER_THAN_LIST_SECONDS, newer_than_list

    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert newer_than_list("120", "100", now, now)
    assert not newer_than_list("90", "100", now, now)
    assert not newer_than_list("120", "", now, now)  # a list without a version protects nothing
    assert not newer_than_list("abc", "100", now, now)  # not a number: never compared
    # A cluster whose versions went back (restored, replaced): its old rows go at the next list after a while.
    assert not newer_than_list("120", "100", now - timedelta(seconds=NEWER_THAN_LIST_SECONDS + 1), now)
