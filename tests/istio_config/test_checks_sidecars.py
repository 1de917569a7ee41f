"""Sidecar checks: each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from typing import Any

from istio_config.checks import IstioConfig, Severity, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


def sidecar(hosts: list[str], namespace: str = "bookinfo", labels: dict[str, str] | None = None) -> IstioConfig:
    spec: dict[str, Any] = {"egress": [{"hosts": hosts}]}
    if labels:
        spec["workloadSelector"] = {"labels": labels}
    return obj("Sidecar", "default", spec, namespace)


def test_global_default_sidecar_with_a_selector() -> None:
    labelled = sidecar(["*/*"], "istio-system", {"istio": "ingressgateway"})
    findings = check_config(bookinfo_inventory([labelled]))
    assert codes_at(findings) == [("KIA1006", "default", "spec.workloadSelector")]
    assert findings[0].severity == Severity.WARNING
    assert check_config(bookinfo_inventory([sidecar(["*/*"], "istio-system")])) == []
    # The same selector outside the root namespace is an ordinary workload Sidecar.
    assert check_config(bookinfo_inventory([sidecar(["*/*"], "bookinfo", {"app": "reviews"})])) == []


def test_egress_host_that_the_registry_does_not_know() -> None:
    findings = check_config(bookinfo_inventory([sidecar(["./reveiws.bookinfo.svc.cluster.local"])]))
    assert codes_at(findings) == [("KIA1004", "default", "spec.egress[0].hosts[0]")]
    assert findings[0].severity == Severity.WARNING
    assert check_config(bookinfo_inventory([sidecar(["./reviews.bookinfo.svc.cluster.local"])])) == []


def test_egress_host_must_live_in_the_namespace_it_names() -> None:
    assert codes_at(check_config(bookinfo_inventory([sidecar(["default/reviews.bookinfo.svc.cluster.local"])]))) == [
        ("KIA1004", "default", "spec.egress[0].hosts[0]")
    ]
    assert check_config(bookinfo_inventory([sidecar(["bookinfo/reviews.bookinfo.svc.cluster.local"])])) == []


def test_namespace_wildcards_and_service_entry_hosts_are_found() -> None:
    entry = obj("ServiceEntry", "google", {"hosts": ["www.googleapis.com"], "ports": [
        {"number": 443, "name": "https", "protocol": "HTTPS"}
    ], "resolution": "DNS"})  # fmt: skip
    hosts = ["*/*", "~/*", "istio-system/*", "*/www.googleapis.com", "./*.bookinfo.svc.cluster.local"]
    assert check_config(bookinfo_inventory([entry, sidecar(hosts)])) == []
    assert codes_at(check_config(bookinfo_inventory([sidecar(hosts)]))) == [
        ("KIA1004", "default", "spec.egress[0].hosts[3]")
    ]
