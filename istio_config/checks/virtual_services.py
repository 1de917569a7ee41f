"""Checks of VirtualServices: destinations, subsets, gateways, weights, repeated destinations, shadowed routes and
hosts claimed twice (Kiali's ``business/checkers/virtualservices`` and ``istioctl analyze``'s virtualservice
analyzers)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istio_config.checks import codes
from istio_config.checks.hosts import (
    HostRegistry,
    export_scope,
    host_matches,
    resolve_gateway_name,
    resolve_host,
    visible_from,
)
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, list_of, subset_names

ROUTE_KINDS = ("http", "tcp", "tls")
MESH_GATEWAY = "mesh"


def iter_destinations(vs: IstioConfig) -> Iterator[tuple[str, int, int, Mapping[str, Any]]]:
    """Each route destination of a VirtualService: (route kind, route index, destination index, route entry)."""
    for kind in ROUTE_KINDS:
        for route_index, route in enumerate(list_of(vs.spec.get(kind))):
            if not isinstance(route, dict):
                continue
            for dest_index, entry in enumerate(list_of(route.get("route"))):
                if isinstance(entry, dict) and isinstance(entry.get("destination"), dict):
                    yield kind, route_index, dest_index, entry


@dataclass(frozen=True)
class _RuleSubsets:
    """The subset names a DestinationRule defines, and which namespaces see the rule (its ``exportTo``)."""

    scope: frozenset[str] | None
    names: frozenset[str]


class VirtualServiceChecker:
    """Runs every VirtualService check over one inventory."""

    def __init__(self, inventory: ConfigInventory, registry: HostRegistry) -> None:
        self.inventory = inventory
        self.registry = registry
        self.gateways = {f"{gw.namespace}/{gw.name}" for gw in inventory.of_kind("Gateway")}
        self.exact_subsets: dict[str, list[_RuleSubsets]] = defaultdict(list)
        self.wildcard_subsets: list[tuple[str, _RuleSubsets]] = []
        for dr in inventory.of_kind("DestinationRule"):
            host = resolve_host(str(dr.spec.get("host", "")), dr.namespace, inventory.domain_suffix)
            names = subset_names(dr)
            rule = _RuleSubsets(_export_scope(dr), names)
            if host.startswith("*"):
                self.wildcard_subsets.append((host, rule))
            else:
                self.exact_subsets[host].append(rule)

    def check(self) -> list[Finding]:
        findings: list[Finding] = []
        virtual_services = self.inventory.of_kind("VirtualService")
        for vs in virtual_services:
            findings += self.check_destinations(vs)
            findings += self.check_gateways(vs)
            findings += self.check_weights(vs)
            findings += self.check_unreachable_routes(vs)
        findings += check_same_host(virtual_services, self.inventory.domain_suffix)
        return findings

    def _has_subset(self, host: str, subset: str, namespace: str) -> bool:
        """Whether a DestinationRule visible from ``namespace`` defines ``subset`` for ``host``."""
        rules = self.exact_subsets.get(host, ())
        if any(subset in rule.names and visible_from(rule.scope, namespace) for rule in rules):
            return True
        return any(
            subset in rule.names and visible_from(rule.scope, namespace) and host_matches(pattern, host)
            for pattern, rule in self.wildcard_subsets
        )

    def check_destinations(self, vs: IstioConfig) -> list[Finding]:
        """KIA1101 host not found, KIA1107 subset not found, KIA1105 the same destination twice in one route."""
        findings = []
        seen: dict[tuple[str, int, str, str, str], int] = {}
        for kind, route_index, dest_index, entry in iter_destinations(vs):
            destination = entry["destination"]
            raw_host = str(destination.get("host", ""))
            host = resolve_host(raw_host, vs.namespace, self.inventory.domain_suffix)
            path = f"spec.{kind}[{route_index}].route[{dest_index}].destination"
            if not self.registry.has_host(host, vs.namespace):
                findings.append(codes.make_finding(codes.VS_HOST_NOT_FOUND, vs, f"{path}.host", raw_host))
            subset = destination.get("subset")
            if subset and not self._has_subset(host, str(subset), vs.namespace):
                findings.append(
                    codes.make_finding(codes.VS_SUBSET_NOT_FOUND, vs, f"{path}.subset", f"{raw_host}/{subset}")
                )
            port = destination.get("port")
            port_number = str(port.get("number", "")) if isinstance(port, dict) else ""
            key = (kind, route_index, host, str(subset or ""), port_number)
            if key in seen:
                findings.append(
                    codes.make_finding(
                        codes.VS_REPEATED_DESTINATION,
                        vs,
                        path,
                        f"{raw_host}{'/' + str(subset) if subset else ''} (also route[{seen[key]}])",
                    )
                )
            else:
                seen[key] = dest_index
        return findings

    def _gateway_exists(self, reference: str, namespace: str) -> bool:
        resolved = resolve_gateway_name(reference, namespace)
        return resolved == MESH_GATEWAY or resolved in self.gateways

    def check_gateways(self, vs: IstioConfig) -> list[Finding]:
        """KIA1102 a gateway in ``spec.gateways`` or in an http/tls/tcp match that does not exist; KIA1108 one
        written in the legacy ``name.namespace`` form."""
        references = [(f"spec.gateways[{i}]", g) for i, g in enumerate(list_of(vs.spec.get("gateways")))]
        for kind in ROUTE_KINDS:
            for route_index, route in enumerate(list_of(vs.spec.get(kind))):
                for match_index, match in enumerate(list_of(route.get("match") if isinstance(route, dict) else None)):
                    if isinstance(match, dict):
                        for i, g in enumerate(list_of(match.get("gateways"))):
                            references.append((f"spec.{kind}[{route_index}].match[{match_index}].gateways[{i}]", g))
        findings = []
        for path, ref in references:
            if not self._gateway_exists(str(ref), vs.namespace):
                findings.append(codes.make_finding(codes.VS_GATEWAY_NOT_FOUND, vs, path, str(ref)))
            if "." in str(ref) and "/" not in str(ref):
                findings.append(codes.make_finding(codes.VS_GATEWAY_OLD_NOMENCLATURE, vs, path, str(ref)))
        return findings

    def check_weights(self, vs: IstioConfig) -> list[Finding]:
        """KIA1104 a lone destination weighted below 100; MUI1101 weights given that do not sum to 100."""
        findings = []
        for kind in ROUTE_KINDS:
            for route_index, route in enumerate(list_of(vs.spec.get(kind))):
                entries = [
                    e for e in list_of(route.get("route") if isinstance(route, dict) else None) if isinstance(e, dict)
                ]
                weights = [e.get("weight") for e in entries]
                if len(entries) == 1:
                    weight = weights[0]
                    if isinstance(weight, int) and 0 < weight < 100:
                        path = f"spec.{kind}[{route_index}].route[0].weight"
                        findings.append(codes.make_finding(codes.VS_SINGLE_WEIGHT, vs, path, str(weight)))
                elif any(w is not None for w in weights):
                    total = sum(w for w in weights if isinstance(w, int))
                    if total != 100:
                        path = f"spec.{kind}[{route_index}].route"
                        findings.append(codes.make_finding(codes.VS_WEIGHT_SUM, vs, path, f"the sum is {total}"))
        return findings

    def check_unreachable_routes(self, vs: IstioConfig) -> list[Finding]:
        """MUI1102 (IST0130): an http route after a route that matches every request, or whose every match an
        earlier route already has, is never used; MUI1103 (IST0131): one match of a route that an earlier route
        already has (``istioctl analyze``'s ``analyzeUnreachableHTTPRules``)."""
        findings = []
        catch_all: int | None = None
        earlier_matches: dict[str, int] = {}
        for route_index, route in enumerate(list_of(vs.spec.get("http"))):
            if not isinstance(route, dict):
                continue
            path = f"spec.http[{route_index}]"
            matches = list_of(route.get("match"))
            if catch_all is not None:
                detail = f"http[{catch_all}] before it matches every request"
                findings.append(codes.make_finding(codes.VS_UNREACHABLE_ROUTE, vs, path, detail))
                continue
            if matches_everything(route):
                catch_all = route_index
                continue
            # As istioctl, a match's name is not part of what it matches.
            keys = [json.dumps(_without_name(m), sort_keys=True) for m in matches]
            duplicates = [earlier_matches[k] for k in keys if k in earlier_matches]
            if len(duplicates) == len(keys):
                detail = f"all its matches are in http[{', '.join(str(d) for d in sorted(set(duplicates)))}]"
                findings.append(codes.make_finding(codes.VS_UNREACHABLE_ROUTE, vs, path, detail))
            else:
                for match_index, key in enumerate(keys):
                    if key in earlier_matches:
                        findings.append(
                            codes.make_finding(
                                codes.VS_INEFFECTIVE_MATCH,
                                vs,
                                f"{path}.match[{match_index}]",
                                f"http[{earlier_matches[key]}] has the same match",
                            )
                        )
            for key in keys:
                earlier_matches.setdefault(key, route_index)
        return findings


def _without_name(match: Any) -> Any:
    return {key: value for key, value in match.items() if key != "name"} if isinstance(match, dict) else match


def _is_catch_all_request_match(match: Any) -> bool:
    """Whether one HTTPMatchRequest matches every request: no condition, or only a ``/`` URI prefix."""
    if not isinstance(match, dict):
        return False
    conditions = _without_name(match)
    if not conditions:
        return True
    return conditions == {"uri": {"prefix": "/"}}


def matches_everything(route: Mapping[str, Any]) -> bool:
    """Whether an http route catches every request: no ``match``, or one match entry that matches everything."""
    matches = list_of(route.get("match"))
    return not matches or any(_is_catch_all_request_match(m) for m in matches)


def _gateway_keys(vs: IstioConfig) -> list[str]:
    """The gateways a VirtualService binds to, written ``namespace/name``; ``mesh`` when none are given."""
    gateways = [str(g) for g in list_of(vs.spec.get("gateways"))] or [MESH_GATEWAY]
    return [resolve_gateway_name(g, vs.namespace) for g in gateways]


def _export_scope(obj: IstioConfig) -> frozenset[str] | None:
    return export_scope(list_of(obj.spec.get("exportTo")), obj.namespace)


def _scopes_overlap(first: IstioConfig, second: IstioConfig) -> bool:
    a, b = _export_scope(first), _export_scope(second)
    if a is None or b is None:
        return True
    return bool(a & b)


def check_same_host(virtual_services: list[IstioConfig], domain_suffix: str) -> list[Finding]:
    """KIA1106 (IST0109): two VirtualServices claiming the same host for the same gateway, seen by a common
    namespace (their ``exportTo`` overlap)."""
    claims: dict[tuple[str, str], list[tuple[IstioConfig, int, str]]] = defaultdict(list)
    wildcard_claims: list[tuple[str, str, IstioConfig, int, str]] = []
    for vs in virtual_services:
        for host_index, raw in enumerate(list_of(vs.spec.get("hosts"))):
            host = resolve_host(str(raw), vs.namespace, domain_suffix)
            for gateway in _gateway_keys(vs):
                if host.startswith("*"):
                    wildcard_claims.append((gateway, host, vs, host_index, str(raw)))
                claims[(gateway, host)].append((vs, host_index, str(raw)))
    flagged: dict[tuple[str, str, int], tuple[IstioConfig, str]] = {}
    for (gateway, host), claimants in claims.items():
        rivals = list(claimants)
        for w_gateway, w_host, w_vs, w_index, w_raw in wildcard_claims:
            if w_gateway == gateway and w_host != host and host_matches(w_host, host):
                rivals.append((w_vs, w_index, w_raw))
        for i, (first, first_index, first_raw) in enumerate(rivals):
            for second, second_index, second_raw in rivals[i + 1 :]:
                if (first.namespace, first.name) == (second.namespace, second.name):
                    continue
                if _scopes_overlap(first, second):
                    flagged[(first.namespace, first.name, first_index)] = (first, first_raw)
                    flagged[(second.namespace, second.name, second_index)] = (second, second_raw)
    return [
        codes.make_finding(codes.VS_SAME_HOST, vs, f"spec.hosts[{host_index}]", raw)
        for (_, _, host_index), (vs, raw) in sorted(flagged.items(), key=lambda item: item[0])
    ]
