"""What the inventory page shows of a cluster's latest snapshot: telemetry source, staleness, health and traffic
edges as table rows. Reads stored snapshots (``load_traffic_overview``); ``build_edge_rows`` is pure."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from clients.redaction import redact_url
from inventory.models import Cluster
from topology.graph.restriction import RESTRICTED_LABEL, restrict_graph
from topology.models import GraphSnapshot, MetricsSourceStatus, SnapshotGraph
from topology.reading import SnapshotMeta, build_meta, describe_source_failure


@dataclass(frozen=True)
class EdgeRow:
    """One edge of the workload graph as a table row."""

    source: str
    target: str
    protocol: str
    rate: float
    percent_of_source: str
    error_percent: float
    p95_ms: str
    mtls_percent: str
    health: str


@dataclass
class TrafficOverview:
    """The latest snapshot of a cluster, ready for a template."""

    source_label: str
    meta: SnapshotMeta | None = None
    status: MetricsSourceStatus | None = None
    #: What the reader is told of a failing source (the error text only for admins), empty when it is not failing.
    source_error: str = ""
    workload_health: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges_by_namespace: dict[str, list[EdgeRow]] = field(default_factory=dict)
    namespace_health: dict[str, dict[str, Any]] = field(default_factory=dict)


def describe_source(cluster: Cluster) -> str:
    """Where the cluster's telemetry comes from, in words (credentials in the URLs redacted)."""
    url = cluster.prometheus_url or settings.PROMETHEUS_URL
    if url:
        return f"Prometheus at {redact_url(url)}"
    if settings.MESH_UI_METRICS_URL:
        return f"the mesh's counters read directly from {redact_url(settings.MESH_UI_METRICS_URL)} (no Prometheus)"
    return "none configured (set PROMETHEUS_URL)"


def _label(data: dict[str, Any]) -> str:
    if data.get("isRestricted"):
        return RESTRICTED_LABEL
    if data.get("nodeType") == "service":
        return f"{data.get('service')} (service)"
    name = data.get("workload") or data.get("app") or data.get("nodeType", "?")
    return str(name)


def build_edge_rows(graph: dict[str, Any]) -> dict[str, list[EdgeRow]]:
    """Edges grouped by the namespace of their source (or target when the source is outside the mesh)."""
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    rows: dict[str, list[EdgeRow]] = defaultdict(list)
    for element in graph["elements"]["edges"]:
        data = element["data"]
        source, target = nodes.get(data["source"], {}), nodes.get(data["target"], {})
        traffic = data.get("traffic", {})
        protocol = traffic.get("protocol", "")
        rates = traffic.get("rates", {})
        rate = float(rates.get(protocol, 0) or 0)
        if rate <= 0:
            continue
        namespace = target.get("namespace") if source.get("namespace") in (None, "unknown") else source["namespace"]
        rows[str(namespace)].append(
            EdgeRow(
                source=_label(source),
                target=_label(target),
                protocol=protocol,
                rate=rate,
                percent_of_source=rates.get(f"{protocol}PercentReq", ""),
                error_percent=float(rates.get(f"{protocol}PercentErr", 0) or 0),
                p95_ms=(data.get("responseTimes") or {}).get("p95", ""),
                mtls_percent=data.get("isMTLS", ""),
                health=data.get("healthStatus", ""),
            )
        )
    for namespace_rows in rows.values():
        namespace_rows.sort(key=lambda r: (r.source, r.target))
    return dict(rows)


def load_traffic_overview(
    cluster: Cluster, granted: frozenset[str] | None, detailed_errors: bool = False
) -> TrafficOverview:
    """The cluster's metrics source status and latest snapshot, shaped for the inventory template.

    ``granted`` (None: all) are the namespaces the user may read: the rest of the graph is one opaque node.
    ``detailed_errors``: the reader may see the source's error text (mesh admins).
    """
    overview = TrafficOverview(source_label=describe_source(cluster))
    # The page's cluster comes with its metrics status (inventory.clusters.read_chosen_cluster): no query here.
    overview.status = getattr(cluster, "metrics_status", None)
    if overview.status is not None and overview.status.failing:
        overview.source_error = describe_source_failure(overview.status, detailed_errors)
    snapshot = GraphSnapshot.objects.filter(cluster=cluster).order_by("-taken_at").first()
    if snapshot is None:
        return overview
    snapshot.cluster = cluster  # build_meta reads the cluster and its status: this instance, not two more queries
    overview.meta = build_meta(snapshot, None, detailed_errors)
    overview.workload_health = _readable(snapshot.health.get("workload", {}), granted)
    overview.namespace_health = _readable(snapshot.health.get("namespaces", {}), granted)
    stored = SnapshotGraph.objects.filter(
        snapshot=snapshot, graph_type="workload", window=snapshot.health_window, inject_service_nodes=True
    ).first()
    if stored is not None:
        if granted is None:
            overview.edges_by_namespace = build_edge_rows(stored.load_graph())
        else:
            readable = sorted(granted)
            overview.edges_by_namespace = build_edge_rows(restrict_graph(stored.load_graph(readable), readable))
    return overview


def _readable(health: dict[str, Any], granted: frozenset[str] | None) -> dict[str, Any]:
    """The entries (keyed ``namespace`` or ``namespace/name``) of the namespaces in ``granted`` (None: all)."""
    if granted is None:
        return health
    return {key: value for key, value in health.items() if key.partition("/")[0] in granted}
