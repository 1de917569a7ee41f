"""Checks of AuthorizationPolicies (Kiali's ``business/checkers/authorization``, ``istioctl analyze``'s authz
analyzer): a selector selecting nothing (KIA0004/IST0127), a source namespace that does not exist (KIA0101), a method
that is neither an HTTP method nor a gRPC ``/package.Service/Method`` (KIA0102), a ``to.operation.hosts`` host that no
Service, ServiceEntry or VirtualService declares (KIA0104), and source identities (principals, namespaces) on
workloads that do not receive mTLS, where Istio cannot know them (KIA0105).

An AuthorizationPolicy in the root namespace applies to the workloads of every namespace. Principals are not checked
against service accounts (KIA0106): the inventory does not carry pods' service accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from istio_config.checks import codes
from istio_config.checks.hosts import HostRegistry, host_matches, resolve_host
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, mappings_of
from istio_config.checks.mtls import (
    DISABLE,
    ISTIO_MUTUAL,
    PeerAuthentications,
    mesh_wide_host,
    namespace_wide_host,
    rule_tls_mode,
)
from istio_config.checks.workload_selectors import WorkloadIndex, check_selector_not_found, selector_of

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"})
GRPC_METHOD = re.compile(r"^(/[a-zA-Z0-9_.]+)+/[a-zA-Z0-9_]+$")
#: Source fields and condition keys Istio can only fill from the peer's mTLS certificate.
MTLS_SOURCE_FIELDS = ("principals", "notPrincipals", "namespaces", "notNamespaces")
MTLS_CONDITION_KEYS = frozenset({"source.namespace", "source.principal", "connection.sni"})


class AuthorizationPolicyChecker:
    """Runs every AuthorizationPolicy check over one inventory."""

    def __init__(
        self, inventory: ConfigInventory, index: WorkloadIndex, registry: HostRegistry, peers: PeerAuthentications
    ) -> None:
        self.inventory = inventory
        self.index = index
        self.registry = registry
        self.peers = peers
        self.namespaces = {ns.name for ns in inventory.namespaces}
        self.root = inventory.mesh.root_namespace
        self.virtual_service_hosts = [
            resolve_host(str(host), vs.namespace, inventory.domain_suffix)
            for vs in inventory.of_kind("VirtualService")
            for host in vs.spec.get("hosts") or ()
        ]
        self.mutual_rule_hosts = {
            str(rule.spec.get("host", ""))
            for rule in inventory.of_kind("DestinationRule")
            if rule_tls_mode(rule) == ISTIO_MUTUAL
        }

    def scope(self, policy: IstioConfig) -> tuple[str, ...] | None:
        """The namespaces a policy's selector looks in: every namespace for the root namespace's policies."""
        return None if policy.namespace == self.root else (policy.namespace,)

    def check(self) -> list[Finding]:
        policies = self.inventory.of_kind("AuthorizationPolicy")
        findings = [_with_istio_code(f, "IST0127") for f in check_selector_not_found(policies, self.index, self.scope)]
        for policy in policies:
            for rule_index, rule in enumerate(mappings_of(policy.spec.get("rules"))):
                findings += self.check_sources(policy, rule_index, rule)
                findings += self.check_operations(policy, rule_index, rule)
            findings += self.check_mtls(policy)
        return findings

    def check_sources(self, policy: IstioConfig, rule_index: int, rule: Mapping[str, Any]) -> list[Finding]:
        """KIA0101: a ``from.source.namespaces`` entry naming no namespace (wildcards are patterns, not names)."""
        findings = []
        for from_index, source in _sources(rule):
            for ns_index, namespace in enumerate(source.get("namespaces") or ()):
                if "*" not in str(namespace) and str(namespace) not in self.namespaces:
                    path = f"spec.rules[{rule_index}].from[{from_index}].source.namespaces[{ns_index}]"
                    findings.append(codes.make_finding(codes.AP_NAMESPACE_NOT_FOUND, policy, path, str(namespace)))
        return findings

    def check_operations(self, policy: IstioConfig, rule_index: int, rule: Mapping[str, Any]) -> list[Finding]:
        """KIA0102 on ``to.operation.methods``, KIA0104 on ``to.operation.hosts``."""
        findings = []
        for to_index, operation in _operations(rule):
            base = f"spec.rules[{rule_index}].to[{to_index}].operation"
            for method_index, method in enumerate(operation.get("methods") or ()):
                text = str(method).strip()
                if text.upper() not in HTTP_METHODS and not GRPC_METHOD.match(text):
                    findings.append(
                        codes.make_finding(codes.AP_WRONG_METHOD, policy, f"{base}.methods[{method_index}]", text)
                    )
            for host_index, host in enumerate(operation.get("hosts") or ()):
                if not self.host_known(str(host), policy.namespace):
                    findings.append(
                        codes.make_finding(codes.AP_HOST_NOT_FOUND, policy, f"{base}.hosts[{host_index}]", str(host))
                    )
        return findings

    def host_known(self, host: str, namespace: str) -> bool:
        """Whether a request Host (``reviews``, ``reviews.bookinfo``, ``reviews.bookinfo.svc[.cluster.local]``,
        any with ``:port``, or an external name) names a Service, a ServiceEntry host or a VirtualService host."""
        name = host.rsplit(":", 1)[0] if host.rsplit(":", 1)[-1].isdigit() else host
        if name.endswith("*") or (name.startswith("*") and "." not in name[1:]):
            return True  # a prefix pattern, or "*": no single registry entry to look for
        candidates = {resolve_host(name, namespace, self.registry.domain_suffix)}
        parts = name.split(".")
        if len(parts) == 2 and parts[1] in self.namespaces:
            candidates.add(f"{name}.svc.{self.registry.domain_suffix}")
        if len(parts) == 3 and parts[2] == "svc":
            candidates.add(f"{name}.{self.registry.domain_suffix}")
        return any(
            self.registry.has_host(candidate, namespace)
            or any(host_matches(vs_host, candidate) for vs_host in self.virtual_service_hosts)
            for candidate in candidates
        )

    def check_mtls(self, policy: IstioConfig) -> list[Finding]:
        """KIA0105: source identities on workloads that receive plain text (their PeerAuthentication disables mTLS,
        or automatic mTLS is off and no DestinationRule sends Istio mTLS to their namespace)."""
        paths = list(_mtls_paths(policy))
        if not paths:
            return []
        selector = selector_of(policy)
        workloads = self.index.selected(selector, self.scope(policy))
        namespaces = {w.namespace for w in workloads} or {policy.namespace}
        plain = [w.name for w in workloads if self.peers.mode_for(w.namespace, w.labels).mode == DISABLE]
        if not workloads and not selector and self.peers.namespace_decision(policy.namespace).mode == DISABLE:
            plain = [f"namespace {policy.namespace}"]
        if not plain and not self.inventory.mesh.enable_auto_mtls:
            plain = sorted(ns for ns in namespaces if not self.rule_sends_mtls_to(ns))
            plain = [f"namespace {ns} (no DestinationRule sends mTLS)" for ns in plain]
        if not plain:
            return []
        detail = ", ".join(sorted(plain)[:5])
        return [codes.make_finding(codes.AP_MTLS_REQUIRED, policy, path, detail) for path in paths]

    def rule_sends_mtls_to(self, namespace: str) -> bool:
        """Whether a mesh- or namespace-wide DestinationRule sends Istio mTLS to ``namespace``."""
        wide = (mesh_wide_host(), namespace_wide_host(namespace, self.registry.domain_suffix))
        return any(host in self.mutual_rule_hosts for host in wide)


def _sources(rule: Mapping[str, Any]) -> Iterable[tuple[int, Mapping[str, Any]]]:
    for index, entry in enumerate(mappings_of(rule.get("from"))):
        if isinstance(source := entry.get("source"), dict):
            yield index, source


def _operations(rule: Mapping[str, Any]) -> Iterable[tuple[int, Mapping[str, Any]]]:
    for index, entry in enumerate(mappings_of(rule.get("to"))):
        if isinstance(operation := entry.get("operation"), dict):
            yield index, operation


def _mtls_paths(policy: IstioConfig) -> Iterable[str]:
    """The paths of the fields of ``policy`` that need the peer's mTLS identity."""
    for rule_index, rule in enumerate(mappings_of(policy.spec.get("rules"))):
        for from_index, source in _sources(rule):
            for field in MTLS_SOURCE_FIELDS:
                if source.get(field):
                    yield f"spec.rules[{rule_index}].from[{from_index}].source.{field}"
        for when_index, condition in enumerate(mappings_of(rule.get("when"))):
            if condition.get("key") in MTLS_CONDITION_KEYS:
                yield f"spec.rules[{rule_index}].when[{when_index}]"


def _with_istio_code(finding: Finding, istio_code: str) -> Finding:
    return replace(finding, istio_code=istio_code)
