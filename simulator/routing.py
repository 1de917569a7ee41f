"""Istio route selection evaluated over plain Kubernetes/Istio object dicts.

Pure functions and immutable data only: over a ``MeshSnapshot`` (one indexed read of the
cluster objects, see ``simulator.mesh_snapshot``) the helpers of this module and its siblings
answer the questions an Envoy sidecar answers for every request:

* which VirtualService and which ``http`` or ``tcp`` route apply to a request, and which
  weighted destination serves it (this module; oldest VirtualService for sidecars, first
  matching route wins),
* whether a route's ``match`` blocks accept the request (``simulator.request_matching``),
* which fault injection, timeout, retry and mirror policies the route carries
  (``simulator.route_policies``),
* which subset, traffic policy and ready pods serve a destination (``simulator.destination_rules``),
* whether the hop is mutual TLS according to PeerAuthentication and DestinationRule TLS mode
  (``simulator.mutual_tls``).

Randomness is always passed in as a ``random.Random`` so callers stay deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from simulator.mesh_snapshot import (
    MeshSnapshot,
    configured_hosts_match,
    labels_include,
    object_name,
    object_namespace,
    object_spec,
)
from simulator.request_matching import MESH_GATEWAY, RequestAttributes, gateway_selected, route_matches
from simulator.route_policies import Destination, HttpRouteDecision, parse_http_route


def virtual_services_for_host(snapshot: MeshSnapshot, fqdn: str, gateway: str = MESH_GATEWAY) -> list[dict[str, Any]]:
    """VirtualServices bound to the proxy (``gateway``) whose hosts denote ``fqdn``, oldest first."""
    key = ("virtual_services", fqdn, gateway)
    if key not in snapshot.memo:
        snapshot.memo[key] = _virtual_services_for_host(snapshot, fqdn, gateway)
    result: list[dict[str, Any]] = snapshot.memo[key]
    return result


def _virtual_services_for_host(snapshot: MeshSnapshot, fqdn: str, gateway: str) -> list[dict[str, Any]]:
    return [
        vs
        for vs in snapshot.virtual_services
        if gateway_selected(object_spec(vs).get("gateways") or [MESH_GATEWAY], gateway)
        and configured_hosts_match(
            object_spec(vs).get("hosts") or [], object_namespace(vs), fqdn, snapshot.cluster_domain
        )
    ]


def decide_http_route(snapshot: MeshSnapshot, fqdn: str, request: RequestAttributes) -> HttpRouteDecision | None:
    """The route a proxy applies to a request for ``fqdn``; None when a VirtualService applies but no
    route matches (Envoy answers 404 "NR").

    Sidecars use the oldest applicable VirtualService; gateways merge the routes of all of them
    in creation order.  Without any VirtualService the request goes straight to the service.
    """
    candidates = virtual_services_for_host(snapshot, fqdn, request.gateway)
    if not candidates:
        return HttpRouteDecision(destinations=((Destination(fqdn), 100.0),))
    if request.gateway == MESH_GATEWAY:
        candidates = candidates[:1]
    for vs in candidates:
        for index, route in enumerate(object_spec(vs).get("http") or []):
            if route_matches(route, request):
                key = ("http_route", object_namespace(vs), object_name(vs), index)
                if key not in snapshot.memo:
                    snapshot.memo[key] = parse_http_route(route, vs, snapshot.cluster_domain)
                decision: HttpRouteDecision = snapshot.memo[key]
                return decision
    return None


def decide_tcp_destinations(
    snapshot: MeshSnapshot, fqdn: str, source_labels: Mapping[str, str], port: int | None
) -> tuple[tuple[Destination, float], ...] | None:
    """Weighted destinations of the first matching ``tcp`` route; None when no VirtualService has one."""
    for vs in virtual_services_for_host(snapshot, fqdn)[:1]:
        for route in object_spec(vs).get("tcp") or []:
            blocks = route.get("match") or []
            if blocks and not any(
                labels_include(source_labels, block.get("sourceLabels"))
                and (block.get("port") is None or port is None or int(block["port"]) == port)
                for block in blocks
            ):
                continue
            parsed = parse_http_route(route, vs, snapshot.cluster_domain)
            return parsed.destinations
    return None


def choose_weighted(destinations: Sequence[tuple[Destination, float]], rng: random.Random) -> Destination | None:
    """Pick a destination proportionally to its weight (uniformly when all weights are zero)."""
    if not destinations:
        return None
    total = sum(max(weight, 0.0) for _, weight in destinations)
    if total <= 0:
        return destinations[rng.randrange(len(destinations))][0]
    point = rng.random() * total
    for destination, weight in destinations:
        point -= max(weight, 0.0)
        if point < 0:
            return destination
    return destinations[-1][0]
