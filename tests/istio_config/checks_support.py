"""Literal inventories for the configuration-check tests: the Bookinfo application and its samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from istio_config.checks import ConfigInventory, Finding, IstioConfig, NamespaceInfo, ServiceInfo, WorkloadInfo

BOOKINFO_NETWORKING = Path(__file__).resolve().parent.parent / "data" / "istio" / "bookinfo"

# Bookinfo's services and workloads as samples/bookinfo/platform/kube deploys them (with the optional ratings
# versions and databases the routing tasks add), plus Istio's ingress gateway.
BOOKINFO_WORKLOADS = {
    "productpage": ["v1"],
    "reviews": ["v1", "v2", "v3"],
    "ratings": ["v1", "v2", "v2-mysql", "v2-mysql-vm"],
    "details": ["v1", "v2"],
    "mongodb": ["v1"],
    "mysqldb": ["v1"],
}


def bookinfo_inventory(istio_objects: list[IstioConfig], namespace: str = "bookinfo") -> ConfigInventory:
    """Bookinfo deployed in ``namespace`` with Istio in ``istio-system``, and the given Istio objects."""
    services = [
        ServiceInfo(namespace, app, ({"name": "http", "port": 9080},), {"app": app}, {"app": app})
        for app in BOOKINFO_WORKLOADS
    ]
    services.append(ServiceInfo("istio-system", "istio-ingressgateway", (), {"istio": "ingressgateway"}))
    workloads = [
        WorkloadInfo(namespace, f"{app}-{version}", {"app": app, "version": version}, True)
        for app, versions in BOOKINFO_WORKLOADS.items()
        for version in versions
    ]
    workloads.append(
        WorkloadInfo("istio-system", "istio-ingressgateway", {"app": "istio-ingressgateway", "istio": "ingressgateway"})
    )
    return ConfigInventory(
        namespaces=(NamespaceInfo("default"), NamespaceInfo("istio-system"), NamespaceInfo(namespace, "enabled")),
        services=tuple(services),
        workloads=tuple(workloads),
        istio_objects=tuple(istio_objects),
    )


def read_sample(filename: str, namespace: str = "bookinfo") -> list[IstioConfig]:
    """The Istio objects of one Bookinfo networking sample, in ``namespace`` unless the file names one."""
    docs: list[dict[str, Any]] = [
        d for d in yaml.safe_load_all((BOOKINFO_NETWORKING / filename).read_text()) if d is not None
    ]
    return [
        IstioConfig(
            kind=d["kind"],
            namespace=d["metadata"].get("namespace", namespace),
            name=d["metadata"]["name"],
            spec=d.get("spec", {}),
        )
        for d in docs
    ]


def obj(kind: str, name: str, spec: dict[str, Any], namespace: str = "bookinfo") -> IstioConfig:
    return IstioConfig(kind=kind, namespace=namespace, name=name, spec=spec)


def codes_at(findings: list[Finding]) -> list[tuple[str, str, str]]:
    """Each finding as (code, object name, path), for compact assertions."""
    return [(f.code, f.name, f.path) for f in findings]


def peer_authentication(
    name: str,
    mode: str | None,
    namespace: str = "bookinfo",
    selector: dict[str, str] | None = None,
    port_level: dict[int, str] | None = None,
) -> IstioConfig:
    """A PeerAuthentication with ``mtls.mode`` (no ``mtls`` when None), an optional selector and port-level modes."""
    spec: dict[str, Any] = {}
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if port_level:
        spec["portLevelMtls"] = {str(port): {"mode": m} for port, m in port_level.items()}
    return obj("PeerAuthentication", name, spec, namespace)


def destination_rule_tls(name: str, host: str, mode: str, namespace: str = "bookinfo") -> IstioConfig:
    """A DestinationRule whose traffic policy sets ``tls.mode``."""
    return obj("DestinationRule", name, {"host": host, "trafficPolicy": {"tls": {"mode": mode}}}, namespace)
