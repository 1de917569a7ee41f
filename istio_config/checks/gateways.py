"""Checks of Gateways: a selector that selects no workload, and two Gateways claiming the same host and port on
the same workloads (Kiali's ``business/checkers/gateways``, ``istioctl analyze``'s gateway analyzers).

Istio looks the gateway workload up in every namespace unless ``PILOT_SCOPE_GATEWAY_TO_NAMESPACE`` is set, so the
selector check searches every namespace by default; ``scope_to_namespace=True`` limits it to the Gateway's own.
"""

from __future__ import annotations

from collections import defaultdict

from istio_config.checks import codes
from istio_config.checks.hosts import host_matches, labels_select
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, mappings_of


def _selector(gateway: IstioConfig) -> dict[str, str]:
    selector = gateway.spec.get("selector")
    return {str(k): str(v) for k, v in selector.items()} if isinstance(selector, dict) else {}


def _selector_text(selector: dict[str, str]) -> str:
    """``key=value,...`` in key order: the same text for the same selector, however it was written."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _host_name(host: str) -> str:
    """A Gateway server host without its optional ``namespace/`` prefix."""
    return host.rpartition("/")[2]


def check_gateway_selectors(inventory: ConfigInventory, scope_to_namespace: bool = False) -> list[Finding]:
    """KIA0302 (IST0101): a Gateway whose selector selects no workload."""
    findings = []
    # Most Gateways share a few selectors (istio=ingressgateway): look each (selector, scope) up once.
    selects_something: dict[tuple[str, str], bool] = {}
    for gateway in inventory.of_kind("Gateway"):
        selector = _selector(gateway)
        if not selector:
            continue
        detail = _selector_text(selector)
        key = (detail, gateway.namespace if scope_to_namespace else "")
        if key not in selects_something:
            selects_something[key] = any(
                labels_select(selector, w.template_labels)
                for w in inventory.workloads
                if not scope_to_namespace or w.namespace == gateway.namespace
            )
        if not selects_something[key]:
            findings.append(codes.make_finding(codes.GW_SELECTOR_NOT_FOUND, gateway, "spec.selector", detail))
    return findings


def check_gateway_multi_match(inventory: ConfigInventory) -> list[Finding]:
    """KIA0301 (IST0145): two Gateways with the same selector claiming an overlapping host on the same port."""
    claims: dict[tuple[str, int], list[tuple[IstioConfig, int, str]]] = defaultdict(list)
    for gateway in inventory.of_kind("Gateway"):
        selector_key = _selector_text(_selector(gateway))
        for index, server in enumerate(mappings_of(gateway.spec.get("servers"))):
            port = server.get("port")
            number = port.get("number") if isinstance(port, dict) else None
            if not isinstance(number, int):
                continue
            for host in server.get("hosts") or ():
                claims[(selector_key, number)].append((gateway, index, _host_name(str(host))))
    flagged: dict[tuple[str, str, int], tuple[IstioConfig, int, str]] = {}
    for (_selector_key, number), entries in claims.items():
        for i, (first, first_index, first_host) in enumerate(entries):
            for second, second_index, second_host in entries[i + 1 :]:
                if (first.namespace, first.name) == (second.namespace, second.name):
                    continue
                if host_matches(first_host, second_host):
                    flagged[(first.namespace, first.name, first_index)] = (first, number, first_host)
                    flagged[(second.namespace, second.name, second_index)] = (second, number, second_host)
    return [
        codes.make_finding(codes.GW_MULTI_MATCH, gateway, f"spec.servers[{index}]", f"{host}:{number}")
        for (_, _, index), (gateway, number, host) in flagged.items()
    ]
