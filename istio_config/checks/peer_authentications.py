"""Checks of PeerAuthentications (Kiali's ``business/checkers/peerauthentications`` and the generic selector
checks): a selector selecting nothing (KIA0004), two policies for one workload or namespace (KIA0003/KIA0002), a
selector policy in the root namespace that istiod ignores (MUI0402), and mesh-/namespace-wide modes the
DestinationRules contradict (KIA0401/KIA0501 when automatic mTLS is off, KIA0505/KIA0506 always).
"""

from __future__ import annotations

from istio_config.checks import codes
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig
from istio_config.checks.mtls import DISABLE, ISTIO_MUTUAL, MUTUAL, STRICT, WideRules, peer_mode
from istio_config.checks.workload_selectors import (
    WorkloadIndex,
    check_multi_match,
    check_selector_not_found,
    selector_of,
    selector_path,
)

MTLS_PATH = "spec.mtls"
MUTUAL_MODES = (ISTIO_MUTUAL, MUTUAL)


def check_peer_authentications(inventory: ConfigInventory, index: WorkloadIndex) -> list[Finding]:
    """Every PeerAuthentication check over one inventory."""
    root = inventory.mesh.root_namespace
    policies = inventory.of_kind("PeerAuthentication")
    ignored = [p for p in policies if p.namespace == root and selector_of(p)]
    effective = [p for p in policies if not (p.namespace == root and selector_of(p))]
    findings = [
        codes.make_finding(codes.PA_SELECTOR_IN_ROOT_NAMESPACE, p, selector_path(p.kind), f"root namespace {root}")
        for p in ignored
    ]
    findings += check_selector_not_found(effective, index)
    findings += check_multi_match(effective, index)
    wide = WideRules(inventory)
    for policy in effective:
        if not selector_of(policy):
            findings += check_wide_policy(policy, wide, inventory.mesh.enable_auto_mtls)
    return findings


def check_wide_policy(policy: IstioConfig, wide: WideRules, auto_mtls: bool) -> list[Finding]:
    """KIA0401/KIA0501: a strict mesh-/namespace-wide policy with no wide DestinationRule sending mTLS, when
    automatic mTLS is off (with it on, client sidecars send mTLS by themselves); KIA0505/KIA0506: a policy disabling
    mTLS while a wide DestinationRule still sends it."""
    mode = peer_mode(policy.spec.get("mtls"))
    mesh_rules = wide.mesh_rule_modes
    if policy.namespace == wide.root_namespace:
        if mode == STRICT and not auto_mtls and ISTIO_MUTUAL not in mesh_rules:
            return [codes.make_finding(codes.PA_MESH_DR_MISSING, policy, MTLS_PATH)]
        if mode == DISABLE and any(m in MUTUAL_MODES for m in mesh_rules):
            return [codes.make_finding(codes.PA_MESH_DISABLE_DR_MISSING, policy, MTLS_PATH)]
        return []
    namespace_rules = wide.namespace_rule_modes.get(policy.namespace, [])
    if mode == STRICT and not auto_mtls and ISTIO_MUTUAL not in (*namespace_rules, *mesh_rules):
        return [codes.make_finding(codes.PA_NAMESPACE_DR_MISSING, policy, MTLS_PATH, policy.namespace)]
    if mode == DISABLE:
        if any(m in MUTUAL_MODES for m in namespace_rules):
            return [codes.make_finding(codes.PA_NAMESPACE_DISABLE_DR_MISSING, policy, MTLS_PATH, policy.namespace)]
        if DISABLE not in namespace_rules and any(m in MUTUAL_MODES for m in mesh_rules):
            return [codes.make_finding(codes.PA_NAMESPACE_DISABLE_DR_MISSING, policy, MTLS_PATH, policy.namespace)]
    return []
