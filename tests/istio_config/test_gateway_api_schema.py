"""istio_config.gateway_api_schema: the Gateway API objects' structural validation, written from the spec."""

from __future__ import annotations

from typing import Any

from istio_config.gateway_api_schema import gateway_api_kinds, validate_gateway_api_object

GROUP = "gateway.networking.k8s.io"


def _gateway(spec: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{version}", "kind": "Gateway", "metadata": {"name": "gw"}, "spec": spec}


def _fields(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["reason"], c["field"]) for c in validate_gateway_api_object(obj)]


LISTENER = {"name": "http", "port": 80, "protocol": "HTTP"}


def test_a_valid_gateway_keeps_fields_the_schema_does_not_describe() -> None:
    spec = {
        "gatewayClassName": "istio",
        "listeners": [{**LISTENER, "allowedRoutes": {"namespaces": {"from": "All"}}}],
        "infrastructure": {"labels": {"team": "shop"}},
    }
    assert _fields(_gateway(spec)) == []
    assert _fields(_gateway(spec, "v1beta1")) == []


def test_gateway_required_fields_bounds_and_unique_listener_names() -> None:
    assert _fields(_gateway({"listeners": [LISTENER]})) == [("FieldValueRequired", "spec.gatewayClassName")]
    assert _fields(_gateway({"gatewayClassName": "istio", "listeners": []})) == [
        ("FieldValueInvalid", "spec.listeners")
    ]
    listeners = [{**LISTENER, "port": 70000}, {"name": "http", "port": 81}]
    assert _fields(_gateway({"gatewayClassName": "istio", "listeners": listeners})) == [
        ("FieldValueInvalid", "spec.listeners[0].port"),
        ("FieldValueRequired", "spec.listeners[1].protocol"),
        ("FieldValueDuplicate", "spec.listeners[1]"),
    ]
    bad_host = [{**LISTENER, "hostname": "Shop_Example.com"}]
    assert _fields(_gateway({"gatewayClassName": "istio", "listeners": bad_host})) == [
        ("FieldValueInvalid", "spec.listeners[0].hostname")
    ]


def test_route_backend_service_needs_a_port() -> None:
    def route(backend: dict[str, Any]) -> dict[str, Any]:
        spec = {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [backend]}]}
        return {"apiVersion": f"{GROUP}/v1", "kind": "HTTPRoute", "metadata": {"name": "r"}, "spec": spec}

    [cause] = validate_gateway_api_object(route({"name": "reviews"}))
    assert cause["field"] == "spec.rules[0].backendRefs[0]"
    assert cause["message"].endswith("Must have port for Service reference")
    assert validate_gateway_api_object(route({"name": "reviews", "port": 9080})) == []
    assert validate_gateway_api_object(route({"group": "x.io", "kind": "Backend", "name": "b"})) == []
    assert _fields(route({"port": 9080})) == [("FieldValueRequired", "spec.rules[0].backendRefs[0].name")]


def test_reference_grant_needs_from_and_to() -> None:
    grant = {"apiVersion": f"{GROUP}/v1beta1", "kind": "ReferenceGrant", "metadata": {"name": "g"}}
    assert validate_gateway_api_object(grant) == []  # spec itself is optional in the CRD
    grant["spec"] = {"from": [{"group": "", "kind": "HTTPRoute"}]}
    assert _fields(grant) == [("FieldValueRequired", "spec.to"), ("FieldValueRequired", "spec.from[0].namespace")]


def test_unknown_kinds_and_versions_are_not_supported() -> None:
    assert set(gateway_api_kinds()) == {"Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant"}
    assert _fields({"apiVersion": f"{GROUP}/v1", "kind": "TLSRoute"}) == [("FieldValueNotSupported", "kind")]
    assert _fields({"apiVersion": f"{GROUP}/v1alpha2", "kind": "GRPCRoute"}) == [
        ("FieldValueNotSupported", "apiVersion")
    ]
