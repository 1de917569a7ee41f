"""AuthorizationPolicy checks: each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from istio_config.checks import IstioConfig, MeshConfig, Severity, check_config
from tests.istio_config.checks_support import (
    bookinfo_inventory,
    codes_at,
    destination_rule_tls,
    obj,
    peer_authentication,
)


def policy(
    rules: list[dict[str, Any]], selector: dict[str, str] | None = None, namespace: str = "bookinfo"
) -> IstioConfig:
    spec: dict[str, Any] = {"action": "ALLOW", "rules": rules}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    return obj("AuthorizationPolicy", "policy", spec, namespace)


def test_selector_that_selects_no_workload() -> None:
    findings = check_config(bookinfo_inventory([policy([{}], {"app": "bogus-label"})]))
    assert [(f.code, f.istio_code, f.path) for f in findings] == [("KIA0004", "IST0127", "spec.selector.matchLabels")]
    assert check_config(bookinfo_inventory([policy([{}], {"app": "reviews"})])) == []


def test_root_namespace_policy_selects_in_every_namespace() -> None:
    assert check_config(bookinfo_inventory([policy([{}], {"app": "reviews"}, "istio-system")])) == []
    assert codes_at(check_config(bookinfo_inventory([policy([{}], {"app": "reviews"}, "default")]))) == [
        ("KIA0004", "policy", "spec.selector.matchLabels")
    ]


def test_source_namespace_that_does_not_exist() -> None:
    rule = {"from": [{"source": {"namespaces": ["bookinfo", "bookinfoo"]}}]}
    findings = check_config(bookinfo_inventory([policy([rule])]))
    assert codes_at(findings) == [("KIA0101", "policy", "spec.rules[0].from[0].source.namespaces[1]")]
    assert findings[0].severity == Severity.WARNING
    prefix = {"from": [{"source": {"namespaces": ["bookinfo", "book*"]}}]}
    assert check_config(bookinfo_inventory([policy([prefix])])) == []


def test_method_that_is_neither_http_nor_grpc() -> None:
    rule = {"to": [{"operation": {"methods": ["GET", "FETCH", "/bookinfo.Reviews/List"]}}]}
    assert codes_at(check_config(bookinfo_inventory([policy([rule])]))) == [
        ("KIA0102", "policy", "spec.rules[0].to[0].operation.methods[1]")
    ]
    fixed = {"to": [{"operation": {"methods": ["GET", "post", "/bookinfo.Reviews/List"]}}]}
    assert check_config(bookinfo_inventory([policy([fixed])])) == []


def test_host_that_the_registry_does_not_know() -> None:
    rule = {"to": [{"operation": {"hosts": ["reveiws.bookinfo.svc.cluster.local"]}}]}
    findings = check_config(bookinfo_inventory([policy([rule])]))
    assert codes_at(findings) == [("KIA0104", "policy", "spec.rules[0].to[0].operation.hosts[0]")]
    known = [
        "reviews",
        "reviews:9080",
        "reviews.bookinfo",
        "reviews.bookinfo.svc",
        "reviews.bookinfo.svc.cluster.local",
    ]
    assert check_config(bookinfo_inventory([policy([{"to": [{"operation": {"hosts": known}}]}])])) == []


def test_host_routed_by_a_virtual_service_is_known() -> None:
    rule = {"to": [{"operation": {"hosts": ["bookinfo.example.com"]}}]}
    vs = obj("VirtualService", "front", {"hosts": ["bookinfo.example.com"], "gateways": ["mesh"], "http": [
        {"route": [{"destination": {"host": "productpage"}}]}
    ]})  # fmt: skip
    assert codes_at(check_config(bookinfo_inventory([policy([rule])])))[0][0] == "KIA0104"
    assert check_config(bookinfo_inventory([policy([rule]), vs])) == []


def test_source_identity_on_workloads_that_receive_plain_text() -> None:
    rule = {"from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/productpage"]}}]}
    plain = peer_authentication("plain", "DISABLE", selector={"app": "reviews"})
    findings = check_config(bookinfo_inventory([policy([rule], {"app": "reviews"}), plain]))
    assert codes_at([f for f in findings if f.kind == "AuthorizationPolicy"]) == [
        ("KIA0105", "policy", "spec.rules[0].from[0].source.principals")
    ]
    assert findings[0].severity == Severity.ERROR
    # The same policy on workloads the DISABLE policy does not select.
    assert check_config(bookinfo_inventory([policy([rule], {"app": "ratings"}), plain])) == []


def test_source_condition_on_a_namespace_without_mtls() -> None:
    rule = {"when": [{"key": "source.namespace", "values": ["bookinfo"]}]}
    assert codes_at(check_config(bookinfo_inventory([policy([rule]), peer_authentication("default", "DISABLE")]))) == [
        ("KIA0105", "policy", "spec.rules[0].when[0]")
    ]
    assert check_config(bookinfo_inventory([policy([rule]), peer_authentication("default", "PERMISSIVE")])) == []


def test_without_automatic_mtls_a_rule_must_send_mtls() -> None:
    rule = {"from": [{"source": {"namespaces": ["bookinfo"]}}]}
    manual = replace(bookinfo_inventory([policy([rule])]), mesh=MeshConfig(enable_auto_mtls=False))
    assert codes_at(check_config(manual)) == [("KIA0105", "policy", "spec.rules[0].from[0].source.namespaces")]
    with_rule = replace(
        manual,
        istio_objects=(
            *manual.istio_objects,
            destination_rule_tls("m", "*.local", "ISTIO_MUTUAL", "istio-system"),
            peer_authentication("default", "STRICT", "istio-system"),
        ),
    )
    assert check_config(with_rule) == []
