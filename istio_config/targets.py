"""Which services and workloads an Istio object routes to or selects: pure, over a ``ConfigInventory``.

The service and workload pages and the graph show the findings of the objects that concern them. A
VirtualService concerns the services of its ``hosts`` and of its route and mirror destinations; a DestinationRule
the service of its ``host``; both concern the workloads those services select. Objects with a workload selector
(Gateway ``selector``, Sidecar and EnvoyFilter ``workloadSelector.labels``, PeerAuthentication,
RequestAuthentication and AuthorizationPolicy ``selector.matchLabels``) concern the workloads they select: a
Gateway's in any namespace, the others' in their own. Wildcard hosts concern no service in particular. A finding
of the workload and service checks concerns its own workload or service (and a service the workloads it selects);
a pod's, the workload that owns the pod.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istio_config.checks.hosts import labels_select, resolve_host
from istio_config.checks.model import ConfigInventory, IstioConfig, ServiceInfo, WorkloadInfo, list_of, mappings_of

ObjectRef = tuple[str, str]  # (namespace, name)
ROUTE_LISTS = ("http", "tcp", "tls")


@dataclass(frozen=True)
class ObjectTargets:
    """The services and workloads one Istio object concerns, as ``(namespace, name)`` pairs."""

    services: frozenset[ObjectRef] = frozenset()
    workloads: frozenset[ObjectRef] = frozenset()


def _destination_hosts(spec: Mapping[str, Any]) -> Iterator[str]:
    for kind in ROUTE_LISTS:
        for route in mappings_of(spec.get(kind)):
            for destination in mappings_of(route.get("route")):
                target = destination.get("destination")
                if isinstance(target, dict) and isinstance(target.get("host"), str):
                    yield target["host"]
            mirror = route.get("mirror")
            if isinstance(mirror, dict) and isinstance(mirror.get("host"), str):
                yield mirror["host"]


def routed_hosts(obj: IstioConfig) -> list[str]:
    """The hosts, as written, that a VirtualService or DestinationRule names (empty for other kinds)."""
    if obj.kind == "VirtualService":
        return [h for h in list_of(obj.spec.get("hosts")) if isinstance(h, str)] + list(_destination_hosts(obj.spec))
    if obj.kind == "DestinationRule" and isinstance(obj.spec.get("host"), str):
        return [obj.spec["host"]]
    return []


def workload_selector(obj: IstioConfig) -> Mapping[str, str] | None:
    """The labels an object selects its workloads by; None when it has no selector (it applies namespace-wide)."""
    spec = obj.spec
    if obj.kind == "Gateway":
        selector: Any = spec.get("selector")
    elif obj.kind in {"Sidecar", "EnvoyFilter"}:
        selector = (spec.get("workloadSelector") or {}).get("labels")
    elif obj.kind in {"PeerAuthentication", "RequestAuthentication", "AuthorizationPolicy"}:
        selector = (spec.get("selector") or {}).get("matchLabels")
    else:
        return None
    return selector if isinstance(selector, dict) and selector else None


class TargetIndex:
    """Services by FQDN and workloads by namespace of one inventory, to resolve objects' targets quickly."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.domain_suffix = inventory.domain_suffix
        self.services: dict[str, ServiceInfo] = {
            f"{s.name}.{s.namespace}.svc.{inventory.domain_suffix}": s for s in inventory.services
        }
        self.workloads: dict[str, list[WorkloadInfo]] = {}
        for workload in inventory.workloads:
            self.workloads.setdefault(workload.namespace, []).append(workload)
        self.pod_owners = {(p.namespace, p.name): p.workload_name for p in inventory.pods if p.workload_name}

    def _selected(self, selector: Mapping[str, str], namespace: str | None) -> set[ObjectRef]:
        pools = [self.workloads.get(namespace, [])] if namespace is not None else list(self.workloads.values())
        return {(w.namespace, w.name) for pool in pools for w in pool if labels_select(selector, w.template_labels)}

    def compute_inventory_targets(self, kind: str, namespace: str, name: str) -> ObjectTargets:
        """What a finding on a workload, service or pod (not an Istio object) concerns."""
        if kind == "Workload":
            return ObjectTargets(workloads=frozenset({(namespace, name)}))
        if kind == "Pod":
            owner = self.pod_owners.get((namespace, name))
            return ObjectTargets(workloads=frozenset({(namespace, owner)} if owner else set()))
        service = self.services.get(f"{name}.{namespace}.svc.{self.domain_suffix}")
        if kind != "Service" or service is None:
            return ObjectTargets()
        selected = self._selected(service.selector, namespace) if service.selector else set()
        return ObjectTargets(frozenset({(namespace, name)}), frozenset(selected))

    def compute_targets(self, obj: IstioConfig) -> ObjectTargets:
        """The services and workloads ``obj`` routes to or selects."""
        services: set[ObjectRef] = set()
        workloads: set[ObjectRef] = set()
        for host in routed_hosts(obj):
            service = self.services.get(resolve_host(host, obj.namespace, self.domain_suffix))
            if service is None:
                continue
            services.add((service.namespace, service.name))
            if service.selector:
                workloads |= self._selected(service.selector, service.namespace)
        selector = workload_selector(obj)
        if selector is not None:
            workloads |= self._selected(selector, None if obj.kind == "Gateway" else obj.namespace)
        return ObjectTargets(frozenset(services), frozenset(workloads))
