"""Kiali's configuration checks of workloads and services, reported on the ``Workload`` or ``Service`` itself:
a pod without sidecar in a namespace with injection (MUI1302/IST0103), a mesh workload missing ``app``/``version``
labels (MUI1303/MUI1304, Kiali's workload warnings), two Services selecting one mesh workload that use one port with
different protocols (MUI1305/IST0116) or one targetPort for different ports (MUI1306/IST0137), and a mesh Service
port whose name or ``appProtocol`` names no protocol (KIA0601/KIA0602).

The control plane is exempt (istiod, the gateways and the addons run no sidecar and follow no naming rule): the
mesh's root namespace and ``istio-system``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from istio_config.checks import codes
from istio_config.checks.hosts import labels_select
from istio_config.checks.model import ConfigInventory, Finding, NamespaceInfo, PodInfo, ServiceInfo, WorkloadInfo
from istio_config.checks.ports import (
    PORT_PROTOCOLS,
    app_protocol_known,
    name_names_protocol,
    service_port_names_protocol,
)

CONTROL_PLANE_NAMESPACE = "istio-system"
APP_LABELS = ("app", "app.kubernetes.io/name")
VERSION_LABELS = ("version", "app.kubernetes.io/version")
INJECT_LABEL = "sidecar.istio.io/inject"
LABELS_PATH = "spec.template.metadata.labels"
CONTAINERS_PATH = "spec.template.spec.containers"
#: Port protocols Istio does not proxy, whose names do not matter.
UNPROXIED_PROTOCOLS = ("UDP", "SCTP")


def injection_enabled(namespace: NamespaceInfo | None) -> bool:
    """Whether a namespace's labels ask for sidecar injection (``istio-injection=enabled`` or a revision)."""
    return namespace is not None and (namespace.injection == "enabled" or namespace.injection.startswith("rev:"))


def control_plane_namespaces(inventory: ConfigInventory) -> frozenset[str]:
    """The namespaces exempt from the sidecar and naming checks."""
    return frozenset({inventory.mesh.root_namespace, CONTROL_PLANE_NAMESPACE})


class WorkloadChecker:
    """Runs every workload and service check over one inventory."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.inventory = inventory
        self.exempt = control_plane_namespaces(inventory)
        self.namespaces = {ns.name: ns for ns in inventory.namespaces}
        self.pods_by_workload: dict[tuple[str, str], list[PodInfo]] = defaultdict(list)
        self.bare_pods: list[PodInfo] = []
        for pod in inventory.pods:
            if pod.workload_name:
                self.pods_by_workload[(pod.namespace, pod.workload_name)].append(pod)
            else:
                self.bare_pods.append(pod)
        self.workloads_by_namespace: dict[str, list[WorkloadInfo]] = defaultdict(list)
        for workload in inventory.workloads:
            self.workloads_by_namespace[workload.namespace].append(workload)
        self.services_by_namespace: dict[str, list[ServiceInfo]] = defaultdict(list)
        #: Each selecting Service's ports as (number, protocol, targetPort), worked out once.
        self.port_protocols: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
        for service in inventory.services:
            if service.selector:
                self.services_by_namespace[service.namespace].append(service)
                self.port_protocols[(service.namespace, service.name)] = [
                    (port["port"], port_protocol(port), str(port.get("targetPort", port["port"])))
                    for port in service.ports
                    if isinstance(port.get("port"), int)
                ]

    def in_mesh(self, workload: WorkloadInfo) -> bool:
        """Whether a workload is meant to be in the mesh: it runs a sidecar or its namespace injects one."""
        return workload.sidecar_present or (
            injection_enabled(self.namespaces.get(workload.namespace))
            and workload.template_labels.get(INJECT_LABEL) != "false"
        )

    def check(self) -> list[Finding]:
        findings: list[Finding] = []
        for workload in self.inventory.workloads:
            if workload.namespace in self.exempt:
                continue
            findings += self.check_sidecar(workload)
            if self.in_mesh(workload):
                findings += self.check_labels(workload)
                findings += self.check_service_ports(workload)
        for pod in self.bare_pods:
            if pod.namespace not in self.exempt and not pod.sidecar and self.injects(pod.namespace, pod.labels):
                findings.append(
                    codes.make_object_finding(
                        codes.WORKLOAD_MISSING_SIDECAR, "Pod", pod.namespace, pod.name, "spec.containers", pod.name
                    )
                )
        for service in self.inventory.services:
            if service.namespace not in self.exempt and self.service_in_mesh(service):
                findings += self.check_port_names(service)
        return findings

    def injects(self, namespace: str, labels: Mapping[str, str]) -> bool:
        return injection_enabled(self.namespaces.get(namespace)) and labels.get(INJECT_LABEL) != "false"

    def check_sidecar(self, workload: WorkloadInfo) -> list[Finding]:
        """MUI1302: pods of the workload run without ``istio-proxy`` although their namespace injects it (they
        started before injection was enabled, or injection failed); a workload with no pods is not judged."""
        if not self.injects(workload.namespace, workload.template_labels):
            return []
        pods = self.pods_by_workload.get((workload.namespace, workload.name), [])
        missing = sorted(pod.name for pod in pods if not pod.sidecar)
        if not missing:
            return []
        detail = f"{len(missing)} of {len(pods)} pods ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})"
        return [self.finding(codes.WORKLOAD_MISSING_SIDECAR, workload, CONTAINERS_PATH, detail)]

    def check_labels(self, workload: WorkloadInfo) -> list[Finding]:
        """MUI1303/MUI1304: a mesh workload's pods carry no ``app`` (or ``app.kubernetes.io/name``) or no
        ``version`` (or ``app.kubernetes.io/version``) label, which Istio's telemetry and Kiali's graph group by."""
        findings = []
        labels = workload.template_labels
        if not any(labels.get(key) for key in APP_LABELS):
            findings.append(self.finding(codes.WORKLOAD_MISSING_APP_LABEL, workload, LABELS_PATH))
        if not any(labels.get(key) for key in VERSION_LABELS):
            findings.append(self.finding(codes.WORKLOAD_MISSING_VERSION_LABEL, workload, LABELS_PATH))
        return findings

    def check_service_ports(self, workload: WorkloadInfo) -> list[Finding]:
        """MUI1305 (IST0116): the Services selecting the workload give one port number different protocols;
        MUI1306 (IST0137): they map one targetPort to different port numbers."""
        protocols: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        ports_by_target: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        for service in self.services_by_namespace.get(workload.namespace, ()):
            if not labels_select(service.selector, workload.template_labels):
                continue
            for number, protocol, target in self.port_protocols[(service.namespace, service.name)]:
                protocols[number][protocol].add(service.name)
                ports_by_target[target][number].add(service.name)
        findings = []
        for number, by_protocol in sorted(protocols.items()):
            if len(by_protocol) > 1:
                detail = f"port {number}: " + ", ".join(
                    f"{protocol} ({', '.join(sorted(names))})" for protocol, names in sorted(by_protocol.items())
                )
                findings.append(self.finding(codes.WORKLOAD_PORT_PROTOCOL_CONFLICT, workload, LABELS_PATH, detail))
        for target, by_port in sorted(ports_by_target.items()):
            if len(by_port) > 1:
                detail = f"targetPort {target}: " + ", ".join(
                    f"{number} ({', '.join(sorted(names))})" for number, names in sorted(by_port.items())
                )
                findings.append(self.finding(codes.WORKLOAD_TARGET_PORT_CONFLICT, workload, LABELS_PATH, detail))
        return findings

    def service_in_mesh(self, service: ServiceInfo) -> bool:
        """Whether a Service selects workloads or pods that run a sidecar (Kiali checks port names only then)."""
        if not service.selector:
            return False
        return any(
            w.sidecar_present and labels_select(service.selector, w.template_labels)
            for w in self.workloads_by_namespace.get(service.namespace, ())
        ) or any(
            p.sidecar and p.namespace == service.namespace and labels_select(service.selector, p.labels)
            for p in self.bare_pods
        )

    def check_port_names(self, service: ServiceInfo) -> list[Finding]:
        """KIA0602: an ``appProtocol`` Istio does not know; KIA0601: without ``appProtocol``, a port name that is not
        ``<protocol>[-suffix]`` (UDP and SCTP ports are not proxied and are skipped)."""
        findings = []
        for index, port in enumerate(service.ports):
            if str(port.get("protocol", "TCP")).upper() in UNPROXIED_PROTOCOLS:
                continue
            app_protocol = port.get("appProtocol")
            name = str(port.get("name", ""))
            if app_protocol:
                if not app_protocol_known(str(app_protocol)):
                    findings.append(
                        codes.make_object_finding(
                            codes.PORT_APP_PROTOCOL_MISMATCH,
                            "Service",
                            service.namespace,
                            service.name,
                            f"spec.ports[{index}].appProtocol",
                            str(app_protocol),
                        )
                    )
            elif not service_port_names_protocol(name):
                findings.append(
                    codes.make_object_finding(
                        codes.PORT_NAME_MISMATCH,
                        "Service",
                        service.namespace,
                        service.name,
                        f"spec.ports[{index}].name",
                        name or f"(unnamed port {port.get('port')})",
                    )
                )
        return findings

    def finding(self, check: codes.CheckCode, workload: WorkloadInfo, path: str, detail: str = "") -> Finding:
        return codes.make_object_finding(check, "Workload", workload.namespace, workload.name, path, detail)


def port_protocol(port: Mapping[str, Any]) -> str:
    """The protocol Istio gives a Service port: its ``appProtocol``, else the protocol its name names, else
    ``auto`` (sniffed)."""
    if app_protocol := port.get("appProtocol"):
        return str(app_protocol).lower()
    name = str(port.get("name", ""))
    # The longest protocol first, so that http2-foo is http2 and grpc-web is not grpc.
    for protocol in sorted(PORT_PROTOCOLS, key=len, reverse=True):
        if name_names_protocol(name, protocol):
            return protocol
    return "auto"
