"""Inventory sync through the real ``kubernetes`` client against the Bookinfo simulator over HTTP."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

import inventory.sync
from clients.kubernetes import KINDS_BY_KEY, ClusterConnection, KubernetesClient
from inventory.models import IstioObject, Namespace, Pod, Service, SyncStatus, Workload
from inventory.store import apply_full_list
from inventory.sync import SyncOutcome, claim_lease, follow_watches, new_owner_id, sync_cluster
from tests.support.wait import wait_until

pytestmark = pytest.mark.django_db

VIRTUAL_SERVICE = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "reviews", "namespace": "bookinfo"},
    "spec": {
        "hosts": ["reviews"],
        "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}],
    },
}


def _api(simulator) -> k8s.ApiClient:
    return k8s_config.new_client_from_config(config_file=str(simulator.kubeconfig_path))


def _bookinfo_pods(api: k8s.ApiClient, workload: str) -> list[str]:
    pods = k8s.CoreV1Api(api).list_namespaced_pod("bookinfo", label_selector=f"app={workload.rsplit('-', 1)[0]}")
    return [p.metadata.name for p in pods.items if p.metadata.name.startswith(workload + "-")]


def test_initial_list_stores_the_bookinfo_inventory(cluster):
    outcome = sync_cluster(cluster.pk)

    assert outcome.failed == {}
    assert set(outcome.listed) == set(KINDS_BY_KEY)
    bookinfo = Namespace.objects.get(cluster=cluster, name="bookinfo")
    assert bookinfo.injection == "enabled"
    assert Namespace.objects.filter(cluster=cluster, name="istio-system").exists()
    workloads = {w.name: w for w in Workload.objects.filter(cluster=cluster, namespace="bookinfo")}
    assert set(workloads) == {
        "productpage-v1",
        "details-v1",
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
        "ratings-v1",
    }
    reviews_v3 = workloads["reviews-v3"]
    assert (reviews_v3.app, reviews_v3.version, reviews_v3.kind) == ("reviews", "v3", "Deployment")
    assert reviews_v3.ready_replicas == reviews_v3.desired_replicas >= 1
    assert all(w.sidecar_present for w in workloads.values())
    assert set(Service.objects.filter(cluster=cluster, namespace="bookinfo").values_list("name", flat=True)) >= {
        "productpage",
        "details",
        "reviews",
        "ratings",
    }
    pod = Pod.objects.filter(cluster=cluster, workload_name="reviews-v3").get()
    assert (pod.phase, pod.ready, pod.sidecar, pod.containers_total) == ("Running", True, True, 2)
    assert set(IstioObject.objects.filter(cluster=cluster).values_list("kind", "name")) >= {
        ("Gateway", "bookinfo-gateway"),
        ("VirtualService", "bookinfo"),
    }
    statuses = SyncStatus.objects.filter(cluster=cluster)
    assert statuses.count() == len(KINDS_BY_KEY)
    assert all(s.state == "ok" and s.last_success and s.duration_ms is not None for s in statuses)
    assert statuses.get(kind="pods").object_count == Pod.objects.filter(cluster=cluster).count()


def test_applying_the_same_list_twice_changes_nothing(cluster, simulator):
    sync_cluster(cluster.pk)
    connection = ClusterConnection(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))
    listing = KubernetesClient(connection).fetch_list(KINDS_BY_KEY["pods"])
    result = apply_full_list(cluster, "pods", listing.items)
    assert (result.created, result.updated, result.deleted) == (0, 0, 0)
    assert result.total == Pod.objects.filter(cluster=cluster).count()


def test_watched_changes_reach_the_database(cluster, simulator, monkeypatch):
    api = _api(simulator)
    reviews_v1_pod = _bookinfo_pods(api, "reviews-v1")[0]

    def change_the_cluster() -> None:
        k8s.AppsV1Api(api).patch_namespaced_deployment("reviews-v3", "bookinfo", {"spec": {"replicas": 0}})
        k8s.CoreV1Api(api).delete_namespaced_pod(reviews_v1_pod, "bookinfo")
        k8s.CustomObjectsApi(api).create_namespaced_custom_object(
            "networking.istio.io", "v1", "bookinfo", "virtualservices", VIRTUAL_SERVICE
        )
        # The simulator's controller reconciles in the background: wait until it has, so every change is in the
        # cluster's history before the watches start from the listed versions.
        wait_until(
            lambda: _bookinfo_pods(api, "reviews-v3") == [] and len(_bookinfo_pods(api, "reviews-v1")) == 1,
            "the simulator scaled reviews-v3 to zero and replaced the killed reviews-v1 pod",
        )

    def change_then_follow_watches(*args, **kwargs) -> None:
        change_the_cluster()  # after every kind was listed, before the watches open
        follow_watches(*args, **kwargs)

    monkeypatch.setattr(inventory.sync, "follow_watches", change_then_follow_watches)
    # The watches run for the whole time given: long enough for every watch thread to connect on a busy machine.
    outcome = sync_cluster(cluster.pk, watch_seconds=6)

    assert outcome.events_applied > 0
    reviews_v3 = Workload.objects.get(cluster=cluster, name="reviews-v3")
    assert (reviews_v3.desired_replicas, reviews_v3.ready_replicas) == (0, 0)
    assert not Pod.objects.filter(cluster=cluster, workload_name="reviews-v3").exists()
    assert not Pod.objects.filter(cluster=cluster, name=reviews_v1_pod).exists()
    # The simulator's ReplicaSet controller replaced the killed pod, and the watch brought the new one in.
    assert Pod.objects.filter(cluster=cluster, workload_name="reviews-v1").count() == 1
    assert IstioObject.objects.filter(cluster=cluster, kind="VirtualService", name="reviews").exists()
    assert SyncStatus.objects.get(cluster=cluster, kind="virtualservices").last_event is not None
    # Seen through watches, not relists: every kind was listed exactly once.
    assert set(SyncStatus.objects.filter(cluster=cluster).values_list("relists", flat=True)) == {1}


def test_gone_watch_triggers_a_relist(cluster, simulator):
    sync_cluster(cluster.pk)
    old_version = SyncStatus.objects.get(cluster=cluster, kind="virtualservices").resource_version
    k8s.CustomObjectsApi(_api(simulator)).create_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", VIRTUAL_SERVICE
    )
    simulator.store.compact()

    connection = ClusterConnection(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))
    outcome = SyncOutcome(cluster="sim")
    owner = new_owner_id()
    assert claim_lease(cluster.pk, owner)
    follow_watches(cluster, KubernetesClient(connection), {"virtualservices": old_version}, 2.0, owner, outcome)

    assert outcome.relists_after_gone == 1
    assert IstioObject.objects.filter(cluster=cluster, kind="VirtualService", name="reviews").exists()
    assert SyncStatus.objects.get(cluster=cluster, kind="virtualservices").relists == 2


def test_forbidden_list_keeps_stored_pods_and_records_the_error(cluster, simulator):
    sync_cluster(cluster.pk)
    stored_pods = Pod.objects.filter(cluster=cluster).count()
    assert stored_pods > 0

    simulator.faults.forbid("pods")
    outcome = sync_cluster(cluster.pk)

    assert "pods" in outcome.failed
    assert Pod.objects.filter(cluster=cluster).count() == stored_pods
    status = SyncStatus.objects.get(cluster=cluster, kind="pods")
    assert status.state == "failed"
    assert "403" in status.last_error and "forbidden" in status.last_error
    assert status.last_success is not None
    # The other kinds went on.
    assert SyncStatus.objects.get(cluster=cluster, kind="services").state == "ok"


def test_unreachable_api_server_keeps_stored_data_and_records_the_error(cluster, simulator):
    sync_cluster(cluster.pk)
    counts = (Workload.objects.count(), Pod.objects.count(), IstioObject.objects.count())

    simulator.stop()
    outcome = sync_cluster(cluster.pk)

    assert set(outcome.failed) == set(KINDS_BY_KEY)
    assert (Workload.objects.count(), Pod.objects.count(), IstioObject.objects.count()) == counts
    assert all("cannot reach" in s.last_error for s in SyncStatus.objects.filter(cluster=cluster))


def test_a_leased_cluster_is_not_synced_twice(cluster):
    assert claim_lease(cluster.pk, "another-worker")
    outcome = sync_cluster(cluster.pk)
    assert outcome.claimed is False
    assert not Workload.objects.exists()


def test_inventory_page_shows_namespaces_workloads_and_sync_status(cluster, client):
    sync_cluster(cluster.pk)
    page = client.get("/inventory/").content.decode()
    assert "istio-injection: enabled" in page
    assert 'data-workload="reviews-v3"' in page
    assert 'data-istio="VirtualService/bookinfo"' in page
    assert "1 / 1" in page
    assert "Sync status" in page


def test_inventory_page_shows_a_failing_kind(cluster, simulator, client):
    sync_cluster(cluster.pk)
    simulator.faults.forbid("pods")
    sync_cluster(cluster.pk)
    page = client.get("/inventory/?partial=1").content.decode()
    assert "Sync failing for" in page and "pods" in page
    assert 'data-workload="reviews-v3"' in page


def test_a_list_failing_half_way_keeps_stored_rows(cluster, simulator, monkeypatch, settings):
    sync_cluster(cluster.pk)
    stored = set(Pod.objects.filter(cluster=cluster).values_list("name", flat=True))
    assert len(stored) > 2
    settings.MESH_UI_KUBE_PAGE_SIZE = 2
    original = KubernetesClient.iter_list_pages

    def fail_after_first_page(self, kind):
        pages = original(self, kind)
        yield next(pages)
        if kind.key == "pods":
            simulator.faults.forbid("pods")  # the permission goes away between two pages
        yield from pages

    monkeypatch.setattr(KubernetesClient, "iter_list_pages", fail_after_first_page)
    outcome = sync_cluster(cluster.pk)

    assert "pods" in outcome.failed
    assert set(Pod.objects.filter(cluster=cluster).values_list("name", flat=True)) == stored
    assert SyncStatus.objects.get(cluster=cluster, kind="pods").state == "failed"
