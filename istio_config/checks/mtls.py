"""Istio's mTLS semantics for the checks: which PeerAuthentication mode a workload's port receives with, and which
TLS mode a DestinationRule sends with.

Hand-written because no maintained Python library implements them. As istiod composes PeerAuthentications
(``pilot/pkg/model/authentication.go``): a policy with a selector in the workload's namespace (not the root
namespace, where istiod ignores selector policies) beats the namespace's selector-less policy, which beats the
selector-less policy of the root namespace (mesh-wide); without any, the mode is PERMISSIVE. ``UNSET`` (or no
``mtls``) inherits the next level; ``portLevelMtls`` (keyed by the workload's port) refines a workload policy. When
two policies compete at one level istiod takes the oldest; the inventory carries no creation time, so the checks take
the first by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from istio_config.checks.hosts import labels_select
from istio_config.checks.model import ConfigInventory, IstioConfig, mappings_of
from istio_config.checks.workload_selectors import selector_of

STRICT = "STRICT"
PERMISSIVE = "PERMISSIVE"
DISABLE = "DISABLE"
UNSET = "UNSET"
ISTIO_MUTUAL = "ISTIO_MUTUAL"
MUTUAL = "MUTUAL"


def mesh_wide_host() -> str:
    """The host a mesh-wide DestinationRule names, as Istio's mTLS tasks write it."""
    return "*.local"


def namespace_wide_host(namespace: str, domain_suffix: str) -> str:
    """The host a namespace-wide DestinationRule names (``*.bookinfo.svc.cluster.local``)."""
    return f"*.{namespace}.svc.{domain_suffix}"


def peer_mode(spec_mtls: Any) -> str:
    """The mode of a PeerAuthentication ``mtls`` (or ``portLevelMtls`` entry): STRICT, PERMISSIVE, DISABLE or UNSET."""
    if not isinstance(spec_mtls, dict):
        return UNSET
    mode = str(spec_mtls.get("mode") or UNSET).upper()
    return mode if mode in (STRICT, PERMISSIVE, DISABLE) else UNSET


def rule_tls_mode(rule: IstioConfig) -> str:
    """A DestinationRule's ``trafficPolicy.tls.mode``, or empty when it sets none."""
    policy = rule.spec.get("trafficPolicy")
    tls = policy.get("tls") if isinstance(policy, dict) else None
    return str(tls.get("mode") or "").upper() if isinstance(tls, dict) else ""


def rule_port_tls_modes(rule: IstioConfig) -> dict[int, tuple[str, int]]:
    """A DestinationRule's ``portLevelSettings`` TLS modes by service port number, with each setting's index."""
    policy = rule.spec.get("trafficPolicy")
    settings = mappings_of(policy.get("portLevelSettings")) if isinstance(policy, dict) else []
    modes: dict[int, tuple[str, int]] = {}
    for index, setting in enumerate(settings):
        port = setting.get("port")
        number = port.get("number") if isinstance(port, dict) else None
        tls = setting.get("tls")
        if isinstance(number, int) and isinstance(tls, dict) and tls.get("mode"):
            modes[number] = (str(tls["mode"]).upper(), index)
    return modes


def has_tls_settings(rule: IstioConfig) -> bool:
    """Whether a DestinationRule sets TLS at all (on the whole traffic policy or on one of its ports)."""
    policy = rule.spec.get("trafficPolicy")
    if not isinstance(policy, dict):
        return False
    return isinstance(policy.get("tls"), dict) or any(
        isinstance(s.get("tls"), dict) for s in mappings_of(policy.get("portLevelSettings"))
    )


@dataclass(frozen=True)
class PeerDecision:
    """The mode a workload port receives with, and the PeerAuthentication that decided it (None for Istio's default)."""

    mode: str
    policy: IstioConfig | None
    workload_level: bool


class PeerAuthentications:
    """The cluster's PeerAuthentications indexed for :meth:`mode_for`."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.root_namespace = inventory.mesh.root_namespace
        self.mesh: IstioConfig | None = None
        self.namespace: dict[str, IstioConfig] = {}
        self.workload: dict[str, list[IstioConfig]] = defaultdict(list)
        for policy in sorted(inventory.of_kind("PeerAuthentication"), key=lambda p: (p.namespace, p.name)):
            selector = selector_of(policy)
            if policy.namespace == self.root_namespace:
                if not selector and self.mesh is None:
                    self.mesh = policy
            elif not selector:
                self.namespace.setdefault(policy.namespace, policy)
            else:
                self.workload[policy.namespace].append(policy)

    def namespace_decision(self, namespace: str) -> PeerDecision:
        """The mode of a namespace's workloads that no workload policy selects."""
        mesh_mode = peer_mode(self.mesh.spec.get("mtls")) if self.mesh is not None else UNSET
        if mesh_mode == UNSET:
            decision = PeerDecision(PERMISSIVE, None, False)
        else:
            decision = PeerDecision(mesh_mode, self.mesh, False)
        policy = self.namespace.get(namespace) if namespace != self.root_namespace else None
        if policy is not None and (mode := peer_mode(policy.spec.get("mtls"))) != UNSET:
            decision = PeerDecision(mode, policy, False)
        return decision

    def workload_policy(self, namespace: str, labels: Mapping[str, str]) -> IstioConfig | None:
        """The workload-level PeerAuthentication that applies to a workload with ``labels``, if any."""
        for policy in self.workload.get(namespace, ()):
            if labels_select(selector_of(policy), labels):
                return policy
        return None

    def mode_for(self, namespace: str, labels: Mapping[str, str], port: int | None = None) -> PeerDecision:
        """The mode a workload with ``labels`` receives with on container ``port`` (any port when None)."""
        decision = self.namespace_decision(namespace)
        policy = self.workload_policy(namespace, labels)
        if policy is None:
            return decision
        if (mode := peer_mode(policy.spec.get("mtls"))) != UNSET:
            decision = PeerDecision(mode, policy, True)
        port_level = policy.spec.get("portLevelMtls")
        if port is not None and isinstance(port_level, dict):
            entry = port_level.get(str(port))
            if (mode := peer_mode(entry)) != UNSET:
                decision = PeerDecision(mode, policy, True)
        return decision


def enabling(mode: str) -> bool:
    """Whether a PeerAuthentication mode accepts mTLS (Kiali's "mTLS enabled": STRICT or PERMISSIVE)."""
    return mode in (STRICT, PERMISSIVE)


class WideRules:
    """The mesh-wide (``*.local``) and namespace-wide (``*.<ns>.svc.<suffix>``) DestinationRules and their TLS modes,
    and the selector-less PeerAuthentications by namespace, as Kiali's mTLS checks read them."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.domain_suffix = inventory.domain_suffix
        self.root_namespace = inventory.mesh.root_namespace
        self.mesh_rule_modes: list[str] = []
        self.namespace_rule_modes: dict[str, list[str]] = defaultdict(list)
        for rule in inventory.of_kind("DestinationRule"):
            host = str(rule.spec.get("host", ""))
            if host == mesh_wide_host():
                self.mesh_rule_modes.append(rule_tls_mode(rule))
            elif host.startswith("*.") and host.endswith(f".svc.{self.domain_suffix}"):
                namespace = host[2 : -len(f".svc.{self.domain_suffix}")]
                if "." not in namespace:
                    self.namespace_rule_modes[namespace].append(rule_tls_mode(rule))
        self.namespace_policy_modes: dict[str, list[str]] = defaultdict(list)
        for policy in inventory.of_kind("PeerAuthentication"):
            if not selector_of(policy):
                self.namespace_policy_modes[policy.namespace].append(peer_mode(policy.spec.get("mtls")))

    def mesh_policy_modes(self) -> list[str]:
        """The modes of the selector-less PeerAuthentications of the root namespace."""
        return self.namespace_policy_modes.get(self.root_namespace, [])

    def namespace_wide_mode(self, rule: IstioConfig) -> str | None:
        """The TLS mode of ``rule`` when it is namespace-wide for its own namespace, else None."""
        if rule.spec.get("host") == namespace_wide_host(rule.namespace, self.domain_suffix):
            return rule_tls_mode(rule)
        return None

    def mesh_wide_mode(self, rule: IstioConfig) -> str | None:
        """The TLS mode of ``rule`` when it is mesh-wide, else None."""
        return rule_tls_mode(rule) if rule.spec.get("host") == mesh_wide_host() else None
