"""Checks of ServiceEntries (Kiali's ``business/checkers/serviceentries``, ``istioctl analyze``'s serviceentry
analyzers): a port name that does not start with its protocol (KIA0601), a TCP port with no addresses (IST0134), and
two ServiceEntries visible from one namespace declaring the same host and port (KIA1211), with different protocols
(KIA1212).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from istio_config.checks import codes
from istio_config.checks.hosts import export_scope
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, mappings_of
from istio_config.checks.ports import port_name_matches_protocol

EVERY_NAMESPACE = "*"


def check_service_entries(inventory: ConfigInventory) -> list[Finding]:
    """Every ServiceEntry check over one inventory."""
    entries = inventory.of_kind("ServiceEntry")
    findings: list[Finding] = []
    for entry in entries:
        findings += check_port_names(entry)
        findings += check_addresses(entry)
    findings += check_multi_match(entries)
    return findings


def check_port_names(entry: IstioConfig) -> list[Finding]:
    """KIA0601: a port whose name does not follow ``<protocol>[-suffix]`` for its declared protocol (TCP and UDP
    ports may have any name)."""
    # istioctl's IST0118 concerns Kubernetes Service ports only: a ServiceEntry port declares its protocol.
    return [
        replace(
            codes.make_finding(codes.PORT_NAME_MISMATCH, entry, f"spec.ports[{index}].name", str(port.get("name", ""))),
            istio_code="",
        )
        for index, port in enumerate(mappings_of(entry.spec.get("ports")))
        if not port_name_matches_protocol(str(port.get("name", "")), str(port.get("protocol", "")))
    ]


def check_addresses(entry: IstioConfig) -> list[Finding]:
    """IST0134: a ServiceEntry without ``addresses`` serving a TCP (or protocol-less) port: sidecars cannot tell its
    traffic apart from other TCP traffic on that port. Istio can allocate addresses itself (DNS proxying with
    auto-allocation, or the ServiceEntry's status), which the inventory does not show."""
    if entry.spec.get("addresses"):
        return []
    return [
        codes.make_finding(codes.SE_ADDRESSES_REQUIRED, entry, f"spec.ports[{index}]", str(port.get("number", "")))
        for index, port in enumerate(mappings_of(entry.spec.get("ports")))
        if str(port.get("protocol") or "TCP").upper() == "TCP"
    ]


def check_multi_match(entries: list[IstioConfig]) -> list[Finding]:
    """KIA1211/KIA1212: ServiceEntries that some namespace sees together declaring the same host and port number."""
    index: dict[tuple[str, str, int], list[tuple[IstioConfig, int, str]]] = defaultdict(list)
    for entry in entries:
        scope = export_scope(entry.spec.get("exportTo"), entry.namespace)
        scopes = (EVERY_NAMESPACE,) if scope is None else tuple(scope)
        for port_index, port in enumerate(mappings_of(entry.spec.get("ports"))):
            number = port.get("number")
            if not isinstance(number, int):
                continue
            for host in entry.spec.get("hosts") or ():
                for namespace in scopes:
                    index[(namespace, str(host), number)].append(
                        (entry, port_index, str(port.get("protocol", "")).upper())
                    )
    flagged: dict[tuple[str, str, int], tuple[IstioConfig, int, str, bool]] = {}
    for (namespace, host, number), claims in index.items():
        if namespace != EVERY_NAMESPACE:
            claims = claims + index.get((EVERY_NAMESPACE, host, number), [])
        distinct = {(entry.namespace, entry.name) for entry, _, _ in claims}
        if len(distinct) < 2:
            continue
        conflict = len({protocol for _, _, protocol in claims}) > 1
        for entry, port_index, _ in claims:
            key = (entry.namespace, entry.name, port_index)
            previous = flagged.get(key)
            flagged[key] = (entry, port_index, f"{host}:{number}", conflict or (previous is not None and previous[3]))
    return [
        codes.make_finding(
            codes.SE_PROTOCOL_CONFLICT if conflict else codes.SE_MULTI_MATCH, entry, f"spec.ports[{port_index}]", detail
        )
        for entry, port_index, detail, conflict in flagged.values()
    ]
