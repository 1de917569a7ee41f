"""Pure tests of how raw Kubernetes objects become inventory fields."""

from inventory import mapping
from inventory.mapping import build_namespace_fields, build_pod_fields, build_workload_fields, owning_workload


def _pod(**overrides):
    pod = {
        "metadata": {
            "name": "reviews-v2-7f8d9c-abcde",
            "namespace": "bookinfo",
            "labels": {"app": "reviews", "version": "v2", "pod-template-hash": "7f8d9c"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "reviews-v2-7f8d9c", "controller": True}],
            "resourceVersion": "42",
        },
        "spec": {"containers": [{"name": "reviews"}, {"name": "istio-proxy"}], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.7",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "reviews", "ready": True}, {"name": "istio-proxy", "ready": True}],
        },
    }
    pod.update(overrides)
    return pod


def test_pod_owned_by_replicaset_maps_to_its_deployment():
    assert owning_workload(_pod()) == ("Deployment", "reviews-v2")


def test_pod_without_owner_is_its_own_workload():
    pod = _pod()
    pod["metadata"] = {**pod["metadata"], "ownerReferences": []}
    assert owning_workload(pod) == ("Pod", "reviews-v2-7f8d9c-abcde")


def test_pod_fields_report_readiness_and_sidecar():
    fields = build_pod_fields(_pod())
    assert fields["ready"] is True
    assert fields["sidecar"] is True
    assert (fields["containers_ready"], fields["containers_total"]) == (2, 2)
    assert fields["workload_name"] == "reviews-v2"


def test_native_sidecar_init_container_counts_as_sidecar():
    pod = _pod(
        spec={
            "containers": [{"name": "reviews"}],
            "initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}],
        }
    )
    assert build_pod_fields(pod)["sidecar"] is True


def test_pod_without_proxy_has_no_sidecar_and_unready_condition_is_not_ready():
    pod = _pod(
        spec={"containers": [{"name": "reviews"}]},
        status={"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]},
    )
    fields = build_pod_fields(pod)
    assert fields["sidecar"] is False
    assert fields["ready"] is False


def test_namespace_injection_from_label_or_revision():
    assert (
        build_namespace_fields({"metadata": {"name": "a", "labels": {"istio-injection": "enabled"}}})["injection"]
        == "enabled"
    )
    assert (
        build_namespace_fields({"metadata": {"name": "b", "labels": {"istio.io/rev": "canary"}}})["injection"]
        == "rev:canary"
    )
    assert build_namespace_fields({"metadata": {"name": "c"}})["injection"] == ""


def test_workload_fields_take_app_version_and_replicas():
    deployment = {
        "metadata": {"name": "reviews-v3", "namespace": "bookinfo"},
        "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "reviews", "version": "v3"}}}},
        "status": {"readyReplicas": 2, "availableReplicas": 2},
    }
    fields = build_workload_fields(deployment, "Deployment")
    assert (fields["app"], fields["version"]) == ("reviews", "v3")
    assert (fields["desired_replicas"], fields["ready_replicas"]) == (3, 2)


def test_workload_scaled_to_zero_desires_zero():
    deployment = {"metadata": {"name": "x", "namespace": "n"}, "spec": {"replicas": 0}, "status": {}}
    assert build_workload_fields(deployment, "Deployment")["desired_replicas"] == 0


def test_secret_name_fields_drop_the_annotations_that_may_hold_the_data() -> None:
    partial = {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {
            "name": "shop-cert",
            "namespace": "bookinfo",
            "resourceVersion": "7",
            "labels": {"app": "shop"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"tls.key":"c2VjcmV0"}}'},
        },
    }
    fields = mapping.build_secret_name_fields(partial)
    assert (fields["namespace"], fields["name"], fields["resource_version"]) == ("bookinfo", "shop-cert", "7")
    assert (fields["labels"], fields["annotations"]) == ({"app": "shop"}, {})
    assert "c2VjcmV0" not in str(fields)


def test_config_map_fields_keep_the_string_data() -> None:
    config_map = {"metadata": {"name": "istio", "namespace": "istio-system"}, "data": {"mesh": "rootNamespace: x"}}
    assert mapping.build_config_map_fields(config_map)["data"] == {"mesh": "rootNamespace: x"}
    assert mapping.build_config_map_fields({"metadata": {"name": "empty"}})["data"] == {}
