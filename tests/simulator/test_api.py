"""CRUD, selectors, pagination, validation, dry-run and fault behaviour through the official client."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from simulator import Simulator

GROUP = "networking.istio.io"


def virtual_service(name: str, weight: object = 100) -> dict:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": "bookinfo"},
        "spec": {
            "hosts": ["reviews"],
            "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": weight}]}],
        },
    }


def test_list_across_and_per_namespace_with_label_selector(core: client.CoreV1Api, apps: client.AppsV1Api):
    pods = core.list_pod_for_all_namespaces().items
    assert {p.metadata.namespace for p in pods} == {"bookinfo", "istio-system"}
    bookinfo_pods = core.list_namespaced_pod("bookinfo").items
    assert len(bookinfo_pods) == 6
    assert all(len(p.spec.containers) == 2 and p.spec.containers[1].name == "istio-proxy" for p in bookinfo_pods)
    assert all(
        p.status.phase == "Running" and all(cs.ready for cs in p.status.container_statuses) for p in bookinfo_pods
    )
    assert all("sidecar.istio.io/status" in p.metadata.annotations for p in bookinfo_pods)
    istiod = core.list_namespaced_pod("istio-system", label_selector="app=istiod").items
    assert len(istiod) == 1 and len(istiod[0].spec.containers) == 1
    reviews = core.list_namespaced_pod("bookinfo", label_selector="app=reviews,version in (v1, v3)").items
    assert sorted(p.metadata.labels["version"] for p in reviews) == ["v1", "v3"]
    not_reviews = core.list_namespaced_pod("bookinfo", label_selector="app!=reviews,version").items
    assert {p.metadata.labels["app"] for p in not_reviews} == {"productpage", "details", "ratings"}
    assert core.list_namespaced_pod("bookinfo", label_selector="!version").items == []
    services = core.list_service_for_all_namespaces(label_selector="app").items
    assert {"productpage", "reviews", "istiod", "istio-ingressgateway"} <= {s.metadata.name for s in services}
    deployments = apps.list_deployment_for_all_namespaces().items
    assert len(deployments) == 10
    rs = apps.list_namespaced_replica_set("bookinfo", label_selector="app=ratings").items[0]
    assert rs.metadata.owner_references[0].kind == "Deployment"
    pod = core.list_namespaced_pod("bookinfo", label_selector="app=ratings").items[0]
    assert pod.metadata.owner_references[0].name == rs.metadata.name
    assert pod.metadata.name.startswith(rs.metadata.name + "-")
    assert pod.metadata.labels["pod-template-hash"] == rs.metadata.name.rsplit("-", 1)[1]
    endpoints = core.read_namespaced_endpoints("reviews", "bookinfo")
    assert len(endpoints.subsets[0].addresses) == 3
    by_name = core.list_namespaced_pod("bookinfo", field_selector=f"metadata.name={pod.metadata.name}").items
    assert [p.metadata.name for p in by_name] == [pod.metadata.name]


def test_pagination_returns_every_item_once_with_one_resource_version(core: client.CoreV1Api, sim: Simulator):
    everything = sorted(p.metadata.name for p in core.list_pod_for_all_namespaces().items)
    seen: list[str] = []
    versions: set[str] = set()
    token = None
    while True:
        page = core.list_pod_for_all_namespaces(limit=3, _continue=token)
        seen.extend(p.metadata.name for p in page.items)
        versions.add(page.metadata.resource_version)
        sim.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"generateName": "churn-"}})
        token = page.metadata._continue
        if not token:
            break
    assert sorted(seen) == everything and len(seen) == len(set(seen))
    assert len(versions) == 1


def test_get_missing_is_404_status(core: client.CoreV1Api, custom: client.CustomObjectsApi):
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("nope", "bookinfo")
    assert missing.value.status == 404
    status = json.loads(missing.value.body)
    assert status["reason"] == "NotFound" and status["message"] == 'pods "nope" not found'
    assert status["details"] == {"name": "nope", "kind": "pods"}
    body = virtual_service("x")
    with pytest.raises(ApiException) as mismatch:
        custom.create_namespaced_custom_object(GROUP, "v1", "ghost", "virtualservices", body)
    assert mismatch.value.status == 400
    del body["metadata"]["namespace"]
    with pytest.raises(ApiException) as missing_ns:
        custom.create_namespaced_custom_object(GROUP, "v1", "ghost", "virtualservices", body)
    assert missing_ns.value.status == 404
    assert json.loads(missing_ns.value.body)["message"] == 'namespaces "ghost" not found'


def test_istio_versions_share_storage(custom: client.CustomObjectsApi):
    for version in ("v1", "v1beta1", "v1alpha3"):
        vs = custom.get_namespaced_custom_object(GROUP, version, "bookinfo", "virtualservices", "bookinfo")
        assert vs["apiVersion"] == f"{GROUP}/{version}"
        assert vs["spec"]["gateways"] == ["bookinfo-gateway"]
    listed = custom.list_cluster_custom_object(GROUP, "v1beta1", "gateways")
    assert [g["metadata"]["name"] for g in listed["items"]] == ["bookinfo-gateway"]
    assert custom.list_cluster_custom_object("security.istio.io", "v1", "peerauthentications")["items"] == []


def test_create_then_stale_replace_conflicts(custom: client.CustomObjectsApi):
    created = custom.create_namespaced_custom_object(
        GROUP, "v1", "bookinfo", "virtualservices", virtual_service("reviews")
    )
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    stale = dict(created)
    created["spec"]["http"][0]["route"][0]["weight"] = 100
    created["spec"]["hosts"] = ["reviews.bookinfo.svc.cluster.local"]
    updated = custom.replace_namespaced_custom_object(GROUP, "v1", "bookinfo", "virtualservices", "reviews", created)
    assert updated["metadata"]["generation"] == 2
    assert int(updated["metadata"]["resourceVersion"]) > int(stale["metadata"]["resourceVersion"])
    stale["metadata"] = {**stale["metadata"], "resourceVersion": created["metadata"]["resourceVersion"]}
    with pytest.raises(ApiException) as conflict:
        custom.replace_namespaced_custom_object(GROUP, "v1", "bookinfo", "virtualservices", "reviews", stale)
    assert conflict.value.status == 409
    status = json.loads(conflict.value.body)
    assert status["reason"] == "Conflict"
    assert "the object has been modified; please apply your changes to the latest version" in status["message"]
    with pytest.raises(ApiException) as exists:
        custom.create_namespaced_custom_object(GROUP, "v1", "bookinfo", "virtualservices", virtual_service("reviews"))
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"


def test_invalid_virtual_service_is_422_with_field_causes(custom: client.CustomObjectsApi):
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(
            GROUP, "v1", "bookinfo", "virtualservices", virtual_service("bad", weight="abc")
        )
    assert invalid.value.status == 422
    status = json.loads(invalid.value.body)
    assert status["reason"] == "Invalid"
    assert any("spec.http[0].route[0].weight" in cause["field"] for cause in status["details"]["causes"])
    rule = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "no-host", "namespace": "bookinfo"},
        "spec": {"subsets": []},
    }
    with pytest.raises(ApiException) as missing_host:
        custom.create_namespaced_custom_object(GROUP, "v1", "bookinfo", "destinationrules", rule)
    assert missing_host.value.status == 422
    assert any(c["field"] == "spec.host" for c in json.loads(missing_host.value.body)["details"]["causes"])


def test_bad_metadata_name_is_422(core: client.CoreV1Api):
    with pytest.raises(ApiException) as invalid:
        core.create_namespace({"metadata": {"name": "Bad_Name"}})
    assert invalid.value.status == 422
    assert json.loads(invalid.value.body)["details"]["causes"][0]["field"] == "metadata.name"


def test_dry_run_create_and_delete_do_not_store(custom: client.CustomObjectsApi, core: client.CoreV1Api):
    result = custom.create_namespaced_custom_object(
        GROUP, "v1", "bookinfo", "virtualservices", virtual_service("dry"), dry_run="All"
    )
    assert result["metadata"]["name"] == "dry"
    with pytest.raises(ApiException) as missing:
        custom.get_namespaced_custom_object(GROUP, "v1", "bookinfo", "virtualservices", "dry")
    assert missing.value.status == 404
    pod = core.list_namespaced_pod("bookinfo").items[0].metadata.name
    core.delete_namespaced_pod(pod, "bookinfo", dry_run="All")
    assert core.read_namespaced_pod(pod, "bookinfo").metadata.name == pod


def test_scale_to_zero_by_merge_patch_deletes_pods(apps: client.AppsV1Api, core: client.CoreV1Api):
    apps.patch_namespaced_deployment("reviews-v1", "bookinfo", {"spec": {"replicas": 3}})
    assert len(core.list_namespaced_pod("bookinfo", label_selector="app=reviews,version=v1").items) == 3
    assert apps.read_namespaced_deployment("reviews-v1", "bookinfo").status.ready_replicas == 3
    patched = apps.patch_namespaced_deployment("reviews-v1", "bookinfo", {"spec": {"replicas": 0}})
    assert patched.spec.replicas == 0 and patched.metadata.generation == 3
    assert core.list_namespaced_pod("bookinfo", label_selector="app=reviews,version=v1").items == []
    status = apps.read_namespaced_deployment("reviews-v1", "bookinfo").status
    assert not status.ready_replicas and not status.replicas and status.observed_generation == 3
    endpoints = core.read_namespaced_endpoints("reviews", "bookinfo")
    assert len(endpoints.subsets[0].addresses) == 2


def test_json_patch_and_scale_subresource(apps: client.AppsV1Api, core: client.CoreV1Api):
    apps.patch_namespaced_deployment(
        "ratings-v1",
        "bookinfo",
        [
            {"op": "replace", "path": "/spec/replicas", "value": 2},
            {"op": "add", "path": "/metadata/labels/tier", "value": "backend"},
        ],
    )
    deployment = apps.read_namespaced_deployment("ratings-v1", "bookinfo")
    assert deployment.spec.replicas == 2 and deployment.metadata.labels["tier"] == "backend"
    scale = apps.read_namespaced_deployment_scale("ratings-v1", "bookinfo")
    assert scale.spec.replicas == 2 and scale.status.selector == "app=ratings,version=v1"
    apps.replace_namespaced_deployment_scale(
        "ratings-v1", "bookinfo", {"metadata": {"name": "ratings-v1"}, "spec": {"replicas": 4}}
    )
    assert len(core.list_namespaced_pod("bookinfo", label_selector="app=ratings").items) == 4


def test_deleting_a_pod_creates_a_replacement(core: client.CoreV1Api):
    before = core.list_namespaced_pod("bookinfo", label_selector="app=details").items
    assert len(before) == 1
    deleted = core.delete_namespaced_pod(before[0].metadata.name, "bookinfo")
    assert deleted.metadata.name == before[0].metadata.name
    after = core.list_namespaced_pod("bookinfo", label_selector="app=details").items
    assert len(after) == 1 and after[0].metadata.name != before[0].metadata.name
    assert after[0].status.pod_ip != before[0].status.pod_ip


def test_forbidden_fault_gives_403(core: client.CoreV1Api, sim: Simulator):
    sim.faults.forbid("pods")
    with pytest.raises(ApiException) as forbidden:
        core.list_namespaced_pod("bookinfo")
    assert forbidden.value.status == 403
    status = json.loads(forbidden.value.body)
    assert status["reason"] == "Forbidden"
    assert 'User "system:serviceaccount:mesh-ui:mesh-ui" cannot list resource "pods"' in status["message"]
    assert core.list_namespaced_service("bookinfo").items
    sim.faults.unforbid("pods")
    assert core.list_namespaced_pod("bookinfo").items


def test_after_write_hook_runs_once_after_the_next_committed_write(core: client.CoreV1Api, sim: Simulator):
    seen: list[tuple[str, str]] = []

    def someone_else(stored: dict) -> None:  # another client's write landing before the first one is answered
        seen.append((stored["metadata"]["name"], stored["metadata"]["resourceVersion"]))
        core.patch_namespaced_config_map(stored["metadata"]["name"], "bookinfo", {"data": {"by": "someone-else"}})

    sim.faults.after_write("configmaps", someone_else)
    body = {"metadata": {"name": "raced"}, "data": {"by": "me"}}
    core.create_namespaced_config_map("bookinfo", body, dry_run="All")
    assert seen == [], "a dry run stores nothing and runs no hook"
    created = core.create_namespaced_config_map("bookinfo", body)
    assert seen == [("raced", created.metadata.resource_version)]
    now = core.read_namespaced_config_map("raced", "bookinfo")
    assert now.data == {"by": "someone-else"} and now.metadata.resource_version != created.metadata.resource_version
    core.patch_namespaced_config_map("raced", "bookinfo", {"data": {"by": "me-again"}})
    assert len(seen) == 1, "the hook runs once"


def test_discovery_health_and_extra_routes(core: client.CoreV1Api, sim: Simulator):
    sim.add_route("/metrics", lambda: (200, "text/plain; version=0.0.4", b"up 1\n"))
    with urllib.request.urlopen(f"{sim.url}/metrics") as response:
        assert response.read() == b"up 1\n"
    with urllib.request.urlopen(f"{sim.url}/healthz") as response:
        assert response.read() == b"ok"
    version = client.VersionApi(core.api_client).get_code()
    assert version.major == "1"
    groups = client.ApisApi(core.api_client).get_api_versions()
    assert {"apps", "networking.istio.io", "security.istio.io"} <= {g.name for g in groups.groups}
    assert client.CoreApi(core.api_client).get_api_versions().versions == ["v1"]


def test_namespace_delete_cascades(core: client.CoreV1Api, apps: client.AppsV1Api):
    core.delete_namespace("bookinfo")
    assert apps.list_deployment_for_all_namespaces(label_selector="app=reviews").items == []
    assert all(p.metadata.namespace != "bookinfo" for p in core.list_pod_for_all_namespaces().items)


def test_concurrent_writes_get_distinct_resource_versions(custom: client.CustomObjectsApi):
    from concurrent.futures import ThreadPoolExecutor

    def create(index: int) -> str:
        body = virtual_service(f"vs-{index}")
        created = custom.create_namespaced_custom_object(GROUP, "v1", "bookinfo", "virtualservices", body)
        return str(created["metadata"]["resourceVersion"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(create, range(24)))
    assert len(set(versions)) == 24
    listed = custom.list_namespaced_custom_object(GROUP, "v1", "bookinfo", "virtualservices")["items"]
    assert len(listed) == 25
