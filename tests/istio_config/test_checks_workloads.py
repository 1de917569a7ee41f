"""Workload and service checks, reported on the Workload, Pod or Service: each case that triggers a check beside a
near-identical case that does not. The control plane is exempt."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from istio_config.checks import (
    ConfigInventory,
    Finding,
    NamespaceInfo,
    PodInfo,
    ServiceInfo,
    Severity,
    WorkloadInfo,
    check_config,
)
from tests.istio_config.checks_support import bookinfo_inventory


def at(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.code, f.kind, f.name, f.path) for f in findings]


def with_pods(inventory: ConfigInventory, *pods: PodInfo) -> ConfigInventory:
    return replace(inventory, pods=(*inventory.pods, *pods))


def pod(name: str, workload: str, sidecar: bool, namespace: str = "bookinfo") -> PodInfo:
    return PodInfo(namespace, name, {"app": workload.rsplit("-", 1)[0]}, workload, sidecar)


def test_pod_without_sidecar_in_an_injected_namespace() -> None:
    inventory = with_pods(
        bookinfo_inventory([]), pod("reviews-v1-abc", "reviews-v1", False), pod("reviews-v1-def", "reviews-v1", True)
    )
    findings = check_config(inventory)
    assert at(findings) == [("MUI1302", "Workload", "reviews-v1", "spec.template.spec.containers")]
    assert (findings[0].severity, findings[0].istio_code) == (Severity.WARNING, "IST0103")
    assert "1 of 2 pods (reviews-v1-abc)" in findings[0].message
    healthy = with_pods(bookinfo_inventory([]), pod("reviews-v1-abc", "reviews-v1", True))
    assert check_config(healthy) == []


def test_pod_without_sidecar_outside_injected_namespaces_or_opted_out_is_fine() -> None:
    plain_namespace = replace(
        bookinfo_inventory([]), namespaces=(NamespaceInfo("bookinfo", "disabled"), NamespaceInfo("istio-system"))
    )
    assert check_config(with_pods(plain_namespace, pod("reviews-v1-abc", "reviews-v1", False))) == []
    inventory = bookinfo_inventory([])
    opted_out = WorkloadInfo(
        "bookinfo", "batch-v1", {"app": "batch", "version": "v1", "sidecar.istio.io/inject": "false"}
    )
    inventory = replace(inventory, workloads=(*inventory.workloads, opted_out))
    assert check_config(with_pods(inventory, pod("batch-v1-abc", "batch-v1", False))) == []


def test_revision_label_counts_as_injection_and_bare_pods_are_checked() -> None:
    inventory = replace(
        bookinfo_inventory([]), namespaces=(NamespaceInfo("bookinfo", "rev:canary"), NamespaceInfo("istio-system"))
    )
    bare = PodInfo("bookinfo", "debug", {"app": "debug", "version": "v1"}, "", False)
    assert at(check_config(with_pods(inventory, bare))) == [("MUI1302", "Pod", "debug", "spec.containers")]
    assert check_config(with_pods(inventory, replace(bare, sidecar=True))) == []


def test_control_plane_is_exempt_from_the_sidecar_and_label_checks() -> None:
    inventory = replace(
        bookinfo_inventory([]),
        namespaces=(NamespaceInfo("bookinfo", "enabled"), NamespaceInfo("istio-system", "enabled")),
    )
    istiod = WorkloadInfo("istio-system", "istiod", {"app": "istiod"})
    inventory = replace(inventory, workloads=(*inventory.workloads, istiod))
    assert check_config(with_pods(inventory, pod("istiod-abc", "istiod", False, "istio-system"))) == []
    # The same workload in an ordinary injected namespace is flagged for the sidecar and its version label.
    moved = replace(istiod, namespace="bookinfo")
    inventory = replace(inventory, workloads=(*inventory.workloads, moved))
    assert at(check_config(with_pods(inventory, pod("istiod-abc", "istiod", False)))) == [
        ("MUI1304", "Workload", "istiod", "spec.template.metadata.labels"),
        ("MUI1302", "Workload", "istiod", "spec.template.spec.containers"),
    ]


def test_mesh_workload_missing_app_and_version_labels() -> None:
    inventory = bookinfo_inventory([])
    bare = WorkloadInfo("bookinfo", "cache", {"tier": "cache"}, True)
    findings = check_config(replace(inventory, workloads=(*inventory.workloads, bare)))
    assert at(findings) == [
        ("MUI1303", "Workload", "cache", "spec.template.metadata.labels"),
        ("MUI1304", "Workload", "cache", "spec.template.metadata.labels"),
    ]
    labelled = WorkloadInfo(
        "bookinfo", "cache", {"app.kubernetes.io/name": "cache", "app.kubernetes.io/version": "1.2"}, True
    )
    assert check_config(replace(inventory, workloads=(*inventory.workloads, labelled))) == []
    outside = WorkloadInfo("default", "cache", {"tier": "cache"})
    assert check_config(replace(inventory, workloads=(*inventory.workloads, outside))) == []


def service(name: str, ports: list[dict[str, Any]], app: str = "reviews") -> ServiceInfo:
    return ServiceInfo("bookinfo", name, tuple(ports), {"app": app}, {"app": app})


def test_service_port_without_protocol_prefix_or_app_protocol() -> None:
    inventory = bookinfo_inventory([])
    bad = service(
        "reviews-admin", [{"name": "web", "port": 8080}, {"name": "metrics", "port": 9090, "protocol": "UDP"}]
    )
    findings = check_config(replace(inventory, services=(*inventory.services, bad)))
    assert at(findings) == [("KIA0601", "Service", "reviews-admin", "spec.ports[0].name")]
    assert findings[0].severity == Severity.ERROR
    for fixed in ({"name": "http-web", "port": 8080}, {"name": "web", "port": 8080, "appProtocol": "http"}):
        good = service("reviews-admin", [fixed])
        assert check_config(replace(inventory, services=(*inventory.services, good))) == []


def test_service_port_with_an_unknown_app_protocol() -> None:
    inventory = bookinfo_inventory([])
    bad = service("reviews-admin", [{"name": "http", "port": 8080, "appProtocol": "web"}])
    assert at(check_config(replace(inventory, services=(*inventory.services, bad)))) == [
        ("KIA0602", "Service", "reviews-admin", "spec.ports[0].appProtocol")
    ]
    h2c = service("reviews-admin", [{"name": "grpc", "port": 8080, "appProtocol": "kubernetes.io/h2c"}])
    assert check_config(replace(inventory, services=(*inventory.services, h2c))) == []


def test_port_names_of_services_outside_the_mesh_are_not_judged() -> None:
    inventory = bookinfo_inventory([])
    unmeshed = WorkloadInfo("default", "legacy-v1", {"app": "legacy", "version": "v1"})
    legacy = ServiceInfo("default", "legacy", ({"name": "web", "port": 80},), {"app": "legacy"})
    assert (
        check_config(
            replace(inventory, workloads=(*inventory.workloads, unmeshed), services=(*inventory.services, legacy))
        )
        == []
    )
    meshed = replace(unmeshed, sidecar_present=True)
    assert at(
        check_config(
            replace(inventory, workloads=(*inventory.workloads, meshed), services=(*inventory.services, legacy))
        )
    ) == [("KIA0601", "Service", "legacy", "spec.ports[0].name")]


def test_two_services_give_one_port_different_protocols() -> None:
    inventory = bookinfo_inventory([])
    tcp = service("reviews-tcp", [{"name": "tcp", "port": 9080}])
    findings = check_config(replace(inventory, services=(*inventory.services, tcp)))
    assert [(f.code, f.istio_code, f.name) for f in findings] == [
        ("MUI1305", "IST0116", name) for name in ("reviews-v1", "reviews-v2", "reviews-v3")
    ]
    assert "port 9080: http (reviews), tcp (reviews-tcp)" in findings[0].message
    same = service("reviews-alias", [{"name": "http-alias", "port": 9080}])
    assert check_config(replace(inventory, services=(*inventory.services, same))) == []


def test_two_services_map_one_target_port_to_different_ports() -> None:
    inventory = bookinfo_inventory([])
    other = service("reviews-80", [{"name": "http", "port": 80, "targetPort": 9080}])
    findings = check_config(replace(inventory, services=(*inventory.services, other)))
    assert {(f.code, f.istio_code) for f in findings} == {("MUI1306", "IST0137")}
    assert len(findings) == 3
    assert "targetPort 9080: 80 (reviews-80), 9080 (reviews)" in findings[0].message
    distinct = service("reviews-80", [{"name": "http", "port": 80, "targetPort": 8080}])
    assert check_config(replace(inventory, services=(*inventory.services, distinct))) == []
