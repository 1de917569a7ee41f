"""Istio configuration checks as Kiali's backend and ``istioctl analyze`` run them, as pure functions.

``check_config(inventory)`` runs every checker (one module per kind) over a ``ConfigInventory`` snapshot and
returns its ``Finding``s in a stable order. No Django, no network: the snapshot is built elsewhere
(``istio_config.inventory_loader``).
"""

from __future__ import annotations

from istio_config.checks.authorization_policies import AuthorizationPolicyChecker
from istio_config.checks.destination_rule_mtls import DestinationRuleMtlsChecker
from istio_config.checks.destination_rules import DestinationRuleChecker
from istio_config.checks.export_to import check_export_to
from istio_config.checks.gateways import (
    check_gateway_credentials,
    check_gateway_multi_match,
    check_gateway_selectors,
)
from istio_config.checks.hosts import HostRegistry
from istio_config.checks.jwt_claim_routes import check_jwt_claim_routes
from istio_config.checks.k8s_gateways import K8sGatewayChecker
from istio_config.checks.model import (
    ConfigInventory,
    Finding,
    IstioConfig,
    MeshConfig,
    NamespaceInfo,
    PodInfo,
    ServiceInfo,
    Severity,
    WorkloadInfo,
)
from istio_config.checks.mtls import PeerAuthentications
from istio_config.checks.peer_authentications import check_peer_authentications
from istio_config.checks.service_entries import check_service_entries
from istio_config.checks.sidecars import check_sidecars
from istio_config.checks.virtual_services import VirtualServiceChecker
from istio_config.checks.workload_selectors import WorkloadIndex
from istio_config.checks.workloads import WorkloadChecker

__all__ = [
    "ConfigInventory",
    "Finding",
    "IstioConfig",
    "MeshConfig",
    "NamespaceInfo",
    "PodInfo",
    "ServiceInfo",
    "Severity",
    "WorkloadInfo",
    "check_config",
]


def check_config(inventory: ConfigInventory, scope_gateway_to_namespace: bool = False) -> list[Finding]:
    """Every finding of every check on one cluster's inventory, sorted by namespace, kind, name, path and code.
    Findings are on Istio objects, and on ``Workload``, ``Pod`` and ``Service`` objects for the workload checks."""
    registry = HostRegistry(inventory)
    workloads = WorkloadIndex(inventory)
    peers = PeerAuthentications(inventory)
    findings = VirtualServiceChecker(inventory, registry).check()
    findings += DestinationRuleChecker(inventory, registry).check()
    findings += DestinationRuleMtlsChecker(inventory, registry, peers).check()
    findings += check_peer_authentications(inventory, workloads)
    findings += AuthorizationPolicyChecker(inventory, workloads, registry, peers).check()
    findings += check_sidecars(inventory, workloads, registry)
    findings += check_service_entries(inventory)
    findings += WorkloadChecker(inventory).check()
    findings += check_gateway_selectors(inventory, scope_gateway_to_namespace)
    findings += check_gateway_multi_match(inventory)
    findings += check_export_to(inventory)
    findings += check_gateway_credentials(inventory, scope_gateway_to_namespace)
    findings += K8sGatewayChecker(inventory).check()
    findings += check_jwt_claim_routes(inventory)
    return sorted(findings, key=Finding.sort_key)
