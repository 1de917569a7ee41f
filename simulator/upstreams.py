"""Upstream clusters of the simulated client proxies: resolving a route destination, balancing its endpoints.

``resolve_upstream`` turns a route destination into the cluster Envoy would send to (the
service, the ready endpoints of the DestinationRule subset, the client-side TLS mode and load
balancer), or the response flag when there is none; ``LoadBalancer`` picks an endpoint per
try, round robin per client and cluster unless the traffic policy asks for ``RANDOM``.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from simulator.destination_rules import destination_rule_for, subset_endpoints, traffic_policy
from simulator.mesh_snapshot import MeshSnapshot, PodInfo, ServiceInfo
from simulator.route_policies import Destination


@dataclass(frozen=True)
class Upstream:
    """The cluster a route destination names: service, ready subset endpoints, client-side policy."""

    service: ServiceInfo
    destination: Destination
    endpoints: list[PodInfo]
    tls_mode: str | None
    random_load_balancing: bool


def resolve_upstream(snapshot: MeshSnapshot, source: PodInfo, destination: Destination) -> Upstream | str:
    """The cluster for a route destination, or the response flag when there is none (NC/UH)."""
    service = snapshot.services.get(destination.host)
    if service is None:
        return "NC"
    rule = destination_rule_for(snapshot, service.fqdn, source.namespace)
    endpoints = subset_endpoints(snapshot, service, destination.subset, rule)
    if endpoints is None:
        return "NC"
    if not endpoints and not service.external:
        return "UH"
    policy = traffic_policy(rule, destination.subset)
    return Upstream(
        service,
        destination,
        endpoints,
        (policy.get("tls") or {}).get("mode"),
        (policy.get("loadBalancer") or {}).get("simple") == "RANDOM",
    )


class LoadBalancer:
    """Endpoint choice of every client proxy; keeps one round-robin position per client, cluster and purpose."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._round_robin: dict[tuple[str, ...], int] = {}

    def forget_clients(self, alive: Collection[str]) -> None:
        """Drop the positions of clients (pod names) that are gone."""
        for key in [key for key in self._round_robin if key[0] not in alive]:
            del self._round_robin[key]

    def pick_round_robin(self, key: tuple[str, ...], pods: Sequence[PodInfo]) -> PodInfo:
        """The next of ``pods`` for the rotation named ``key`` (whose first item is the client)."""
        index = self._round_robin.get(key, 0)
        self._round_robin[key] = index + 1
        return pods[index % len(pods)]

    def pick_endpoint(self, source: PodInfo, upstream: Upstream, purpose: str = "") -> PodInfo:
        """The endpoint of ``upstream`` that ``source`` sends its next request (or mirror, or connection) to."""
        if upstream.random_load_balancing:
            return upstream.endpoints[self._rng.randrange(len(upstream.endpoints))]
        key = (source.name, upstream.service.fqdn, upstream.destination.subset or "", purpose)
        return self.pick_round_robin(key, upstream.endpoints)
