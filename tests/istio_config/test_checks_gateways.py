"""Gateway checks: each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from istio_config.checks import IstioConfig, Severity, WorkloadInfo, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


def gateway(name: str, selector: dict[str, str], port: int = 80, hosts: tuple[str, ...] = ("*",)) -> IstioConfig:
    server: dict[str, Any] = {"port": {"number": port, "name": "http", "protocol": "HTTP"}, "hosts": list(hosts)}
    return obj("Gateway", name, {"selector": selector, "servers": [server]})


def test_selector_that_selects_no_workload() -> None:
    findings = check_config(bookinfo_inventory([gateway("gw", {"istio": "egressgateway"})]))
    assert codes_at(findings) == [("KIA0302", "gw", "spec.selector")]
    assert (findings[0].severity, findings[0].istio_code) == (Severity.WARNING, "IST0101")
    assert codes_at(check_config(bookinfo_inventory([gateway("gw", {"istio": "ingressgateway"})]))) == []


def test_selector_looks_in_every_namespace_unless_scoped() -> None:
    # The ingress gateway runs in istio-system; the Gateway lives in bookinfo.
    inventory = bookinfo_inventory([gateway("gw", {"istio": "ingressgateway"})])
    assert check_config(inventory) == []
    assert codes_at(check_config(inventory, scope_gateway_to_namespace=True)) == [("KIA0302", "gw", "spec.selector")]


def test_two_gateways_claiming_one_host_and_port() -> None:
    selector = {"istio": "ingressgateway"}
    first = gateway("shop", selector, 80, ("shop.example.com",))
    same = gateway("shop-2", selector, 80, ("bookinfo/shop.example.com",))
    findings = check_config(bookinfo_inventory([first, same]))
    assert codes_at(findings) == [("KIA0301", "shop", "spec.servers[0]"), ("KIA0301", "shop-2", "spec.servers[0]")]
    assert findings[0].istio_code == "IST0145"
    other_port = gateway("shop-2", selector, 443, ("shop.example.com",))
    other_host = gateway("shop-2", selector, 80, ("api.example.com",))
    assert check_config(bookinfo_inventory([first, other_port])) == []
    assert check_config(bookinfo_inventory([first, other_host])) == []


def test_same_host_and_port_on_other_gateway_workloads_is_no_conflict() -> None:
    workloads = (*bookinfo_inventory([]).workloads, WorkloadInfo("istio-system", "internal", {"istio": "internal"}))
    first = gateway("shop", {"istio": "ingressgateway"}, 80, ("shop.example.com",))
    internal = gateway("shop-internal", {"istio": "internal"}, 80, ("shop.example.com",))
    inventory = replace(bookinfo_inventory([first, internal]), workloads=workloads)
    assert check_config(inventory) == []


def test_wildcard_server_host_overlaps() -> None:
    selector = {"istio": "ingressgateway"}
    objects = [gateway("shop", selector, 80, ("shop.example.com",)), gateway("all", selector, 80, ("*.example.com",))]
    assert codes_at(check_config(bookinfo_inventory(objects))) == [
        ("KIA0301", "all", "spec.servers[0]"),
        ("KIA0301", "shop", "spec.servers[0]"),
    ]
