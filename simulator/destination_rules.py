"""Istio DestinationRules as a client proxy applies them: rule lookup, subsets, traffic policy.

Which DestinationRule governs a host as seen from a client namespace (client namespace,
then service namespace, then the root namespace), the labels and traffic policy of a
subset, and the ready pods a destination subset resolves to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.mesh_snapshot import (
    ROOT_NAMESPACE,
    MeshSnapshot,
    PodInfo,
    ServiceInfo,
    host_candidates,
    host_pattern_matches,
    labels_include,
    object_namespace,
    object_spec,
)


def destination_rule_for(snapshot: MeshSnapshot, fqdn: str, client_namespace: str) -> dict[str, Any] | None:
    """The DestinationRule for ``fqdn`` as seen from ``client_namespace``.

    Precedence: the client's namespace, then the service's namespace, then the root namespace;
    within one namespace an exact host beats a wildcard, then the oldest wins.
    """
    key = ("destination_rule", fqdn, client_namespace)
    if key not in snapshot.memo:
        snapshot.memo[key] = _destination_rule_for(snapshot, fqdn, client_namespace)
    rule: dict[str, Any] | None = snapshot.memo[key]
    return rule


def _destination_rule_for(snapshot: MeshSnapshot, fqdn: str, client_namespace: str) -> dict[str, Any] | None:
    service = snapshot.services.get(fqdn)
    namespaces = [client_namespace, service.namespace if service else client_namespace, ROOT_NAMESPACE]
    for namespace in dict.fromkeys(namespaces):
        exact, wildcard = [], []
        for rule in snapshot.destination_rules:
            if object_namespace(rule) != namespace:
                continue
            host = str(object_spec(rule).get("host") or "")
            candidates = host_candidates(host, namespace, snapshot.cluster_domain)
            if fqdn in candidates:
                exact.append(rule)
            elif any(host_pattern_matches(candidate, fqdn) for candidate in candidates):
                wildcard.append(rule)
        if exact or wildcard:
            return (exact or wildcard)[0]
    return None


def subset_labels(rule: Mapping[str, Any] | None, subset: str) -> dict[str, str] | None:
    """Labels of ``subset`` in the DestinationRule; None when the subset is not defined."""
    for item in object_spec(rule or {}).get("subsets") or []:
        if item.get("name") == subset:
            return {str(k): str(v) for k, v in (item.get("labels") or {}).items()}
    return None


def traffic_policy(rule: Mapping[str, Any] | None, subset: str | None) -> dict[str, Any]:
    """The rule's ``trafficPolicy`` with a subset's own policy layered on top."""
    policy = dict(object_spec(rule or {}).get("trafficPolicy") or {})
    for item in object_spec(rule or {}).get("subsets") or []:
        if subset is not None and item.get("name") == subset:
            policy.update(item.get("trafficPolicy") or {})
    return policy


def subset_endpoints(
    snapshot: MeshSnapshot, service: ServiceInfo, subset: str | None, rule: Mapping[str, Any] | None
) -> list[PodInfo] | None:
    """Ready pods of the service restricted to the subset; None when the subset is undefined."""
    endpoints = snapshot.ready_endpoints(service)
    if subset is None:
        return endpoints
    labels = subset_labels(rule, subset)
    if labels is None:
        return None
    return [pod for pod in endpoints if labels_include(pod.labels, labels)]
