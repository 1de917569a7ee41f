"""The selector checks PeerAuthentications, Sidecars and AuthorizationPolicies share (KIA0002, KIA0003, KIA0004):
each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from istio_config.checks import IstioConfig, PodInfo, Severity, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj, peer_authentication


def sidecar(name: str, labels: dict[str, str] | None = None, namespace: str = "bookinfo") -> IstioConfig:
    spec: dict[str, Any] = {"egress": [{"hosts": ["./*", "istio-system/*"]}]}
    if labels:
        spec["workloadSelector"] = {"labels": labels}
    return obj("Sidecar", name, spec, namespace)


def test_peer_authentication_selector_that_selects_no_workload() -> None:
    findings = check_config(bookinfo_inventory([peer_authentication("pa", "STRICT", selector={"app": "reveiws"})]))
    assert codes_at(findings) == [("KIA0004", "pa", "spec.selector.matchLabels")]
    assert findings[0].severity == Severity.WARNING
    assert "app=reveiws in namespace bookinfo" in findings[0].message
    assert check_config(bookinfo_inventory([peer_authentication("pa", "STRICT", selector={"app": "reviews"})])) == []


def test_selector_looks_only_in_the_objects_namespace() -> None:
    # reviews runs in bookinfo, not in default.
    elsewhere = peer_authentication("pa", "STRICT", "default", selector={"app": "reviews"})
    assert codes_at(check_config(bookinfo_inventory([elsewhere]))) == [("KIA0004", "pa", "spec.selector.matchLabels")]


def test_selector_matches_a_pod_that_no_workload_owns() -> None:
    policy = peer_authentication("pa", "STRICT", selector={"app": "debug"})
    inventory = bookinfo_inventory([policy])
    assert codes_at(check_config(inventory)) == [("KIA0004", "pa", "spec.selector.matchLabels")]
    pod = PodInfo("bookinfo", "debug", {"app": "debug", "version": "v1"}, "", True)
    assert check_config(replace(inventory, pods=(pod,))) == []


def test_two_selectorless_policies_in_one_namespace() -> None:
    first, second = peer_authentication("a", "STRICT"), peer_authentication("b", "PERMISSIVE")
    findings = check_config(bookinfo_inventory([first, second]))
    assert codes_at(findings) == [("KIA0002", "a", "spec.selector"), ("KIA0002", "b", "spec.selector")]
    assert findings[0].severity == Severity.ERROR
    assert check_config(bookinfo_inventory([first, peer_authentication("b", "PERMISSIVE", "default")])) == []


def test_two_policies_selecting_one_workload() -> None:
    by_app = peer_authentication("by-app", "STRICT", selector={"app": "reviews"})
    by_version = peer_authentication("by-version", "PERMISSIVE", selector={"version": "v1", "app": "reviews"})
    findings = check_config(bookinfo_inventory([by_app, by_version]))
    assert codes_at(findings) == [("KIA0003", "by-app", "spec.selector"), ("KIA0003", "by-version", "spec.selector")]
    assert "reviews-v1" in findings[0].message
    other_app = peer_authentication("by-version", "PERMISSIVE", selector={"app": "ratings"})
    assert check_config(bookinfo_inventory([by_app, other_app])) == []


def test_sidecar_multi_match_carries_istioctls_codes() -> None:
    findings = check_config(bookinfo_inventory([sidecar("a"), sidecar("b")]))
    assert [(f.code, f.istio_code, f.path) for f in findings] == [
        ("KIA0002", "IST0111", "spec.workloadSelector"),
        ("KIA0002", "IST0111", "spec.workloadSelector"),
    ]
    findings = check_config(bookinfo_inventory([sidecar("a", {"app": "reviews"}), sidecar("b", {"version": "v2"})]))
    assert {(f.code, f.istio_code) for f in findings} == {("KIA0003", "IST0110")}
    assert "reviews-v2" in findings[0].message
    assert check_config(bookinfo_inventory([sidecar("a", {"app": "reviews"}), sidecar("b", {"app": "ratings"})])) == []


def test_sidecar_selector_that_selects_no_workload() -> None:
    findings = check_config(bookinfo_inventory([sidecar("a", {"app": "reveiws"})]))
    assert codes_at(findings) == [("KIA0004", "a", "spec.workloadSelector.labels")]
    assert check_config(bookinfo_inventory([sidecar("a", {"app": "reviews"})])) == []
