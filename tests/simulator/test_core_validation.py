"""The simulator rejects what a real API server rejects for core kinds, with its 422 Status, through the official
client: a container without an image (in a Pod or a Deployment's template), a ``nodePort`` on a ClusterIP Service,
a Service port protocol other than TCP, UDP or SCTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def _pod(name: str, image: str | None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app"}
    if image is not None:
        container["image"] = image
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


def _service(name: str, port: dict[str, Any], service_type: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"app": "reviews"}, "ports": [port]}
    if service_type:
        spec["type"] = service_type
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def _rejection(call: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.status == 422
    status: dict[str, Any] = json.loads(caught.value.body)
    assert (status["kind"], status["status"], status["reason"], status["code"]) == ("Status", "Failure", "Invalid", 422)
    return status


def test_pod_without_image_is_rejected_as_the_api_server_does(core: client.CoreV1Api) -> None:
    status = _rejection(lambda: core.create_namespaced_pod("bookinfo", _pod("no-image", None)))
    assert status["message"] == 'Pod "no-image" is invalid: spec.containers[0].image: Required value'
    assert status["details"] == {
        "name": "no-image",
        "kind": "Pod",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}],
    }
    created = core.create_namespaced_pod("bookinfo", _pod("with-image", "docker.io/library/busybox:1.36"))
    assert created.metadata.name == "with-image"


def test_deployment_template_without_image_is_rejected(api: client.ApiClient, apps: client.AppsV1Api) -> None:
    body = api.sanitize_for_serialization(apps.read_namespaced_deployment("details-v1", "bookinfo"))
    body["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    status = _rejection(lambda: apps.replace_namespaced_deployment("details-v1", "bookinfo", body))
    [cause] = status["details"]["causes"]
    assert cause["field"] == "spec.template.spec.containers[0].image"
    stored = apps.read_namespaced_deployment("details-v1", "bookinfo")
    assert stored.spec.template.spec.containers[0].image.startswith("docker.io/istio/examples-bookinfo-details")


def test_cluster_ip_service_with_a_node_port_is_rejected(core: client.CoreV1Api) -> None:
    port = {"name": "http", "port": 9080, "nodePort": 30080, "protocol": "TCP"}
    status = _rejection(lambda: core.create_namespaced_service("bookinfo", _service("np", port)))
    assert status["message"] == (
        "Service \"np\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    )
    assert status["details"]["causes"][0]["reason"] == "FieldValueForbidden"
    created = core.create_namespaced_service("bookinfo", _service("np", port, service_type="NodePort"))
    assert created.spec.ports[0].node_port == 30080


def test_service_port_protocol_http_is_rejected(core: client.CoreV1Api) -> None:
    status = _rejection(
        lambda: core.create_namespaced_service("bookinfo", _service("web", {"port": 80, "protocol": "HTTP"}))
    )
    assert status["message"] == (
        'Service "web" is invalid: spec.ports[0].protocol: Unsupported value: "HTTP": '
        'supported values: "SCTP", "TCP", "UDP"'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "message": 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
            "field": "spec.ports[0].protocol",
        }
    ]
    # The way to say HTTP: a TCP port named for its protocol, or appProtocol.
    created = core.create_namespaced_service(
        "bookinfo", _service("web", {"name": "http-web", "port": 80, "protocol": "TCP", "appProtocol": "http"})
    )
    assert created.spec.ports[0].protocol == "TCP"


def test_several_problems_are_listed_together(core: client.CoreV1Api) -> None:
    body = _service("two", {"port": 80, "protocol": "HTTP", "nodePort": 30081})
    status = _rejection(lambda: core.create_namespaced_service("bookinfo", body))
    assert [c["field"] for c in status["details"]["causes"]] == ["spec.ports[0].protocol", "spec.ports[0].nodePort"]
    assert status["message"].startswith('Service "two" is invalid: [spec.ports[0].protocol: Unsupported value')
