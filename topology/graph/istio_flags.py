"""The Istio-config flags Kiali's istio appender sets on graph nodes, from VirtualService and DestinationRule specs.

Pure functions over the specs as stored (``IstioObject.spec`` dicts), with Kiali's rules
(``models/virtual_services.go`` and ``HasDRCircuitBreaker``):

- ``hasRequestRouting``: an http, tcp or tls route with at least one destination;
- ``hasRequestTimeout``: an http route with a ``timeout``;
- ``hasFaultInjection``: an http route with a ``fault``;
- ``hasTrafficShifting``: an http route with more than one destination (whatever the weights);
- ``hasTCPTrafficShifting``: a tcp route with more than one destination;
- ``hasMirroring``: an http route with a ``mirror``;
- ``hasCB``: a DestinationRule for the service whose traffic policy, or a subset's, has a ``connectionPool`` or an
  ``outlierDetection`` (a subset's counts for the nodes of its ``version`` label, or for unversioned nodes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

#: Every routing flag, in the order the wire writes them.
ROUTING_FLAGS: Final[tuple[str, ...]] = (
    "hasFaultInjection",
    "hasMirroring",
    "hasRequestRouting",
    "hasRequestTimeout",
    "hasTCPTrafficShifting",
    "hasTrafficShifting",
)
#: In a circuit breaker's versions: the DestinationRule's own traffic policy, so every version of the service.
EVERY_VERSION: Final = "*"


def _routes(spec: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    routes = spec.get(kind)
    return [r for r in routes if isinstance(r, Mapping)] if isinstance(routes, list) else []


def _destinations(route: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = route.get("route")
    return [d for d in found if isinstance(d, Mapping)] if isinstance(found, list) else []


def virtual_service_flags(spec: Mapping[str, Any]) -> frozenset[str]:
    """The routing flags of one VirtualService spec."""
    flags: set[str] = set()
    http, tcp, tls = _routes(spec, "http"), _routes(spec, "tcp"), _routes(spec, "tls")
    if any(_destinations(route) for route in (*http, *tcp, *tls)):
        flags.add("hasRequestRouting")
    for route in http:
        if route.get("timeout") is not None:
            flags.add("hasRequestTimeout")
        if route.get("fault") is not None:
            flags.add("hasFaultInjection")
        if route.get("mirror") is not None:
            flags.add("hasMirroring")
        if len(_destinations(route)) > 1:
            flags.add("hasTrafficShifting")
    if any(len(_destinations(route)) > 1 for route in tcp):
        flags.add("hasTCPTrafficShifting")
    return frozenset(flags)


def virtual_service_route_hosts(spec: Mapping[str, Any]) -> list[str]:
    """The destination hosts of every route of a VirtualService (Kiali matches a service by its routes)."""
    hosts = []
    for kind in ("http", "tcp", "tls"):
        for route in _routes(spec, kind):
            for destination in _destinations(route):
                host = (destination.get("destination") or {}).get("host")
                if isinstance(host, str) and host:
                    hosts.append(host)
    return hosts


def _has_breaker(policy: Any) -> bool:
    if not isinstance(policy, Mapping):
        return False
    if policy.get("connectionPool") is not None or policy.get("outlierDetection") is not None:
        return True
    ports = policy.get("portLevelSettings")
    return isinstance(ports, list) and any(
        isinstance(p, Mapping) and (p.get("connectionPool") is not None or p.get("outlierDetection") is not None)
        for p in ports
    )


def circuit_breaker_versions(spec: Mapping[str, Any], version_label: str = "version") -> frozenset[str]:
    """The versions a DestinationRule breaks circuits for: :data:`EVERY_VERSION` for its own traffic policy, a
    subset's ``version`` label for a subset's (``""`` for a subset without one); empty when it has none."""
    versions: set[str] = set()
    if _has_breaker(spec.get("trafficPolicy")):
        versions.add(EVERY_VERSION)
    subsets = spec.get("subsets")
    for subset in subsets if isinstance(subsets, list) else []:
        if isinstance(subset, Mapping) and _has_breaker(subset.get("trafficPolicy")):
            labels = subset.get("labels")
            versions.add(str(labels.get(version_label, "")) if isinstance(labels, Mapping) else "")
    return frozenset(versions)


def breaks_circuit(versions: Iterable[str], version: str) -> bool:
    """Kiali's ``HasDRCircuitBreaker`` for a node of ``version`` (``""``: a service or unversioned node)."""
    found = set(versions)
    if EVERY_VERSION in found:
        return True
    if not version:
        return bool(found)
    return version in found
