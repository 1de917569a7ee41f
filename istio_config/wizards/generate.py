"""The objects a routing wizard writes: a DestinationRule with the service's subsets (and, for circuit breaking, its
traffic policy) and, for every wizard but circuit breaking, a VirtualService.

Pure functions over :mod:`istio_config.wizards.inputs`. Each object carries the label
``mesh-ui.io/wizard: <wizard>`` so that "Remove routing" finds exactly what wizards wrote. An object a wizard
replaces (an earlier wizard's, or a hand-written one the user agreed to replace) is passed as :class:`Replaced`:
its name and labels are kept, and so are a DestinationRule's subsets and traffic policy, to which the wizard adds
what is missing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from istio_config.wizards.inputs import (
    WIZARD_LABEL,
    CircuitBreaking,
    FaultInjection,
    Mirroring,
    RequestRouting,
    ServiceTarget,
    TimeoutsRetries,
    TrafficShifting,
    WizardInput,
)

API_VERSION = "networking.istio.io/v1"
Obj = dict[str, Any]
Subsets = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True)
class Replaced:
    """An object of the service the wizard's object of the same kind replaces."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)


def plan_subsets(versions: list[str] | tuple[str, ...], existing: list[Any] | None = None) -> Subsets:
    """The subsets the DestinationRule holds: ``existing`` (a replaced rule's ``spec.subsets``) as they are, then one
    subset ``v`` with labels ``{version: v}`` per version in ``versions`` that no existing subset selects alone.

    Subsets of ``existing`` that are not well formed (no name) are dropped; versions are taken sorted, once.
    """
    subsets: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for entry in existing or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            found = entry.get("labels")
            labels: dict[str, Any] = found if isinstance(found, dict) else {}
            subsets.append((entry["name"], tuple(sorted((str(k), str(v)) for k, v in labels.items()))))
    covered = {dict(labels).get("version") for _, labels in subsets if len(labels) == 1}
    names = {name for name, _ in subsets}
    for version in sorted(set(versions)):
        if version and version not in covered and version not in names:
            subsets.append((version, (("version", version),)))
    return tuple(subsets)


def _metadata(target: ServiceTarget, wizard: str, replaced: Replaced | None) -> Obj:
    labels = {**(replaced.labels if replaced else {}), WIZARD_LABEL: wizard}
    name = replaced.name if replaced else target.name
    return {"name": name, "namespace": target.namespace, "labels": labels}


def build_destination_rule(
    target: ServiceTarget, wizard: str, replaced: Replaced | None = None, policy: Obj | None = None
) -> Obj:
    """The service's DestinationRule: ``target.subsets``, the replaced rule's other fields, and ``policy`` (connection
    pool and outlier detection) over the replaced rule's traffic policy when given."""
    spec: Obj = copy.deepcopy(replaced.spec) if replaced else {}
    spec["host"] = target.host
    spec["subsets"] = [{"name": name, "labels": dict(labels)} for name, labels in target.subsets]
    if policy:
        spec["trafficPolicy"] = {**spec.get("trafficPolicy", {}), **policy}
    metadata = _metadata(target, wizard, replaced)
    return {"apiVersion": API_VERSION, "kind": "DestinationRule", "metadata": metadata, "spec": spec}


def _destination(target: ServiceTarget, subset: str = "") -> Obj:
    destination: Obj = {"host": target.host}
    if subset:
        destination["subset"] = subset
    return destination


def _route(target: ServiceTarget, subset: str = "") -> list[Obj]:
    return [{"destination": _destination(target, subset)}]


def build_virtual_service(
    target: ServiceTarget,
    wizard: str,
    replaced: Replaced | None = None,
    http: list[Obj] | None = None,
    tcp: list[Obj] | None = None,
) -> Obj:
    """The service's VirtualService with ``http`` and/or ``tcp`` routes (the replaced one's routes are not kept)."""
    spec: Obj = {"hosts": [target.host]}
    if http:
        spec["http"] = http
    if tcp:
        spec["tcp"] = tcp
    metadata = _metadata(target, wizard, replaced)
    return {"apiVersion": API_VERSION, "kind": "VirtualService", "metadata": metadata, "spec": spec}


def request_routing_routes(wizard: RequestRouting, target: ServiceTarget) -> list[Obj]:
    """One route per rule (its conditions ANDed in one match block), then the default route."""
    routes: list[Obj] = []
    for rule in wizard.rules:
        block: Obj = {}
        for match in rule.matches:
            for key, value in match.as_istio().items():
                if isinstance(value, dict) and key != "uri":
                    block.setdefault(key, {}).update(value)
                else:
                    block[key] = value
        routes.append({"match": [block], "route": _route(target, rule.subset)})
    routes.append({"route": _route(target, wizard.default_subset)})
    return routes


def weighted_route(wizard: TrafficShifting, target: ServiceTarget) -> list[Obj]:
    """The weighted destinations of one route; subsets at 0 are left out (the rest still sum to 100)."""
    return [
        {"destination": _destination(target, subset), "weight": weight} for subset, weight in wizard.weights if weight
    ]


def _percentage(value: float) -> Obj:
    return {"value": int(value) if float(value).is_integer() else value}


def fault_routes(wizard: FaultInjection, target: ServiceTarget) -> list[Obj]:
    """The faulty route (for the match only, when one is given, followed by a clean default route)."""
    fault: Obj = {}
    if wizard.delay_percent:
        fault["delay"] = {"percentage": _percentage(wizard.delay_percent), "fixedDelay": wizard.delay}
    if wizard.abort_percent:
        fault["abort"] = {"percentage": _percentage(wizard.abort_percent), "httpStatus": wizard.abort_status}
    faulty: Obj = {"fault": fault, "route": _route(target, wizard.route_subset)}
    if wizard.match is None:
        return [faulty]
    return [{"match": [wizard.match.as_istio()], **faulty}, {"route": _route(target, wizard.route_subset)}]


def timeout_routes(wizard: TimeoutsRetries, target: ServiceTarget) -> list[Obj]:
    route: Obj = {"route": _route(target, wizard.route_subset)}
    if wizard.timeout:
        route["timeout"] = wizard.timeout
    if wizard.attempts:
        retries: Obj = {"attempts": wizard.attempts}
        if wizard.per_try_timeout:
            retries["perTryTimeout"] = wizard.per_try_timeout
        if wizard.retry_on:
            retries["retryOn"] = wizard.retry_on
        route["retries"] = retries
    return [route]


def mirror_routes(wizard: Mirroring, target: ServiceTarget) -> list[Obj]:
    return [
        {
            "route": _route(target, wizard.route_subset),
            "mirror": _destination(target, wizard.mirror_subset),
            "mirrorPercentage": _percentage(wizard.percent),
        }
    ]


def circuit_breaker_policy(wizard: CircuitBreaking) -> Obj:
    """The ``trafficPolicy`` fields of a circuit breaker: ``connectionPool`` and ``outlierDetection``."""
    policy: Obj = {}
    tcp = {"maxConnections": wizard.max_connections} if wizard.max_connections is not None else {}
    http: Obj = {}
    if wizard.http1_max_pending_requests is not None:
        http["http1MaxPendingRequests"] = wizard.http1_max_pending_requests
    if wizard.max_requests_per_connection is not None:
        http["maxRequestsPerConnection"] = wizard.max_requests_per_connection
    pool = {key: value for key, value in (("tcp", tcp), ("http", http)) if value}
    if pool:
        policy["connectionPool"] = pool
    if wizard.consecutive_5xx_errors is not None:
        outlier: Obj = {"consecutive5xxErrors": wizard.consecutive_5xx_errors}
        if wizard.interval:
            outlier["interval"] = wizard.interval
        if wizard.base_ejection_time:
            outlier["baseEjectionTime"] = wizard.base_ejection_time
        if wizard.max_ejection_percent is not None:
            outlier["maxEjectionPercent"] = wizard.max_ejection_percent
        policy["outlierDetection"] = outlier
    return policy


def build_wizard_objects(
    wizard: WizardInput,
    target: ServiceTarget,
    replaced_rule: Replaced | None = None,
    replaced_route: Replaced | None = None,
) -> list[Obj]:
    """The objects ``wizard`` writes for ``target``, DestinationRule first (a route names its subsets)."""
    name = wizard.wizard
    if isinstance(wizard, CircuitBreaking):
        return [build_destination_rule(target, name, replaced_rule, circuit_breaker_policy(wizard))]
    rule = build_destination_rule(target, name, replaced_rule)
    if isinstance(wizard, TrafficShifting) and wizard.protocol == "tcp":
        route = build_virtual_service(target, name, replaced_route, tcp=[{"route": weighted_route(wizard, target)}])
        return [rule, route]
    if isinstance(wizard, RequestRouting):
        http = request_routing_routes(wizard, target)
    elif isinstance(wizard, TrafficShifting):
        http = [{"route": weighted_route(wizard, target)}]
    elif isinstance(wizard, FaultInjection):
        http = fault_routes(wizard, target)
    elif isinstance(wizard, TimeoutsRetries):
        http = timeout_routes(wizard, target)
    else:
        http = mirror_routes(wizard, target)
    return [rule, build_virtual_service(target, name, replaced_route, http=http)]


def wizard_of(labels: dict[str, Any] | None) -> str:
    """The wizard that wrote an object with ``labels``; empty for an object written by hand."""
    value = (labels or {}).get(WIZARD_LABEL)
    return value if isinstance(value, str) else ""
