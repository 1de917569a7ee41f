"""Gateway TLS credentials (``istioctl analyze``'s gateway.SecretAnalyzer): each case that triggers the check beside
a near-identical case that does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from istio_config.checks import ConfigInventory, IstioConfig, Severity, WorkloadInfo, check_config
from istio_config.checks.model import SecretInfo
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


def https_gateway(tls: dict[str, Any], selector: dict[str, str] | None = None) -> IstioConfig:
    server = {
        "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
        "hosts": ["bookinfo.example.com"],
        "tls": tls,
    }
    return obj(
        "Gateway", "bookinfo-gateway", {"selector": selector or {"istio": "ingressgateway"}, "servers": [server]}
    )


def with_secrets(gateway: IstioConfig, *secrets: tuple[str, str]) -> ConfigInventory:
    return replace(bookinfo_inventory([gateway]), secrets=tuple(SecretInfo(ns, name) for ns, name in secrets))


SIMPLE = {"mode": "SIMPLE", "credentialName": "bookinfo-credential"}


def test_credential_missing_from_the_gateway_workloads_namespace() -> None:
    findings = check_config(with_secrets(https_gateway(SIMPLE), ("istio-system", "istio-ca-secret")))
    assert codes_at(findings) == [("MUI0301", "bookinfo-gateway", "spec.servers[0].tls.credentialName")]
    assert (findings[0].severity, findings[0].istio_code) == (Severity.ERROR, "IST0101")
    assert findings[0].message.endswith(": istio-system/bookinfo-credential")
    assert check_config(with_secrets(https_gateway(SIMPLE), ("istio-system", "bookinfo-credential"))) == []


def test_a_secret_beside_the_gateway_object_is_not_where_the_workload_reads_it() -> None:
    # The Gateway lives in bookinfo, its workload (the ingress gateway) in istio-system.
    findings = check_config(with_secrets(https_gateway(SIMPLE), ("bookinfo", "bookinfo-credential")))
    assert [f.code for f in findings] == ["MUI0301"]


def test_silent_when_secrets_are_not_readable() -> None:
    inventory = bookinfo_inventory([https_gateway(SIMPLE)])
    assert inventory.secrets is None
    assert check_config(inventory) == []
    assert [f.code for f in check_config(replace(inventory, secrets=()))] == ["MUI0301"]


def test_silent_for_a_gateway_that_selects_no_workload() -> None:
    gateway = https_gateway(SIMPLE, selector={"istio": "egressgateway"})
    assert [f.code for f in check_config(with_secrets(gateway))] == ["KIA0302"]


def test_credential_names_list_and_namespaced_names() -> None:
    listed = https_gateway({"mode": "SIMPLE", "credentialNames": ["rsa-cert", "ecdsa-cert"]})
    findings = check_config(with_secrets(listed, ("istio-system", "rsa-cert")))
    assert codes_at(findings) == [("MUI0301", "bookinfo-gateway", "spec.servers[0].tls.credentialNames[1]")]
    assert check_config(with_secrets(listed, ("istio-system", "rsa-cert"), ("istio-system", "ecdsa-cert"))) == []
    namespaced = https_gateway({"mode": "SIMPLE", "credentialName": "certs/bookinfo-credential"})
    assert [f.code for f in check_config(with_secrets(namespaced, ("istio-system", "bookinfo-credential")))] == [
        "MUI0301"
    ]
    assert check_config(with_secrets(namespaced, ("certs", "bookinfo-credential"))) == []


def test_every_namespace_running_the_gateway_needs_the_credential() -> None:
    gateway = https_gateway(SIMPLE)
    second = WorkloadInfo("ingress-b", "ingressgateway", {"istio": "ingressgateway"})
    inventory = with_secrets(gateway, ("istio-system", "bookinfo-credential"))
    inventory = replace(inventory, workloads=(*inventory.workloads, second))
    findings = check_config(inventory)
    assert [f.code for f in findings] == ["MUI0301"] and findings[0].message.endswith(": ingress-b/bookinfo-credential")
    both = replace(inventory, secrets=(*(inventory.secrets or ()), SecretInfo("ingress-b", "bookinfo-credential")))
    assert check_config(both) == []


def test_a_server_without_tls_credentials_is_not_checked() -> None:
    assert check_config(with_secrets(https_gateway({"mode": "PASSTHROUGH"}))) == []
