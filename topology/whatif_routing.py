"""Istio's HTTP routing as the what-if preview needs it: where a caller's requests for a service go, as shares.

Pure (no Django, no network); hand-written because no library evaluates Istio routing outside Envoy. The rules are
Istio's for a sidecar (the ``mesh`` gateway):

- the VirtualService whose ``hosts`` name the service routes every request for it (when several do, Istio uses the
  oldest; mesh-ui has no creation times here and prefers the one in the service's namespace, then by name, and
  says so);
- its ``http`` routes are tried in order and the first whose ``match`` accepts the request wins (blocks of a
  ``match`` are OR-ed, the conditions of a block AND-ed); a request no route accepts is answered ``404`` (``NR``);
- a route's destinations split its requests by ``weight``; a destination's ``subset`` is the DestinationRule's
  labels, and a subset no DestinationRule defines fails with ``503`` (``NC``);
- within a destination, requests spread evenly over the ready endpoints (pods) of the workloads it selects, so a
  workload's share is proportional to its ready pods; none ready fails with ``503`` (``UH``);
- without a VirtualService the service's own endpoints share the requests (same even spread);
- ``fault.abort`` fails its percentage with its status before any destination; ``fault.delay`` delays its
  percentage; ``mirror``/``mirrors`` copy the requests that pass to another destination, whose answers the caller
  never sees; ``directResponse`` and ``redirect`` answer without a destination.

What a match tests that telemetry does not record (headers, URI, query, method) is unknown: such a route catches
an unknown share (an ``Estimate`` between 0 and what is left), unless ``observed_shares`` gives the share measured
for it. What telemetry does record (the caller's labels and namespace) is evaluated exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from topology.whatif_model import (
    EPSILON,
    ONE,
    ZERO,
    Estimate,
    MeshInventory,
    RoutingObject,
    ServiceBackend,
    WorkloadBackend,
)

MESH_GATEWAY = "mesh"
#: Match conditions on the request itself: telemetry does not record them.
REQUEST_CONDITIONS = ("uri", "scheme", "method", "authority", "headers", "queryParams", "withoutHeaders", "port")

ServiceKey = tuple[str, str]  # (namespace, name)
WorkloadKey = tuple[str, str]


@dataclass(frozen=True)
class Caller:
    """Who sends the requests: what a ``sourceLabels``/``sourceNamespace`` match can test."""

    namespace: str
    labels: Mapping[str, str]
    is_gateway: bool = False


@dataclass(frozen=True)
class Branch:
    """A share of a caller's requests for a service and what happens to it.

    ``service`` is the service the requests reach (telemetry names it as the destination); ``endpoints`` the
    workloads that serve them with each one's part of this branch (summing to 1), empty when they fail before a
    workload (``status`` is then the answer) or go outside the inventory (``external``).
    """

    fraction: Estimate
    service: ServiceKey
    endpoints: tuple[tuple[WorkloadKey, float], ...] = ()
    status: int | None = None
    mirror: bool = False
    external: bool = False
    delay_ms: float = 0.0
    delayed_share: float = 0.0
    timeout_ms: float | None = None
    note: str = ""

    @property
    def fails(self) -> bool:
        return self.status is not None and self.status >= 400


def parse_duration_ms(text: Any) -> float | None:
    """A protobuf duration (``7s``, ``0.5s``, ``100ms``, ``1m``, ``1h``) in milliseconds; None when absent or bad."""
    if not isinstance(text, str):
        return None
    found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)\s*", text)
    if not found:
        return None
    scale = {"ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[found.group(2)]
    return float(found.group(1)) * scale


def percentage_of(spec: Mapping[str, Any], default: float = 100.0) -> float:
    """A fault's or mirror's percentage as a fraction 0..1: ``percentage.value``, legacy ``percent``, else default."""
    percentage = spec.get("percentage")
    if isinstance(percentage, Mapping) and isinstance(percentage.get("value"), int | float):
        value = float(percentage["value"])
    elif isinstance(spec.get("percent"), int | float):
        value = float(spec["percent"])
    else:
        value = default
    return min(max(value, 0.0), 100.0) / 100.0


def _labels_include(labels: Mapping[str, str], wanted: Any) -> bool:
    return isinstance(wanted, Mapping) and all(labels.get(k) == v for k, v in wanted.items())


def evaluate_match(match: Any, caller: Caller) -> bool | None:
    """Whether a route's ``match`` list accepts the caller's requests: True, False, or None (depends on the request,
    which telemetry does not record). No ``match`` accepts everything."""
    if not isinstance(match, list) or not match:
        return True
    outcomes = [_evaluate_block(block, caller) for block in match if isinstance(block, Mapping)]
    if not outcomes:
        return True
    if any(o is True for o in outcomes):
        return True
    if all(o is False for o in outcomes):
        return False
    return None


def _evaluate_block(block: Mapping[str, Any], caller: Caller) -> bool | None:
    outcome: bool | None = True
    if "sourceLabels" in block and not _labels_include(caller.labels, block["sourceLabels"]):
        return False
    if "sourceNamespace" in block and block["sourceNamespace"] != caller.namespace:
        return False
    gateways = block.get("gateways")
    if isinstance(gateways, list) and gateways:
        if MESH_GATEWAY not in gateways and not caller.is_gateway:
            return False
        if caller.is_gateway:
            outcome = None  # which gateway resource binds the caller is not known here
    if any(key in block for key in REQUEST_CONDITIONS):
        outcome = None
    return outcome


def match_key(route: Mapping[str, Any]) -> str:
    """A route's ``match`` as comparable text (two routes with the same key accept the same requests)."""
    return json.dumps(route.get("match") or [], sort_keys=True)


def http_routes(vs: RoutingObject | None) -> list[Mapping[str, Any]]:
    routes = vs.spec.get("http") if vs is not None else None
    return [r for r in routes if isinstance(r, Mapping)] if isinstance(routes, list) else []


class RoutingConfig:
    """One set of VirtualServices and DestinationRules over the cluster's services and workloads."""

    def __init__(self, objects: Sequence[RoutingObject], inventory: MeshInventory) -> None:
        self.inventory = inventory
        self.domain = inventory.domain_suffix
        self.services: dict[ServiceKey, ServiceBackend] = {(s.namespace, s.name): s for s in inventory.services}
        self.workloads: tuple[WorkloadBackend, ...] = inventory.workloads
        #: Workloads by (namespace, label, value) of their labels: a selector's first label narrows the search.
        self._workloads_by_label: dict[tuple[str, str, str], list[WorkloadBackend]] = {}
        for workload in inventory.workloads:
            for label, value in workload.labels.items():
                self._workloads_by_label.setdefault((workload.namespace, label, value), []).append(workload)
        self.virtual_services = sorted(
            (o for o in objects if o.kind == "VirtualService"), key=lambda o: (o.namespace, o.name)
        )
        self.destination_rules = sorted(
            (o for o in objects if o.kind == "DestinationRule"), key=lambda o: (o.namespace, o.name)
        )
        # Objects by the service their host names (wildcard hosts apart): lookups stay O(1) on large meshes.
        self._vs_index = self._index(
            [vs for vs in self.virtual_services if MESH_GATEWAY in (vs.spec.get("gateways") or [MESH_GATEWAY])],
            lambda o: o.spec.get("hosts") or [],
        )
        self._dr_index = self._index(self.destination_rules, lambda o: [o.spec.get("host")])
        self._virtual_service: dict[ServiceKey, tuple[RoutingObject | None, str]] = {}
        self._destination_rule: dict[ServiceKey, RoutingObject | None] = {}
        self._endpoints: dict[tuple[ServiceKey, str], tuple[tuple[WorkloadKey, float], ...]] = {}

    # --- names -------------------------------------------------------------------------------------------------

    def resolve_host(self, host: Any, namespace: str) -> ServiceKey | None:
        """The service a host names from an object in ``namespace`` (short names are in that namespace); None for a
        wildcard or a host that is not a Kubernetes service of this domain."""
        if not isinstance(host, str) or not host or "*" in host:
            return None
        parts = host.split(".")
        if len(parts) == 1:
            return (namespace, host)
        if len(parts) == 2 or (len(parts) == 3 and parts[2] == "svc"):
            return (parts[1], parts[0])
        if host.endswith(f".svc.{self.domain}") and len(parts) == 3 + len(self.domain.split(".")):
            return (parts[1], parts[0])
        return None

    def _host_covers(self, host: Any, namespace: str, service: ServiceKey) -> bool:
        if isinstance(host, str) and host.startswith("*"):
            fqdn = f"{service[1]}.{service[0]}.svc.{self.domain}"
            return host == "*" or fqdn.endswith(host[1:])
        return self.resolve_host(host, namespace) == service

    # --- lookups -----------------------------------------------------------------------------------------------

    def virtual_service_for(self, service: ServiceKey) -> tuple[RoutingObject | None, str]:
        """The VirtualService that routes sidecars' requests for ``service``, and a note when several could."""
        if service not in self._virtual_service:
            self._virtual_service[service] = self._find_virtual_service(service)
        return self._virtual_service[service]

    def _index(
        self, objects: Sequence[RoutingObject], hosts_of: Any
    ) -> tuple[dict[ServiceKey, list[RoutingObject]], list[RoutingObject]]:
        """``(objects by the service a host names, objects with a wildcard host)``."""
        named: dict[ServiceKey, list[RoutingObject]] = {}
        wildcards: list[RoutingObject] = []
        for obj in objects:
            hosts = [h for h in hosts_of(obj) if isinstance(h, str)]
            if any("*" in h for h in hosts):
                wildcards.append(obj)
            for service in {self.resolve_host(h, obj.namespace) for h in hosts} - {None}:
                assert service is not None
                named.setdefault(service, []).append(obj)
        return named, wildcards

    def _candidates(
        self,
        index: tuple[dict[ServiceKey, list[RoutingObject]], list[RoutingObject]],
        service: ServiceKey,
        hosts_of: Any,
    ) -> list[RoutingObject]:
        named, wildcards = index
        found = list(named.get(service, []))
        found += [
            o
            for o in wildcards
            if o not in found and any(self._host_covers(h, o.namespace, service) for h in hosts_of(o))
        ]
        return found

    def _find_virtual_service(self, service: ServiceKey) -> tuple[RoutingObject | None, str]:
        found = self._candidates(self._vs_index, service, lambda o: o.spec.get("hosts") or [])
        if not found:
            return None, ""
        found.sort(key=lambda vs: (vs.namespace != service[0], vs.namespace, vs.name))
        note = ""
        if len(found) > 1:
            names = ", ".join(f"{vs.namespace}/{vs.name}" for vs in found)
            first = f"{found[0].namespace}/{found[0].name}"
            note = f"several VirtualServices route {service[1]} ({names}): Istio uses the oldest; assumed {first}"
        return found[0], note

    def destination_rule_for(self, service: ServiceKey) -> RoutingObject | None:
        """The DestinationRule of ``service`` (the one in its namespace first)."""
        if service not in self._destination_rule:
            self._destination_rule[service] = self._find_destination_rule(service)
        return self._destination_rule[service]

    def _find_destination_rule(self, service: ServiceKey) -> RoutingObject | None:
        found = self._candidates(self._dr_index, service, lambda o: [o.spec.get("host")])
        found.sort(key=lambda dr: (dr.namespace != service[0], dr.namespace, dr.name))
        return found[0] if found else None

    def subset_labels(self, service: ServiceKey, subset: str) -> Mapping[str, str] | None:
        rule = self.destination_rule_for(service)
        subsets = rule.spec.get("subsets") if rule is not None else None
        for entry in subsets if isinstance(subsets, list) else []:
            if isinstance(entry, Mapping) and entry.get("name") == subset:
                labels = entry.get("labels")
                return labels if isinstance(labels, Mapping) else {}
        return None

    def endpoints(
        self, service: ServiceKey, subset: Mapping[str, str] | None = None
    ) -> tuple[tuple[WorkloadKey, float], ...]:
        """The workloads serving ``service`` (and ``subset``), each with its share: proportional to ready pods."""
        key = (service, json.dumps(subset or {}, sort_keys=True))
        if key not in self._endpoints:
            self._endpoints[key] = self._find_endpoints(service, subset)
        return self._endpoints[key]

    def _find_endpoints(
        self, service: ServiceKey, subset: Mapping[str, str] | None
    ) -> tuple[tuple[WorkloadKey, float], ...]:
        backend = self.services.get(service)
        if backend is None or not backend.selector:
            return ()
        label, value = next(iter(backend.selector.items()))
        chosen = [
            w
            for w in self._workloads_by_label.get((service[0], label, str(value)), [])
            if _labels_include(w.labels, backend.selector)
            and _labels_include(w.labels, subset or {})
            and w.ready_pods > 0
        ]
        pods = sum(w.ready_pods for w in chosen)
        return tuple(((w.namespace, w.name), w.ready_pods / pods) for w in chosen)

    def signature(self, service: ServiceKey) -> str:
        """Everything of this configuration that decides where requests for ``service`` go: equal signatures,
        same routing."""
        vs, _ = self.virtual_service_for(service)
        targets = {service}
        for route in http_routes(vs):
            for entry in _destinations_of(route):
                resolved = self.resolve_host(entry.get("host"), vs.namespace if vs else service[0])
                if resolved is not None:
                    targets.add(resolved)
        rules = {}
        for target in sorted(targets):
            rule = self.destination_rule_for(target)
            rules["/".join(target)] = rule.spec.get("subsets") if rule is not None else None
        return json.dumps({"vs": vs.spec if vs is not None else None, "subsets": rules}, sort_keys=True, default=str)

    # --- routing -----------------------------------------------------------------------------------------------

    def route(
        self, service: ServiceKey, caller: Caller, observed_shares: Mapping[int, float] | None = None
    ) -> tuple[list[Branch], list[str]]:
        """Where ``caller``'s requests for ``service`` go, as branches whose fractions sum to 1 (mirrors apart),
        and notes on what is assumed or unknown."""
        vs, note = self.virtual_service_for(service)
        notes = [note] if note else []
        if vs is None:
            return [self._destination_branch(service, None, ONE, service)], notes
        remaining = ONE
        branches: list[Branch] = []
        for index, route in enumerate(http_routes(vs)):
            accepted = evaluate_match(route.get("match"), caller)
            if accepted is False:
                continue
            if accepted is True:
                caught, remaining = remaining, ZERO
            elif observed_shares is not None and index in observed_shares:
                share = observed_shares[index]
                caught = Estimate.between(min(share, remaining.low), min(share, remaining.high))
                if remaining.known:
                    caught = Estimate.exact(min(share, remaining.low))
                remaining = Estimate.between(max(0.0, remaining.low - share), max(0.0, remaining.high - share))
                notes.append(
                    f"{vs.namespace}/{vs.name} route {index + 1}: share of matching requests taken from telemetry "
                    f"({100 * share:.1f}%: the same match routes to its own workloads today)"
                )
            else:
                caught = Estimate.between(0.0, remaining.high)
                remaining = Estimate.between(0.0, remaining.high)
                notes.append(
                    f"{vs.namespace}/{vs.name} route {index + 1}: unknown share (the match tests what telemetry does "
                    f"not record: {', '.join(sorted(_request_conditions(route.get('match'))))})"
                )
            branches.extend(self._route_branches(route, vs, service, caught))
            if remaining.high <= EPSILON:
                break
        if remaining.high > EPSILON:
            branches.append(Branch(remaining, service, status=404, note="no route matches (404 NR)"))
        return branches, notes

    def _route_branches(
        self, route: Mapping[str, Any], vs: RoutingObject, service: ServiceKey, caught: Estimate
    ) -> list[Branch]:
        branches: list[Branch] = []
        fault = route.get("fault") if isinstance(route.get("fault"), Mapping) else {}
        passing = caught
        abort = fault.get("abort") if isinstance(fault, Mapping) else None
        if isinstance(abort, Mapping):
            share = percentage_of(abort)
            status = abort.get("httpStatus")
            code = int(status) if isinstance(status, int) else 503 if "grpcStatus" in abort else 500
            branches.append(Branch(caught.scaled(share), service, status=code, note=f"fault abort {code}"))
            passing = caught.scaled(1.0 - share)
        delay = fault.get("delay") if isinstance(fault, Mapping) else None
        delay_ms = parse_duration_ms(delay.get("fixedDelay")) if isinstance(delay, Mapping) else None
        delayed_share = percentage_of(delay) if isinstance(delay, Mapping) and delay_ms else 0.0
        timeout_ms = parse_duration_ms(route.get("timeout"))
        if isinstance(route.get("directResponse"), Mapping) or isinstance(route.get("redirect"), Mapping):
            answer = route.get("directResponse") or {}
            status = (
                answer.get("status") if "status" in answer else (route.get("redirect") or {}).get("redirectCode", 301)
            )
            code = int(status) if isinstance(status, int | str) and str(status).isdigit() else 200
            branches.append(Branch(passing, service, status=code, note="answered by the proxy"))
            return branches
        entries = [e for e in route.get("route") or [] if isinstance(e, Mapping)]
        weights = _weights(entries)
        for entry, weight in zip(entries, weights, strict=True):
            if weight <= 0:
                continue
            branch = self._destination_branch(
                service, entry.get("destination"), passing.scaled(weight), self._target(entry, vs, service)
            )
            branches.append(
                _with_timing(branch, delay_ms or 0.0, delayed_share, timeout_ms) if not branch.fails else branch
            )
        for mirror, share in _mirrors_of(route):
            target = self.resolve_host(mirror.get("host"), vs.namespace)
            if target is None:
                continue
            branch = self._destination_branch(service, mirror, passing.scaled(share), target)
            branches.append(
                Branch(branch.fraction, target, branch.endpoints, branch.status, True, branch.external, note="mirror")
            )
        return branches

    def _target(self, entry: Mapping[str, Any], vs: RoutingObject, service: ServiceKey) -> ServiceKey:
        destination = entry.get("destination") if isinstance(entry.get("destination"), Mapping) else {}
        assert isinstance(destination, Mapping)
        return self.resolve_host(destination.get("host"), vs.namespace) or ("", str(destination.get("host", "")))

    def _destination_branch(
        self, service: ServiceKey, destination: Any, fraction: Estimate, target: ServiceKey
    ) -> Branch:
        subset = destination.get("subset") if isinstance(destination, Mapping) else None
        if target[0] == "" or target not in self.services:
            return Branch(fraction, target, external=True, note=f"{target[1]} is not a service of the inventory")
        labels: Mapping[str, str] | None = None
        if isinstance(subset, str) and subset:
            labels = self.subset_labels(target, subset)
            if labels is None:
                return Branch(fraction, target, status=503, note=f"no DestinationRule defines subset {subset} (503 NC)")
        endpoints = self.endpoints(target, labels)
        if not endpoints:
            what = f"subset {subset} of {target[1]}" if subset else target[1]
            return Branch(fraction, target, status=503, note=f"{what} has no ready endpoint (503 UH)")
        return Branch(fraction, target, endpoints)


def _with_timing(branch: Branch, delay_ms: float, delayed_share: float, timeout_ms: float | None) -> Branch:
    return Branch(
        branch.fraction,
        branch.service,
        branch.endpoints,
        branch.status,
        branch.mirror,
        branch.external,
        delay_ms,
        delayed_share,
        timeout_ms,
        branch.note,
    )


def _destinations_of(route: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [e.get("destination") for e in route.get("route") or [] if isinstance(e, Mapping)]
    found += [m for m, _ in _mirrors_of(route)]
    return [d for d in found if isinstance(d, Mapping)]


def _weights(entries: Sequence[Mapping[str, Any]]) -> list[float]:
    """Each destination's part: ``weight`` / total; one destination takes all; none weighted: an even split."""
    given = [e.get("weight") for e in entries]
    if len(entries) == 1:
        return [1.0]
    if all(w is None for w in given):
        return [1.0 / len(entries)] * len(entries) if entries else []
    numbers = [float(w) if isinstance(w, int | float) and w > 0 else 0.0 for w in given]
    total = sum(numbers)
    return [n / total for n in numbers] if total > 0 else [0.0] * len(entries)


def _mirrors_of(route: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], float]]:
    """``(destination, fraction mirrored)`` of ``mirror`` (with ``mirrorPercentage``) and of ``mirrors``."""
    found: list[tuple[Mapping[str, Any], float]] = []
    mirror = route.get("mirror")
    if isinstance(mirror, Mapping):
        percentage = route.get("mirrorPercentage")
        legacy = route.get("mirrorPercent")
        spec: dict[str, Any] = {"percentage": percentage} if isinstance(percentage, Mapping) else {"percent": legacy}
        found.append((mirror, percentage_of(spec)))
    for entry in route.get("mirrors") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("destination"), Mapping):
            found.append((entry["destination"], percentage_of(entry)))
    return found


def _request_conditions(match: Any) -> set[str]:
    found: set[str] = set()
    for block in match if isinstance(match, list) else []:
        if isinstance(block, Mapping):
            found.update(key for key in REQUEST_CONDITIONS if key in block)
            if "gateways" in block:
                found.add("gateways")
    return found
