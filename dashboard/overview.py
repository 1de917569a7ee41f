"""Read side of the overview: one card per namespace with inventory counts, health, the status of its Istio config
(counts of its objects' findings by severity) and an inbound traffic sparkline, filtered and sorted server-side.

A constant number of queries whatever the number of namespaces: counts are aggregated by the database, health
and metrics are extracted from the snapshots' JSON by the database (no graph body is read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from accounts.access import NamespaceScope, scope_filter
from dashboard.common import health_rank, latest_snapshot_part, recent_snapshot_parts, sparkline_points
from inventory.models import Cluster, IstioObject, Namespace, Service, Workload
from istio_config.findings import SeverityCounts, count_by_namespace, findings_in
from istio_config.models import INVENTORY_FINDING_KINDS
from topology.entity_metrics import sum_rates

SPARKLINE_SNAPSHOTS = 30


@dataclass
class NamespaceCard:
    """What one namespace card shows."""

    name: str
    injection: str = ""
    listed: bool = True
    apps: int = 0
    workloads: int = 0
    services: int = 0
    status: str = ""
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    rates: list[float] = field(default_factory=list)
    istio_objects: int = 0
    validation: SeverityCounts = field(default_factory=SeverityCounts)

    @property
    def inbound_rate(self) -> float:
        return self.rates[-1] if self.rates else 0.0

    @property
    def sparkline(self) -> str:
        return sparkline_points(self.rates)

    @property
    def health_rank(self) -> int:
        return health_rank(self.status)


@dataclass(frozen=True)
class OverviewFilters:
    """The overview's filters (validated by ``dashboard.queries.OverviewQuery``): name substring, health, sort."""

    name: str = ""
    health: str = ""
    sort: str = "name"


def load_namespace_cards(cluster: Cluster | None, scope: NamespaceScope) -> list[NamespaceCard]:
    """Every namespace of the cluster in ``scope`` (listed, or known from its workloads/services) as a card."""
    if cluster is None:
        return []
    cards: dict[str, NamespaceCard] = {}
    readable = scope_filter(scope)
    named = scope_filter(scope, "name")
    for name, injection in Namespace.objects.filter(named, cluster=cluster).values_list("name", "injection"):
        cards[name] = NamespaceCard(name=name, injection=injection)

    def card(name: str) -> NamespaceCard:
        if name not in cards:
            cards[name] = NamespaceCard(name=name, listed=False)
        return cards[name]

    workload_counts = (
        Workload.objects.filter(readable, cluster=cluster)
        .values("namespace")
        .annotate(workloads=Count("id"), apps=Count("app", distinct=True, filter=~Q(app="")))
    )
    for row in workload_counts:
        found = card(row["namespace"])
        found.workloads, found.apps = row["workloads"], row["apps"]
    for row in Service.objects.filter(readable, cluster=cluster).values("namespace").annotate(services=Count("id")):
        card(row["namespace"]).services = row["services"]
    for row in IstioObject.objects.filter(readable, cluster=cluster).values("namespace").annotate(total=Count("id")):
        card(row["namespace"]).istio_objects = row["total"]
    istio_findings = findings_in(cluster, readable).exclude(kind__in=INVENTORY_FINDING_KINDS)
    for name, counts in count_by_namespace(istio_findings).items():
        card(name).validation = counts
    _, namespace_health = latest_snapshot_part(cluster, "health", "namespaces")
    for name, entry in namespace_health.items():
        if name in cards:
            cards[name].status = entry.get("status", "")
            cards[name].reason = entry.get("reason", "")
            cards[name].counts = dict(entry.get("counts", {}))
    history = recent_snapshot_parts(cluster, "metrics", "namespace", SPARKLINE_SNAPSHOTS)
    for found in cards.values():
        found.rates = [round(sum_rates([snapshot.get(found.name)]), 4) for snapshot in history]
    return list(cards.values())


def filter_and_sort_cards(cards: list[NamespaceCard], filters: OverviewFilters) -> list[NamespaceCard]:
    wanted = filters.name.lower()
    shown = [c for c in cards if wanted in c.name.lower()]
    if filters.health:
        shown = [c for c in shown if (c.status or "No health information") == filters.health]
    if filters.sort == "health":
        shown.sort(key=lambda c: (-c.health_rank, c.name))
    elif filters.sort == "traffic":
        shown.sort(key=lambda c: (-c.inbound_rate, c.name))
    else:
        shown.sort(key=lambda c: c.name)
    return shown


def load_overview(cluster: Cluster | None, filters: OverviewFilters, scope: NamespaceScope) -> dict[str, Any]:
    cards = load_namespace_cards(cluster, scope)
    return {"cards": filter_and_sort_cards(cards, filters), "total": len(cards), "filters": filters}
