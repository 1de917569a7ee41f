"""Checks of DestinationRules: host not in the registry, subsets selecting no workload or without labels, and two
rules for the same host and subset (Kiali's ``business/checkers/destinationrules``)."""

from __future__ import annotations

from collections import defaultdict

from istio_config.checks import codes
from istio_config.checks.hosts import HostRegistry, host_matches, labels_select, resolve_host
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, Severity, mappings_of, subset_names
from istio_config.checks.virtual_services import iter_destinations

NO_SUBSETS = ""


class DestinationRuleChecker:
    """Runs every DestinationRule check over one inventory."""

    def __init__(self, inventory: ConfigInventory, registry: HostRegistry) -> None:
        self.inventory = inventory
        self.registry = registry
        self.routed_subsets = {
            (
                resolve_host(str(entry["destination"].get("host", "")), vs.namespace, inventory.domain_suffix),
                str(subset),
            )
            for vs in inventory.of_kind("VirtualService")
            for _kind, _route, _dest, entry in iter_destinations(vs)
            if (subset := entry["destination"].get("subset"))
        }

    def check(self) -> list[Finding]:
        findings: list[Finding] = []
        rules = self.inventory.of_kind("DestinationRule")
        for dr in rules:
            host = resolve_host(str(dr.spec.get("host", "")), dr.namespace, self.inventory.domain_suffix)
            if not self.registry.has_host(host, dr.namespace):
                findings.append(codes.make_finding(codes.DR_HOST_NOT_FOUND, dr, "spec.host", str(dr.spec.get("host"))))
            findings += self.check_subsets(dr, host)
        findings += check_multi_match(rules, self.inventory.domain_suffix)
        return findings

    def check_subsets(self, dr: IstioConfig, host: str) -> list[Finding]:
        """KIA0203 a subset whose labels select no workload behind the host's Service (checked only when the host
        is a Service: a ServiceEntry's endpoints are not in the inventory); KIA0209 a subset without labels.

        As Kiali: KIA0203 is an error when a VirtualService routes to the subset and information otherwise;
        KIA0209 is information when another subset of the rule selects workloads, a warning otherwise."""
        findings = []
        service = self.registry.services_by_fqdn.get(host)
        workloads = self.registry.service_workloads(service) if service is not None else []
        unlabelled: list[tuple[str, str]] = []
        some_subset_selects = False
        for index, subset in enumerate(mappings_of(dr.spec.get("subsets"))):
            labels = subset.get("labels")
            name = str(subset.get("name", ""))
            path = f"spec.subsets[{index}]"
            if not labels:
                unlabelled.append((path, name))
            elif service is None or any(labels_select(labels, w.template_labels) for w in workloads):
                some_subset_selects = True
            else:
                routed = (host, name) in self.routed_subsets
                severity = Severity.ERROR if routed else Severity.INFO
                findings.append(
                    codes.make_finding(codes.DR_SUBSET_LABELS_NOT_FOUND, dr, f"{path}.labels", name, severity)
                )
        no_labels_severity = Severity.INFO if some_subset_selects else Severity.WARNING
        for path, name in unlabelled:
            findings.append(codes.make_finding(codes.DR_SUBSET_NO_LABELS, dr, path, name, no_labels_severity))
        return findings


def check_multi_match(rules: list[IstioConfig], domain_suffix: str) -> list[Finding]:
    """KIA0201: two DestinationRules for the same host (wildcards included) that share a subset name, or that
    both define no subsets."""
    by_host: dict[str, list[tuple[IstioConfig, frozenset[str]]]] = defaultdict(list)
    wildcards: list[tuple[str, IstioConfig, frozenset[str]]] = []
    for dr in rules:
        host = resolve_host(str(dr.spec.get("host", "")), dr.namespace, domain_suffix)
        names = subset_names(dr) or frozenset({NO_SUBSETS})
        by_host[host].append((dr, names))
        if host.startswith("*"):
            wildcards.append((host, dr, names))
    flagged: dict[tuple[str, str], tuple[IstioConfig, set[str]]] = {}
    for host, rivals in by_host.items():
        candidates = list(rivals)
        candidates += [
            (dr, names) for pattern, dr, names in wildcards if pattern != host and host_matches(pattern, host)
        ]
        if len(candidates) < 2:
            continue
        for i, (first, first_names) in enumerate(candidates):
            for second, second_names in candidates[i + 1 :]:
                if (first.namespace, first.name) == (second.namespace, second.name):
                    continue
                shared = first_names & second_names
                if shared:
                    for dr in (first, second):
                        entry = flagged.setdefault((dr.namespace, dr.name), (dr, set()))
                        entry[1].update(shared)
    findings = []
    for dr, shared_names in flagged.values():
        subsets = sorted(s for s in shared_names if s != NO_SUBSETS)
        detail = f"{dr.spec.get('host')}" + (f" subsets {', '.join(subsets)}" if subsets else " (no subsets)")
        findings.append(codes.make_finding(codes.DR_MULTI_MATCH, dr, "spec.host", detail))
    return findings
