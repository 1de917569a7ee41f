"""The pure checks in front of every write (``istio_config.write_input``) and what depends on an object
(``istio_config.dependents``): no database, no cluster."""

from __future__ import annotations

import pytest
import yaml

from istio_config.checks.model import IstioConfig
from istio_config.dependents import find_dependents, qualify_host
from istio_config.write_input import (
    MAX_DOCUMENT_BYTES,
    ObjectRef,
    WriteInputError,
    check_identity,
    check_schema,
    config_yaml,
    read_document,
)

ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "shop", "namespace": "web"},
    "spec": {"rules": [{"backendRefs": [{"name": "shop", "port": 80}]}]},
}


def test_json_text_is_read_like_yaml():
    assert read_document('{"kind": "Sidecar", "metadata": {"name": "a"}}')["kind"] == "Sidecar"


def test_several_documents_are_refused():
    with pytest.raises(WriteInputError) as refused:
        read_document("kind: A\n---\nkind: B\n")
    assert refused.value.code == "invalid-object"
    assert "holds 2" in refused.value.message


def test_a_parsed_object_over_the_limit_is_refused():
    with pytest.raises(WriteInputError, match="at most"):
        read_document({"kind": "Sidecar", "spec": {"x": "y" * MAX_DOCUMENT_BYTES}})


def test_a_tab_indent_error_names_its_line():
    with pytest.raises(WriteInputError) as refused:
        read_document("kind: VirtualService\nspec:\n\thosts: [a]\n")
    assert refused.value.code == "invalid-yaml"
    assert refused.value.details[0]["line"] == 3


def test_gateway_api_objects_are_named_by_their_check_kind():
    assert check_identity(dict(ROUTE)) == ObjectRef("K8sHTTPRoute", "web", "shop")


def test_an_apiversion_the_kind_is_not_served_at_is_refused():
    with pytest.raises(WriteInputError, match="not served at"):
        check_identity({**ROUTE, "apiVersion": "gateway.networking.k8s.io/v9"})


def test_a_document_without_namespace_takes_the_urls():
    document = {**ROUTE, "metadata": {"name": "shop"}}
    assert check_identity(document, ObjectRef("K8sHTTPRoute", "web", "shop")).namespace == "web"
    assert document["metadata"]["namespace"] == "web"


def test_another_kind_than_the_urls_is_refused():
    with pytest.raises(WriteInputError) as refused:
        check_identity(dict(ROUTE), ObjectRef("VirtualService", "web", "shop"))
    assert refused.value.details[0]["field"] == "kind"


def test_gateway_api_schema_failures_carry_their_line():
    text = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: shop\n"
        "spec:\n  rules:\n  - backendRefs:\n    - name: shop\n"
    )
    failures = check_schema(yaml.safe_load(text), text)
    assert failures and failures[0]["line"] == 8  # the backendRef missing its port
    assert "port" in failures[0]["message"]


def test_history_yaml_drops_the_clusters_bookkeeping():
    obj = {
        **ROUTE,
        "metadata": {**ROUTE["metadata"], "resourceVersion": "7", "uid": "u", "managedFields": [{}]},
        "status": {"parents": []},
    }
    text = config_yaml(obj)
    assert "resourceVersion" not in text and "uid" not in text and "status" not in text
    assert "name: shop" in text and "backendRefs" in text


def test_short_hosts_are_qualified_in_the_writers_namespace():
    assert qualify_host("reviews", "bookinfo") == "reviews.bookinfo.svc.cluster.local"
    assert qualify_host("reviews.bookinfo", "other") == "reviews.bookinfo.svc.cluster.local"
    assert qualify_host("api.example.com", "bookinfo") == "api.example.com"


def test_dependents_of_a_gateway_are_the_virtual_services_binding_it():
    gateway = IstioConfig(kind="Gateway", namespace="edge", name="public", spec={})
    here = IstioConfig(kind="VirtualService", namespace="edge", name="a", spec={"gateways": ["public"]})
    there = IstioConfig(kind="VirtualService", namespace="shop", name="b", spec={"gateways": ["edge/public"]})
    unrelated = IstioConfig(kind="VirtualService", namespace="shop", name="c", spec={"gateways": ["public"]})
    found = find_dependents(gateway, [gateway, here, there, unrelated])
    assert [(d.namespace, d.name, d.path) for d in found] == [
        ("edge", "a", "spec.gateways[0]"),
        ("shop", "b", "spec.gateways[0]"),
    ]


def test_dependents_of_a_gateway_api_gateway_are_the_routes_attached_by_parent_refs():
    gateway = IstioConfig(kind="K8sGateway", namespace="edge", name="public", spec={})
    same_namespace = IstioConfig(
        kind="K8sHTTPRoute", namespace="edge", name="a", spec={"parentRefs": [{"name": "public"}]}
    )
    across = IstioConfig(
        kind="K8sGRPCRoute",
        namespace="shop",
        name="b",
        spec={"parentRefs": [{"name": "other"}, {"name": "public", "namespace": "edge", "sectionName": "https"}]},
    )
    elsewhere = IstioConfig(kind="K8sHTTPRoute", namespace="shop", name="c", spec={"parentRefs": [{"name": "public"}]})
    a_service = IstioConfig(
        kind="K8sHTTPRoute",
        namespace="edge",
        name="d",
        spec={"parentRefs": [{"name": "public", "kind": "Service", "group": ""}]},
    )
    istio_binding = IstioConfig(kind="VirtualService", namespace="edge", name="e", spec={"gateways": ["public"]})

    found = find_dependents(gateway, [gateway, same_namespace, across, elsewhere, a_service, istio_binding])

    assert [(d.kind, d.namespace, d.name, d.path) for d in found] == [
        ("K8sHTTPRoute", "edge", "a", "spec.parentRefs[0]"),
        ("K8sGRPCRoute", "shop", "b", "spec.parentRefs[1]"),
    ]
    assert found[1].reason == "attaches to this gateway (listener 'https')"
