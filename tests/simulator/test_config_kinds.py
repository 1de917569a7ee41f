"""The kinds the configuration checks read, served as a real API server serves them: metadata-only reads of
Secrets (``as=PartialObjectMetadata[List]``), the ``istio`` ConfigMap by field selector, RequestAuthentication,
and the Gateway API kinds with their schema, or a 404 when their CRDs are not installed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from simulator import Simulator

GATEWAY_API = "gateway.networking.k8s.io"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def _get(api: client.ApiClient, path: str, accept: str, query: list[tuple[str, Any]] | None = None) -> Any:
    response = api.call_api(
        path,
        "GET",
        query_params=query or [],
        header_params={"Accept": accept},
        auth_settings=["BearerToken"],
        _preload_content=False,
    )[0]
    return json.loads(response.data)


def _tls_secret(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "labels": {"app": "shop"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"tls.key":"c2VjcmV0"}}'},
        },
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA==", "tls.key": "c2VjcmV0"},
    }


def test_secrets_listed_as_metadata_only_carry_no_data(api: client.ApiClient, core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("bookinfo", _tls_secret("shop-cert"))
    listing = _get(api, "/api/v1/secrets", METADATA_LIST, [("limit", 1)])
    assert (listing["kind"], listing["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert listing["metadata"]["continue"] and listing["metadata"]["remainingItemCount"] == 1
    [first] = listing["items"]
    assert set(first) == {"kind", "apiVersion", "metadata"}
    assert (first["kind"], first["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
    assert first["metadata"]["name"] == "shop-cert"
    assert "c2VjcmV0" not in json.dumps(listing["items"][0]["metadata"]["labels"])
    one = _get(api, "/api/v1/namespaces/bookinfo/secrets/shop-cert", METADATA_OBJECT)
    assert one["kind"] == "PartialObjectMetadata" and "data" not in one and "type" not in one
    # Without the header, the same request answers the whole Secret (as the real API server does).
    assert core.read_namespaced_secret("shop-cert", "bookinfo").data["tls.key"] == "c2VjcmV0"


def test_metadata_only_watch_events_carry_no_data(api: client.ApiClient, core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("bookinfo", _tls_secret("shop-cert"))
    response = api.call_api(
        "/api/v1/secrets",
        "GET",
        query_params=[("watch", "true"), ("timeoutSeconds", 1)],
        header_params={"Accept": METADATA_OBJECT},
        auth_settings=["BearerToken"],
        _preload_content=False,
    )[0]
    events = [json.loads(line) for line in response.data.decode().splitlines() if line]
    added = [e["object"] for e in events if e["type"] == "ADDED"]
    assert {o["metadata"]["name"] for o in added} == {"istio-ca-secret", "shop-cert"}
    assert all(o["kind"] == "PartialObjectMetadata" and "data" not in o for o in added)


def test_an_unservable_media_type_is_not_acceptable(api: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        _get(api, "/api/v1/secrets", "application/json;as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2")
    assert caught.value.status == 406
    assert json.loads(caught.value.body)["reason"] == "NotAcceptable"
    # A list asked for as one object is not acceptable either; a fallback to plain JSON is.
    with pytest.raises(ApiException):
        _get(api, "/api/v1/secrets", METADATA_OBJECT)
    assert _get(api, "/api/v1/secrets", f"{METADATA_OBJECT},application/json")["kind"] == "SecretList"


def test_the_mesh_config_map_is_found_by_field_selector(core: client.CoreV1Api) -> None:
    every = core.list_namespaced_config_map("istio-system").items
    assert {c.metadata.name for c in every} == {"istio", "istio-ca-root-cert"}
    [mesh] = core.list_namespaced_config_map("istio-system", field_selector="metadata.name=istio").items
    assert "rootNamespace: istio-system" in mesh.data["mesh"]
    assert "enablePrometheusMerge: true" in mesh.data["mesh"]


def test_request_authentication_is_served_and_validated(custom: client.CustomObjectsApi) -> None:
    body: dict[str, Any] = {
        "apiVersion": "security.istio.io/v1",
        "kind": "RequestAuthentication",
        "metadata": {"name": "jwt", "namespace": "bookinfo"},
        "spec": {
            "selector": {"matchLabels": {"app": "productpage"}},
            "jwtRules": [{"issuer": "testing@secure.istio.io", "jwksUri": "https://example.com/jwks.json"}],
        },
    }
    custom.create_namespaced_custom_object("security.istio.io", "v1", "bookinfo", "requestauthentications", body)
    listed = custom.list_cluster_custom_object("security.istio.io", "v1", "requestauthentications")["items"]
    assert [o["metadata"]["name"] for o in listed] == ["jwt"]
    body["metadata"]["name"] = "bad"
    body["spec"]["jwtRules"] = [{"issuer": "testing@secure.istio.io", "jwksUri": "ftp://example.com/jwks.json"}]
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object("security.istio.io", "v1", "bookinfo", "requestauthentications", body)
    assert caught.value.status == 422
    assert "url must have scheme http:// or https://" in json.loads(caught.value.body)["message"]


def _http_route(name: str, backend: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GATEWAY_API}/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "bookinfo"},
        "spec": {"parentRefs": [{"name": "bookinfo-gateway"}], "rules": [{"backendRefs": [backend]}]},
    }


def test_gateway_api_objects_are_validated_against_their_schema(custom: client.CustomObjectsApi) -> None:
    gateway: dict[str, Any] = {
        "apiVersion": f"{GATEWAY_API}/v1",
        "kind": "Gateway",
        "metadata": {"name": "bookinfo-gateway", "namespace": "bookinfo"},
        "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
    }
    custom.create_namespaced_custom_object(GATEWAY_API, "v1", "bookinfo", "gateways", gateway)
    custom.create_namespaced_custom_object(
        GATEWAY_API, "v1", "bookinfo", "httproutes", _http_route("ok", {"name": "productpage", "port": 9080})
    )
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object(
            GATEWAY_API, "v1", "bookinfo", "httproutes", _http_route("no-port", {"name": "productpage"})
        )
    status = json.loads(caught.value.body)
    assert caught.value.status == 422
    assert status["message"].startswith('HTTPRoute.gateway.networking.k8s.io "no-port" is invalid: ')
    assert status["details"]["causes"][0]["field"] == "spec.rules[0].backendRefs[0]"
    assert "Must have port for Service reference" in status["message"]
    gateway["metadata"]["name"] = "no-class"
    del gateway["spec"]["gatewayClassName"]
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object(GATEWAY_API, "v1", "bookinfo", "gateways", gateway)
    assert json.loads(caught.value.body)["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.gatewayClassName"}
    ]
    # Istio's Gateway and the Gateway API's Gateway are different resources of one name.
    istio_gateways = custom.list_cluster_custom_object("networking.istio.io", "v1", "gateways")["items"]
    k8s_gateways = custom.list_cluster_custom_object(GATEWAY_API, "v1", "gateways")["items"]
    assert [g["metadata"]["name"] for g in istio_gateways] == ["bookinfo-gateway"]
    assert [(g["kind"], g["apiVersion"]) for g in k8s_gateways] == [("Gateway", f"{GATEWAY_API}/v1")]


def test_a_cluster_without_the_gateway_api_crds_answers_404() -> None:
    simulator = Simulator(gateway_api=False).start(port=0)
    try:
        configuration = client.Configuration(host=simulator.url)
        with client.ApiClient(configuration) as bare:
            custom = client.CustomObjectsApi(bare)
            with pytest.raises(ApiException) as caught:
                custom.list_cluster_custom_object(GATEWAY_API, "v1", "httproutes")
            assert caught.value.status == 404
            assert json.loads(caught.value.body)["message"] == "the server could not find the requested resource"
            groups = {g.name for g in client.ApisApi(bare).get_api_versions().groups}
            assert "networking.istio.io" in groups and GATEWAY_API not in groups
        simulator.install_crds(GATEWAY_API)
        with client.ApiClient(configuration) as bare:
            assert (
                client.CustomObjectsApi(bare).list_cluster_custom_object(GATEWAY_API, "v1", "httproutes")["items"] == []
            )
    finally:
        simulator.stop()
