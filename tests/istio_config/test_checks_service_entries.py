"""ServiceEntry checks: each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from typing import Any

from istio_config.checks import IstioConfig, Severity, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


def entry(name: str, ports: list[dict[str, Any]], namespace: str = "bookinfo", **spec: Any) -> IstioConfig:
    return obj(
        "ServiceEntry", name, {"hosts": ["api.example.com"], "ports": ports, "resolution": "DNS", **spec}, namespace
    )


def test_port_name_that_does_not_follow_its_protocol() -> None:
    findings = check_config(bookinfo_inventory([entry("api", [{"number": 443, "name": "web", "protocol": "HTTPS"}])]))
    assert codes_at(findings) == [("KIA0601", "api", "spec.ports[0].name")]
    assert (findings[0].severity, findings[0].istio_code) == (Severity.ERROR, "")
    assert (
        check_config(bookinfo_inventory([entry("api", [{"number": 443, "name": "https-web", "protocol": "HTTPS"}])]))
        == []
    )


def test_tcp_port_without_addresses() -> None:
    tcp = [{"number": 5432, "name": "db", "protocol": "TCP"}]
    findings = check_config(bookinfo_inventory([entry("db", tcp)]))
    assert [(f.code, f.istio_code, f.path) for f in findings] == [("MUI1201", "IST0134", "spec.ports[0]")]
    assert check_config(bookinfo_inventory([entry("db", tcp, addresses=["10.0.0.5"])])) == []
    # A port without protocol is TCP to Istio.
    assert codes_at(check_config(bookinfo_inventory([entry("db", [{"number": 5432, "name": "db"}])]))) == [
        ("MUI1201", "db", "spec.ports[0]")
    ]


def test_two_entries_for_one_host_and_port() -> None:
    https = [{"number": 443, "name": "https", "protocol": "HTTPS"}]
    findings = check_config(bookinfo_inventory([entry("a", https), entry("b", https, "default")]))
    assert codes_at(findings) == [("KIA1211", "a", "spec.ports[0]"), ("KIA1211", "b", "spec.ports[0]")]
    assert findings[0].severity == Severity.WARNING
    other_port = [{"number": 8443, "name": "https", "protocol": "HTTPS"}]
    assert check_config(bookinfo_inventory([entry("a", https), entry("b", other_port, "default")])) == []


def test_two_entries_for_one_host_and_port_with_different_protocols() -> None:
    https = [{"number": 443, "name": "https", "protocol": "HTTPS"}]
    tls = [{"number": 443, "name": "tls", "protocol": "TLS"}]
    findings = check_config(bookinfo_inventory([entry("a", https), entry("b", tls, "default")]))
    assert {f.code for f in findings} == {"KIA1212"}


def test_entries_that_no_namespace_sees_together_do_not_conflict() -> None:
    https = [{"number": 443, "name": "https", "protocol": "HTTPS"}]
    private_a = entry("a", https, exportTo=["."])
    private_b = entry("b", https, "default", exportTo=["."])
    assert check_config(bookinfo_inventory([private_a, private_b])) == []
    assert {f.code for f in check_config(bookinfo_inventory([private_a, entry("b", https, "default")]))} == {"KIA1211"}
