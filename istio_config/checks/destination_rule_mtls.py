"""mTLS checks of DestinationRules (Kiali's ``business/checkers/destinationrules`` mTLS checkers, and the
DestinationRule/PeerAuthentication conflict ``istioctl analyze`` once reported as IST0113).

Kiali's checks read the mesh-wide (``*.local``) and namespace-wide (``*.<ns>.svc.cluster.local``) rules against the
selector-less PeerAuthentications of the mesh and the namespace: KIA0205/KIA0206 a rule sending Istio mTLS with no
policy accepting it, KIA0207/KIA0208 a rule disabling TLS while a policy requires strict mTLS, KIA0204 a rule that
sets no TLS for a host a wider rule sends mTLS to (the most specific rule wins whole, so the wider TLS is lost).
mesh-ui adds the per-workload conflict (MUI0210/MUI0211): a rule's mode (per port where it sets one) against the mode
each workload behind the host receives with, workload- and port-level PeerAuthentications included.
"""

from __future__ import annotations

from collections import defaultdict

from istio_config.checks import codes
from istio_config.checks.hosts import HostRegistry, host_matches, resolve_host
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, ServiceInfo
from istio_config.checks.mtls import (
    DISABLE,
    ISTIO_MUTUAL,
    STRICT,
    PeerAuthentications,
    WideRules,
    enabling,
    has_tls_settings,
    rule_port_tls_modes,
    rule_tls_mode,
)

TLS_MODE_PATH = "spec.trafficPolicy.tls.mode"


class DestinationRuleMtlsChecker:
    """Runs every mTLS check of DestinationRules over one inventory."""

    def __init__(self, inventory: ConfigInventory, registry: HostRegistry, peers: PeerAuthentications) -> None:
        self.inventory = inventory
        self.registry = registry
        self.peers = peers
        self.wide = WideRules(inventory)
        self.rules = inventory.of_kind("DestinationRule")
        self.hosts = {
            (rule.namespace, rule.name): resolve_host(
                str(rule.spec.get("host", "")), rule.namespace, registry.domain_suffix
            )
            for rule in self.rules
        }

    def check(self) -> list[Finding]:
        findings: list[Finding] = []
        mutual_wide_rules = [
            rule
            for rule in self.rules
            if rule_tls_mode(rule) == ISTIO_MUTUAL
            and (self.wide.mesh_wide_mode(rule) is not None or self.wide.namespace_wide_mode(rule) is not None)
        ]
        for rule in self.rules:
            findings += self.check_wide_rule(rule)
            findings += self.check_overridden(rule, mutual_wide_rules)
        findings += self.check_workload_conflicts()
        return findings

    def check_wide_rule(self, rule: IstioConfig) -> list[Finding]:
        """KIA0205-KIA0208 on a mesh-wide or namespace-wide rule."""
        mesh_modes = self.wide.mesh_policy_modes()
        if (mode := self.wide.mesh_wide_mode(rule)) is not None:
            if mode == ISTIO_MUTUAL and not any(enabling(m) for m in mesh_modes):
                return [codes.make_finding(codes.DR_MESH_POLICY_MISSING, rule, TLS_MODE_PATH)]
            if mode == DISABLE and STRICT in mesh_modes:
                return [codes.make_finding(codes.DR_MESH_POLICY_STRICT, rule, TLS_MODE_PATH, "mesh-wide")]
            return []
        if (mode := self.wide.namespace_wide_mode(rule)) is None:
            return []
        namespace_modes = self.wide.namespace_policy_modes.get(rule.namespace, [])
        if mode == ISTIO_MUTUAL and not any(enabling(m) for m in (*namespace_modes, *mesh_modes)):
            return [codes.make_finding(codes.DR_NAMESPACE_POLICY_MISSING, rule, TLS_MODE_PATH, rule.namespace)]
        if mode == DISABLE:
            if STRICT in namespace_modes:
                return [codes.make_finding(codes.DR_NAMESPACE_POLICY_STRICT, rule, TLS_MODE_PATH, rule.namespace)]
            if not any(enabling(m) or m == DISABLE for m in namespace_modes) and STRICT in mesh_modes:
                return [codes.make_finding(codes.DR_MESH_POLICY_STRICT, rule, TLS_MODE_PATH, "mesh-wide")]
        return []

    def check_overridden(self, rule: IstioConfig, mutual_wide_rules: list[IstioConfig]) -> list[Finding]:
        """KIA0204: ``rule`` sets no TLS for a host that a wider mesh- or namespace-wide rule sends mTLS to."""
        if has_tls_settings(rule):
            return []
        host = self.hosts[(rule.namespace, rule.name)]
        wider = sorted(
            f"{other.namespace}/{other.name}"
            for other in mutual_wide_rules
            if other is not rule
            and (other_host := str(other.spec.get("host", ""))) != host
            and host_matches(other_host, host)
            and len(other_host) < len(host)
        )
        if not wider:
            return []
        return [codes.make_finding(codes.DR_MTLS_OVERRIDDEN, rule, "spec.trafficPolicy", ", ".join(wider))]

    def covered_services(self) -> dict[tuple[str, str], list[ServiceInfo]]:
        """The Services each rule decides TLS for: its own host, or for a wildcard host the Services no more
        specific rule names (istiod picks the most specific host)."""
        covered: dict[tuple[str, str], list[ServiceInfo]] = defaultdict(list)
        exact_hosts = {host for host in self.hosts.values() if not host.startswith("*")}
        wildcards = [(host, key) for key, host in self.hosts.items() if host.startswith("*")]
        for key, host in self.hosts.items():
            if not host.startswith("*") and (service := self.registry.services_by_fqdn.get(host)) is not None:
                covered[key].append(service)
        if not wildcards:
            return covered
        for fqdn, service in self.registry.services_by_fqdn.items():
            if fqdn in exact_hosts:
                continue
            matching = [(len(host), key) for host, key in wildcards if host_matches(host, fqdn)]
            if matching:
                covered[max(matching)[1]].append(service)
        return covered

    def check_workload_conflicts(self) -> list[Finding]:
        """MUI0210 (ISTIO_MUTUAL to workloads that disable mTLS) and MUI0211 (DISABLE to workloads that require
        strict mTLS), per rule and TLS setting. A wildcard rule's conflict with a namespace- or mesh-wide policy is
        left to Kiali's checks above; its conflict with a workload policy is reported here."""
        rules = {(rule.namespace, rule.name): rule for rule in self.rules}
        conflicts: dict[tuple[str, str, str], tuple[codes.CheckCode, set[str]]] = {}
        for key, services in self.covered_services().items():
            rule = rules[key]
            wildcard = self.hosts[key].startswith("*")
            general = rule_tls_mode(rule)
            by_port = rule_port_tls_modes(rule)
            if not {general, *(mode for mode, _ in by_port.values())} & {ISTIO_MUTUAL, DISABLE}:
                continue
            for service in services:
                workloads = self.registry.service_workloads(service)
                for port in service.ports:
                    number = port.get("port")
                    mode, path = general, TLS_MODE_PATH
                    if isinstance(number, int) and number in by_port:
                        mode, index = by_port[number]
                        path = f"spec.trafficPolicy.portLevelSettings[{index}].tls.mode"
                    if mode not in (ISTIO_MUTUAL, DISABLE):
                        continue
                    target = port.get("targetPort", number)
                    for workload in workloads:
                        decision = self.peers.mode_for(
                            workload.namespace, workload.template_labels, target if isinstance(target, int) else None
                        )
                        if wildcard and not decision.workload_level:
                            continue
                        if mode == ISTIO_MUTUAL and decision.mode == DISABLE:
                            check = codes.DR_MTLS_TOWARDS_DISABLED
                        elif mode == DISABLE and decision.mode == STRICT:
                            check = codes.DR_PLAINTEXT_TOWARDS_STRICT
                        else:
                            continue
                        policy = decision.policy
                        source = f"{policy.namespace}/{policy.name}" if policy is not None else "default"
                        entry = conflicts.setdefault((*key, path), (check, set()))
                        entry[1].add(f"{workload.name} port {target} ({source})")
        return [
            codes.make_finding(check, rules[(namespace, name)], path, ", ".join(sorted(details)))
            for (namespace, name, path), (check, details) in conflicts.items()
        ]
