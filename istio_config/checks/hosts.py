"""Istio's host semantics, and an index of the hosts one cluster's registry declares.

Hand-written because no maintained Python library implements them. As Istio does: a short name (no dot) in an
object resolves in that object's namespace (``reviews`` in ``bookinfo`` is ``reviews.bookinfo.svc.cluster.local``);
any other name is taken literally; ``*.example.com`` matches any name ending in ``.example.com`` and ``*`` matches
everything. The registry is the cluster's Services plus the hosts of ServiceEntries, each ServiceEntry visible from
the namespaces its ``exportTo`` names (``.`` is its own namespace, ``*`` or no ``exportTo`` is every namespace).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from istio_config.checks.model import ConfigInventory, ServiceInfo, WorkloadInfo


def resolve_host(host: str, namespace: str, domain_suffix: str = "cluster.local") -> str:
    """The FQDN Istio gives ``host`` written in an object of ``namespace``."""
    if host == "*" or "." in host:
        return host
    return f"{host}.{namespace}.svc.{domain_suffix}"


def resolve_gateway_name(reference: str, namespace: str) -> str:
    """The ``namespace/name`` a VirtualService in ``namespace`` means by a gateway reference, as istiod reads it:
    ``name`` and ``./name`` are in the VirtualService's namespace; the legacy ``name.namespace[.svc.cluster.local]``
    names the namespace in its second label; ``mesh`` stays ``mesh``."""
    if reference == "mesh":
        return reference
    if "/" in reference:
        gw_namespace, _, name = reference.partition("/")
        return f"{namespace if gw_namespace == '.' else gw_namespace}/{name}"
    if "." in reference:
        name, _, rest = reference.partition(".")
        return f"{rest.partition('.')[0]}/{name}"
    return f"{namespace}/{reference}"


def host_matches(pattern: str, host: str) -> bool:
    """Whether two hosts, either possibly a wildcard, can name the same destination (Istio's ``Matches``)."""
    if pattern == host or pattern == "*" or host == "*":
        return True
    if pattern.startswith("*"):
        suffix = pattern[1:]
        if host.startswith("*"):
            return host[1:].endswith(suffix) or suffix.endswith(host[1:])
        return host.endswith(suffix)
    if host.startswith("*"):
        return pattern.endswith(host[1:])
    return False


def labels_select(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether a label selector (all key/values must match) selects an object with ``labels``."""
    return all(labels.get(key) == value for key, value in selector.items())


def export_scope(export_to: Iterable[str] | None, own_namespace: str) -> frozenset[str] | None:
    """The namespaces an object of ``own_namespace`` with ``exportTo`` is visible from; None for every namespace
    (``*`` or no ``exportTo``)."""
    targets = [str(t) for t in export_to or ()]
    if not targets or "*" in targets:
        return None
    return frozenset(own_namespace if t == "." else t for t in targets)


def visible_from(scope: frozenset[str] | None, namespace: str) -> bool:
    """Whether an object with the :func:`export_scope` ``scope`` is visible from ``namespace``."""
    return scope is None or namespace in scope


@dataclass(frozen=True)
class _EntryHost:
    host: str
    scope: frozenset[str] | None


class HostRegistry:
    """The hosts a cluster declares: its Services by FQDN, and its ServiceEntries' hosts with their visibility."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.domain_suffix = inventory.domain_suffix
        self.services_by_fqdn: dict[str, ServiceInfo] = {
            f"{svc.name}.{svc.namespace}.svc.{self.domain_suffix}": svc for svc in inventory.services
        }
        self.entry_hosts: list[_EntryHost] = []
        self.exact_entry_hosts: dict[str, list[_EntryHost]] = defaultdict(list)
        for entry in inventory.of_kind("ServiceEntry"):
            scope = export_scope(entry.spec.get("exportTo"), entry.namespace)
            for host in entry.spec.get("hosts") or ():
                item = _EntryHost(resolve_host(str(host), entry.namespace, self.domain_suffix), scope)
                self.entry_hosts.append(item)
                if not item.host.startswith("*"):
                    self.exact_entry_hosts[item.host].append(item)
        self.workloads_by_namespace: dict[str, list[WorkloadInfo]] = defaultdict(list)
        for workload in inventory.workloads:
            self.workloads_by_namespace[workload.namespace].append(workload)

    def has_host(self, fqdn: str, from_namespace: str) -> bool:
        """Whether ``fqdn`` (possibly a wildcard) names a Service or a ServiceEntry host visible from a namespace."""
        if fqdn in self.services_by_fqdn:
            return True
        if any(visible_from(e.scope, from_namespace) for e in self.exact_entry_hosts.get(fqdn, ())):
            return True
        if fqdn.startswith("*") and any(host_matches(fqdn, name) for name in self.services_by_fqdn):
            return True
        return any(
            (fqdn.startswith("*") or e.host.startswith("*"))
            and host_matches(e.host, fqdn)
            and visible_from(e.scope, from_namespace)
            for e in self.entry_hosts
        )

    def service_workloads(self, service: ServiceInfo) -> list[WorkloadInfo]:
        """The workloads a Service's selector selects (none for a Service without selector)."""
        if not service.selector:
            return []
        return [
            w
            for w in self.workloads_by_namespace.get(service.namespace, ())
            if labels_select(service.selector, w.template_labels)
        ]
