"""What depends on an Istio object, shown before it is deleted: pure, no Django.

- a DestinationRule's subsets are routed to by VirtualServices (``destination.host`` naming the rule's host, with
  a ``subset`` the rule defines): deleting the rule breaks those routes;
- an Istio Gateway is bound by VirtualServices listing it in ``gateways``;
- a Gateway API Gateway (``K8sGateway``) has the HTTPRoutes and GRPCRoutes naming it in ``parentRefs`` attached
  (a parentRef's group and kind default to the Gateway API's Gateway, its namespace to the route's).

Hosts are compared fully qualified: a short name is read in the namespace of the object that writes it, as Istio
does (``reviews`` in ``bookinfo`` is ``reviews.bookinfo.svc.cluster.local``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from istio_config.checks.k8s_gateways import GATEWAY_API_GROUP, K8S_GATEWAY, ROUTE_KINDS
from istio_config.checks.model import IstioConfig

CLUSTER_DOMAIN = "svc.cluster.local"


@dataclass(frozen=True)
class Dependent:
    """An object that refers to the one about to go, where (a JSON path) and why."""

    kind: str
    namespace: str
    name: str
    path: str
    reason: str


def qualify_host(host: str, namespace: str) -> str:
    """``host`` fully qualified as read in ``namespace`` (wildcards and external names are kept as written)."""
    if "*" in host or host.endswith(CLUSTER_DOMAIN):
        return host
    parts = host.split(".")
    if len(parts) == 1:
        return f"{host}.{namespace}.{CLUSTER_DOMAIN}"
    if len(parts) == 2:
        return f"{host}.{CLUSTER_DOMAIN}"
    return host


def _routes(spec: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every ``(path, destination)`` of a VirtualService's http, tcp and tls routes."""
    for protocol in ("http", "tcp", "tls"):
        for i, rule in enumerate(spec.get(protocol) or []):
            if not isinstance(rule, dict):
                continue
            for j, route in enumerate(rule.get("route") or []):
                destination = route.get("destination") if isinstance(route, dict) else None
                if isinstance(destination, dict):
                    yield f"spec.{protocol}[{i}].route[{j}].destination", destination


def _attached_routes(gateway: IstioConfig, objects: Iterable[IstioConfig]) -> Iterable[Dependent]:
    """The Gateway API routes whose ``parentRefs`` name ``gateway``."""
    for route in objects:
        if route.kind not in ROUTE_KINDS:
            continue
        for i, ref in enumerate(route.spec.get("parentRefs") or []):
            if not isinstance(ref, dict):
                continue
            is_gateway = (
                ref.get("group", GATEWAY_API_GROUP) == GATEWAY_API_GROUP and ref.get("kind", "Gateway") == "Gateway"
            )
            namespace = ref.get("namespace") or route.namespace
            if is_gateway and ref.get("name") == gateway.name and namespace == gateway.namespace:
                listener = f" (listener {ref['sectionName']!r})" if ref.get("sectionName") else ""
                yield Dependent(
                    route.kind,
                    route.namespace,
                    route.name,
                    f"spec.parentRefs[{i}]",
                    f"attaches to this gateway{listener}",
                )


def find_dependents(target: IstioConfig, objects: Iterable[IstioConfig]) -> list[Dependent]:
    """The objects of ``objects`` that depend on ``target`` (see the module doc), in a stable order."""
    found: list[Dependent] = []
    services = [o for o in objects if o.kind == "VirtualService"]
    if target.kind == "DestinationRule":
        host = qualify_host(str(target.spec.get("host", "")), target.namespace)
        subsets = {str(s.get("name")) for s in target.spec.get("subsets") or [] if isinstance(s, dict)}
        for vs in services:
            for path, destination in _routes(vs.spec):
                subset = destination.get("subset")
                same_host = qualify_host(str(destination.get("host", "")), vs.namespace) == host
                if same_host and subset in subsets:
                    reason = f"routes to subset {subset!r} of {host}"
                    found.append(Dependent(vs.kind, vs.namespace, vs.name, f"{path}.subset", reason))
    elif target.kind == "Gateway":
        names = {target.name, f"{target.namespace}/{target.name}"}
        for vs in services:
            for i, gateway in enumerate(vs.spec.get("gateways") or []):
                bound = (
                    gateway in names
                    if vs.namespace == target.namespace
                    else gateway == f"{target.namespace}/{target.name}"
                )
                if bound:
                    found.append(
                        Dependent(vs.kind, vs.namespace, vs.name, f"spec.gateways[{i}]", "binds to this gateway")
                    )
    elif target.kind == K8S_GATEWAY:
        found.extend(_attached_routes(target, objects))
    return sorted(found, key=lambda d: (d.namespace, d.name, d.path))
