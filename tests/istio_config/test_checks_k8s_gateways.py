"""Gateway API checks (Kiali's k8sgateways, k8shttproutes, k8sgrpcroutes, k8sreferencegrants checkers, and the
references Istio reports in status): each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from istio_config.checks import ConfigInventory, IstioConfig, NamespaceInfo, Severity, check_config
from istio_config.checks.model import SecretInfo
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


def k8s_gateway(name: str, listeners: list[dict[str, Any]], namespace: str = "bookinfo", **spec: Any) -> IstioConfig:
    return obj("K8sGateway", name, {"gatewayClassName": "istio", "listeners": listeners, **spec}, namespace)


def listener(name: str = "http", hostname: str | None = "shop.example.com", port: int = 80, **extra: Any) -> dict:
    entry: dict[str, Any] = {"name": name, "port": port, "protocol": "HTTP", **extra}
    if hostname is not None:
        entry["hostname"] = hostname
    return entry


def route(
    name: str, parent: dict[str, Any], backend: dict[str, Any] | None = None, kind: str = "K8sHTTPRoute"
) -> IstioConfig:
    backend = backend or {"name": "productpage", "port": 9080}
    return obj(kind, name, {"parentRefs": [parent], "rules": [{"backendRefs": [backend]}]})


def grant(namespace: str, from_kind: str, from_namespace: str, to_kind: str, to_name: str = "") -> IstioConfig:
    target: dict[str, Any] = {"group": "", "kind": to_kind}
    if to_name:
        target["name"] = to_name
    source = {"group": "gateway.networking.k8s.io", "kind": from_kind, "namespace": from_namespace}
    return obj("K8sReferenceGrant", f"allow-{from_namespace}", {"from": [source], "to": [target]}, namespace)


def with_namespaces(inventory: ConfigInventory, *extra: NamespaceInfo) -> ConfigInventory:
    return replace(inventory, namespaces=(*inventory.namespaces, *extra))


def test_route_to_a_missing_gateway() -> None:
    gateway = k8s_gateway("bookinfo-gateway", [listener()])
    for kind in ("K8sHTTPRoute", "K8sGRPCRoute"):
        broken = route("bookinfo", {"name": "bookinfo-gatewya"}, kind=kind)
        findings = check_config(bookinfo_inventory([gateway, broken]))
        assert codes_at(findings) == [("KIA1401", "bookinfo", "spec.parentRefs[0].name")]
        assert findings[0].severity == Severity.ERROR and findings[0].kind == kind
        fixed = route("bookinfo", {"name": "bookinfo-gateway"}, kind=kind)
        assert check_config(bookinfo_inventory([gateway, fixed])) == []


def test_route_to_an_istio_gateway_of_that_name_still_finds_no_k8s_gateway() -> None:
    istio_gateway = obj("Gateway", "bookinfo-gateway", {"selector": {"istio": "ingressgateway"}, "servers": []})
    broken = route("bookinfo", {"name": "bookinfo-gateway"})
    assert codes_at(check_config(bookinfo_inventory([istio_gateway, broken]))) == [
        ("KIA1401", "bookinfo", "spec.parentRefs[0].name")
    ]


def test_route_to_a_gateway_in_another_namespace_needs_the_gateway_to_admit_it() -> None:
    parent = {"name": "shared", "namespace": "istio-system"}
    same_only = k8s_gateway("shared", [listener(hostname=None)], namespace="istio-system")
    findings = check_config(bookinfo_inventory([same_only, route("bookinfo", parent)]))
    assert codes_at(findings) == [("KIA1401", "bookinfo", "spec.parentRefs[0].name")]
    admits_all = listener(hostname=None, allowedRoutes={"namespaces": {"from": "All"}})
    gateway = k8s_gateway("shared", [admits_all], namespace="istio-system")
    assert check_config(bookinfo_inventory([gateway, route("bookinfo", parent)])) == []


def test_gateway_admitting_routes_by_namespace_selector() -> None:
    selected = {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"shared-gateway-access": "true"}}}}
    gateway = k8s_gateway("shared", [listener(hostname=None, allowedRoutes=selected)], namespace="istio-system")
    objects = [gateway, route("bookinfo", {"name": "shared", "namespace": "istio-system"})]
    unlabelled = bookinfo_inventory(objects)
    assert codes_at(check_config(unlabelled)) == [("KIA1401", "bookinfo", "spec.parentRefs[0].name")]
    labelled = replace(
        unlabelled,
        namespaces=tuple(
            replace(ns, labels={"shared-gateway-access": "true"}) if ns.name == "bookinfo" else ns
            for ns in unlabelled.namespaces
        ),
    )
    assert check_config(labelled) == []


def test_route_backend_service_not_found() -> None:
    gateway = k8s_gateway("gw", [listener()])
    for kind in ("K8sHTTPRoute", "K8sGRPCRoute"):
        broken = route("r", {"name": "gw"}, {"name": "reveiws", "port": 9080}, kind=kind)
        assert codes_at(check_config(bookinfo_inventory([gateway, broken]))) == [
            ("KIA1402", "r", "spec.rules[0].backendRefs[0].name")
        ]
        fixed = route("r", {"name": "gw"}, {"name": "reviews", "port": 9080}, kind=kind)
        assert check_config(bookinfo_inventory([gateway, fixed])) == []
    # Backends of other kinds are not Services: not checked.
    other = route("r", {"name": "gw"}, {"group": "multicluster.x-k8s.io", "kind": "ServiceImport", "name": "x"})
    assert check_config(bookinfo_inventory([gateway, other])) == []


def test_cross_namespace_backend_needs_a_reference_grant() -> None:
    gateway = k8s_gateway("gw", [listener()])
    backend = {"name": "istio-ingressgateway", "namespace": "istio-system", "port": 80}
    objects = [gateway, route("r", {"name": "gw"}, backend)]
    assert codes_at(check_config(bookinfo_inventory(objects))) == [
        ("MUI1401", "r", "spec.rules[0].backendRefs[0].namespace")
    ]
    allowed = grant("istio-system", "HTTPRoute", "bookinfo", "Service")
    assert check_config(bookinfo_inventory([*objects, allowed])) == []
    # A grant for GRPCRoutes, or one in the route's own namespace, does not allow an HTTPRoute.
    for wrong in (
        grant("istio-system", "GRPCRoute", "bookinfo", "Service"),
        grant("bookinfo", "HTTPRoute", "bookinfo", "Service"),
    ):
        assert [f.code for f in check_config(bookinfo_inventory([*objects, wrong]))] == ["MUI1401"]


def test_two_gateways_with_the_same_listener() -> None:
    first = k8s_gateway("shop", [listener()])
    same = k8s_gateway("shop-2", [listener()])
    findings = check_config(bookinfo_inventory([first, same]))
    assert codes_at(findings) == [
        ("KIA1501", "shop", "spec.listeners[0].hostname"),
        ("KIA1501", "shop-2", "spec.listeners[0].hostname"),
    ]
    assert findings[0].severity == Severity.WARNING
    other_port = k8s_gateway("shop-2", [listener(port=8080)])
    no_hostname = k8s_gateway("shop-2", [listener(hostname=None)])
    assert check_config(bookinfo_inventory([first, other_port])) == []
    assert check_config(bookinfo_inventory([first, no_hostname])) == []


def test_two_gateways_asking_for_the_same_address() -> None:
    first = k8s_gateway("shop", [listener(hostname="a.example.com")], addresses=[{"value": "10.0.0.1"}])
    same = k8s_gateway(
        "shop-2", [listener(hostname="b.example.com")], addresses=[{"type": "IPAddress", "value": "10.0.0.1"}]
    )
    assert codes_at(check_config(bookinfo_inventory([first, same]))) == [
        ("KIA1502", "shop", "spec.addresses[0].value"),
        ("KIA1502", "shop-2", "spec.addresses[0].value"),
    ]
    other = k8s_gateway("shop-2", [listener(hostname="b.example.com")], addresses=[{"value": "10.0.0.2"}])
    assert check_config(bookinfo_inventory([first, other])) == []


def test_listeners_of_one_gateway_must_be_unique() -> None:
    twice = k8s_gateway("shop", [listener("http"), listener("http-2")])
    findings = check_config(bookinfo_inventory([twice]))
    assert codes_at(findings) == [
        ("KIA1503", "shop", "spec.listeners[0].name"),
        ("KIA1503", "shop", "spec.listeners[1].name"),
    ]
    assert findings[0].severity == Severity.ERROR
    distinct = k8s_gateway("shop", [listener("http"), listener("http-2", hostname="api.example.com")])
    assert check_config(bookinfo_inventory([distinct])) == []


def _https_listener(ref: dict[str, Any]) -> dict[str, Any]:
    return listener("https", port=443, protocol="HTTPS", tls={"mode": "Terminate", "certificateRefs": [ref]})


def test_certificate_secret_not_found_where_secrets_are_readable() -> None:
    gateway = k8s_gateway("shop", [_https_listener({"name": "shop-cert"})])
    inventory = replace(bookinfo_inventory([gateway]), secrets=(SecretInfo("bookinfo", "other-cert"),))
    assert codes_at(check_config(inventory)) == [("MUI1501", "shop", "spec.listeners[0].tls.certificateRefs[0].name")]
    present = replace(inventory, secrets=(SecretInfo("bookinfo", "shop-cert"),))
    assert check_config(present) == []
    unreadable = replace(inventory, secrets=None)
    assert check_config(unreadable) == []


def test_cross_namespace_certificate_needs_a_reference_grant() -> None:
    gateway = k8s_gateway("shop", [_https_listener({"name": "shop-cert", "namespace": "istio-system"})])
    secrets = (SecretInfo("istio-system", "shop-cert"),)
    inventory = replace(bookinfo_inventory([gateway]), secrets=secrets)
    assert codes_at(check_config(inventory)) == [
        ("MUI1502", "shop", "spec.listeners[0].tls.certificateRefs[0].namespace")
    ]
    allowed = grant("istio-system", "Gateway", "bookinfo", "Secret", to_name="shop-cert")
    assert check_config(replace(inventory, istio_objects=(gateway, allowed))) == []
    other_name = grant("istio-system", "Gateway", "bookinfo", "Secret", to_name="other-cert")
    assert [f.code for f in check_config(replace(inventory, istio_objects=(gateway, other_name)))] == ["MUI1502"]


def test_reference_grant_from_a_missing_namespace() -> None:
    typo = grant("istio-system", "HTTPRoute", "bookinfo-typo", "Service")
    findings = check_config(bookinfo_inventory([typo]))
    assert codes_at(findings) == [("KIA1601", "allow-bookinfo-typo", "spec.from[0].namespace")]
    assert findings[0].kind == "K8sReferenceGrant"
    assert check_config(bookinfo_inventory([grant("istio-system", "HTTPRoute", "bookinfo", "Service")])) == []
    added = with_namespaces(bookinfo_inventory([typo]), NamespaceInfo("bookinfo-typo"))
    assert check_config(added) == []
