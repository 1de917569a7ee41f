"""Checks of Sidecar resources (Kiali's ``business/checkers/sidecars``, ``istioctl analyze``'s sidecar analyzers): a
workload selector selecting nothing (KIA0004), two Sidecars for one workload or two without selector in a namespace
(KIA0003/IST0110, KIA0002/IST0111), a selector on the root namespace's global default (KIA1006), and an egress host
the registry does not know (KIA1004).
"""

from __future__ import annotations

from istio_config.checks import codes
from istio_config.checks.hosts import HostRegistry, resolve_host
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, mappings_of
from istio_config.checks.workload_selectors import (
    WorkloadIndex,
    check_multi_match,
    check_selector_not_found,
    selector_of,
    selector_path,
)

#: Egress host namespaces that do not name one namespace: any, none but the sidecar's ("."), and "~" (none).
NAMESPACE_WILDCARDS = ("*", ".", "~")


def check_sidecars(inventory: ConfigInventory, index: WorkloadIndex, registry: HostRegistry) -> list[Finding]:
    """Every Sidecar check over one inventory."""
    sidecars = inventory.of_kind("Sidecar")
    root = inventory.mesh.root_namespace
    findings = check_selector_not_found(sidecars, index)
    findings += check_multi_match(sidecars, index, ("IST0111", "IST0110"))
    findings += [
        codes.make_finding(codes.SIDECAR_GLOBAL_SELECTOR, sidecar, selector_path(sidecar.kind).rpartition(".")[0])
        for sidecar in sidecars
        if sidecar.namespace == root and selector_of(sidecar)
    ]
    for sidecar in sidecars:
        findings += check_egress_hosts(sidecar, registry)
    return findings


def check_egress_hosts(sidecar: IstioConfig, registry: HostRegistry) -> list[Finding]:
    """KIA1004: an egress ``namespace/dnsName`` host whose name no Service or visible ServiceEntry declares.
    ``*/*``-style and ``namespace/*`` hosts always import something; a name written in a named namespace must be a
    Service of that namespace (or any ServiceEntry host), since Sidecars import by namespace."""
    findings = []
    for egress_index, egress in enumerate(mappings_of(sidecar.spec.get("egress"))):
        for host_index, host in enumerate(egress.get("hosts") or ()):
            namespace, slash, dns_name = str(host).partition("/")
            if not slash or dns_name == "*":
                continue  # the schema requires namespace/dnsName; "ns/*" imports the whole namespace
            base = sidecar.namespace if namespace in NAMESPACE_WILDCARDS else namespace
            fqdn = resolve_host(dns_name, base, registry.domain_suffix)
            service = registry.services_by_fqdn.get(fqdn)
            if service is not None:
                found = namespace in NAMESPACE_WILDCARDS or service.namespace == namespace
            else:
                found = registry.has_host(fqdn, sidecar.namespace)
            if not found:
                findings.append(
                    codes.make_finding(
                        codes.SIDECAR_EGRESS_HOST_NOT_FOUND,
                        sidecar,
                        f"spec.egress[{egress_index}].hosts[{host_index}]",
                        str(host),
                    )
                )
    return findings
