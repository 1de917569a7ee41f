"""Checks of Gateways: a selector that selects no workload, two Gateways claiming the same host and port on
the same workloads (Kiali's ``business/checkers/gateways``, ``istioctl analyze``'s gateway analyzers), and a
server's TLS credential that names no Secret (``istioctl analyze``'s ``gateway.SecretAnalyzer``).

Istio looks the gateway workload up in every namespace unless ``PILOT_SCOPE_GATEWAY_TO_NAMESPACE`` is set, so the
selector check searches every namespace by default; ``scope_to_namespace=True`` limits it to the Gateway's own.
A server's ``credentialName`` is a Secret in the namespace of the gateway *workload* (not of the Gateway object),
which is where the selected gateway deployment reads it from.
"""

from __future__ import annotations

from collections import defaultdict

from istio_config.checks import codes
from istio_config.checks.hosts import host_matches, labels_select
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, WorkloadInfo, mappings_of


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


def _selected_workloads(
    inventory: ConfigInventory, gateway: IstioConfig, scope_to_namespace: bool
) -> list[WorkloadInfo]:
    selector = _selector(gateway)
    if not selector:
        return []
    return [
        w
        for w in inventory.workloads
        if labels_select(selector, w.template_labels) and (not scope_to_namespace or w.namespace == gateway.namespace)
    ]


def _credential_names(tls: dict[str, object]) -> list[tuple[str, str]]:
    """(path suffix, Secret name) of each credential a server's ``tls`` names: ``credentialName`` and the newer
    ``credentialNames`` list; a ``kubernetes://`` prefix, as SDS writes them, is dropped."""
    names = []
    if tls.get("credentialName"):
        names.append(("tls.credentialName", str(tls["credentialName"])))
    listed = tls.get("credentialNames")
    for index, name in enumerate(listed if isinstance(listed, list) else ()):
        if name:
            names.append((f"tls.credentialNames[{index}]", str(name)))
    return [(path, name.removeprefix("kubernetes://")) for path, name in names]


def check_gateway_credentials(inventory: ConfigInventory, scope_to_namespace: bool = False) -> list[Finding]:
    """MUI0301 (IST0101): a server's TLS credential that is not a Secret in its gateway workloads' namespace.

    Silent where Secrets are not readable (``inventory.secrets`` is None) and for Gateways that select no workload
    (KIA0302 reports those). As ``istioctl``, a name ``namespace/name`` names a Secret in that namespace.
    """
    if inventory.secrets is None:
        return []
    secrets = {(s.namespace, s.name) for s in inventory.secrets}
    findings = []
    # Most Gateways share a few selectors: find each (selector, scope)'s workload namespaces once.
    workload_namespaces: dict[tuple[str, str], list[str]] = {}
    for gateway in inventory.of_kind("Gateway"):
        key = (_selector_text(_selector(gateway)), gateway.namespace if scope_to_namespace else "")
        if key not in workload_namespaces:
            selected = _selected_workloads(inventory, gateway, scope_to_namespace)
            workload_namespaces[key] = sorted({w.namespace for w in selected})
        namespaces = workload_namespaces[key]
        if not namespaces:
            continue
        for index, server in enumerate(mappings_of(gateway.spec.get("servers"))):
            tls = server.get("tls")
            if not isinstance(tls, dict):
                continue
            for suffix, name in _credential_names(tls):
                owner, _, short_name = name.rpartition("/")
                wanted = [(owner, short_name)] if owner else [(namespace, name) for namespace in namespaces]
                missing = [f"{ns}/{secret}" for ns, secret in wanted if (ns, secret) not in secrets]
                if missing:
                    findings.append(
                        codes.make_finding(
                            codes.GW_CREDENTIAL_NOT_FOUND,
                            gateway,
                            f"spec.servers[{index}].{suffix}",
                            ", ".join(missing),
                        )
                    )
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
