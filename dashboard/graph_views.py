"""The service graph page: a server-rendered shell whose ES module draws the graph from the graph API.

The view lists what the toolbar offers (namespaces of the chosen cluster, graph types, windows) and hands the
module the chosen cluster and the API's URLs as data attributes; every other view setting lives in the page's
query string, which the module reads and keeps up to date.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.access import scope_filter
from dashboard.queries import PageQuery
from dashboard.views import page_view, read_scope
from inventory.models import Cluster, Namespace
from topology.graph.model import GRAPH_TYPES

GRAPH_TYPE_LABELS = {
    "app": _("App"),
    "versionedApp": _("Versioned app"),
    "workload": _("Workload"),
    "service": _("Service"),
}
# The graph types the API serves, in its order, with a label for the toolbar.
GRAPH_TYPE_CHOICES = [(graph_type, GRAPH_TYPE_LABELS[graph_type]) for graph_type in GRAPH_TYPES]
REFRESH_CHOICES = [
    ("0", _("Pause")),
    ("10", _("Every 10 s")),
    ("30", _("Every 30 s")),
    ("60", _("Every 1 min")),
    ("300", _("Every 5 min")),
]
EDGE_LABELS = [
    ("none", _("No edge labels")),
    ("rps", _("Request rate")),
    ("share", _("Share of requests")),
    ("rt", _("Response time")),
    ("err", _("Error rate")),
    # Kiali's throughput label: http edges' request or response body bytes/s (throughputType), tcp edges' bytes/s.
    ("throughput", _("Throughput: request")),
    ("throughputResponse", _("Throughput: response")),
]
# The response-time statistic of the "Response time" edge labels (Kiali's responseTime option; p95 by default).
RT_STATS = [("avg", _("Response time: average")), ("p50", _("Response time: p50")), ("p95", _("Response time: p95")),
            ("p99", _("Response time: p99"))]  # fmt: skip
# Kiali's rate options: a protocol's requests, gRPC messages (sent, received, total), or none of its traffic.
RATE_HTTP = [("requests", _("HTTP: requests")), ("none", _("HTTP: none"))]
RATE_GRPC = [
    ("requests", _("gRPC: requests")),
    ("sent", _("gRPC: messages sent")),
    ("received", _("gRPC: messages received")),
    ("total", _("gRPC: messages total")),
    ("none", _("gRPC: none")),
]
# Kiali's rateTcp: the bytes/s of tcp edges in one direction or both (Kiali's default sent; snapshots store total).
RATE_TCP = [("sent", _("TCP: sent")), ("received", _("TCP: received")), ("total", _("TCP: total"))]
# Kiali's ambientTraffic: which ambient telemetry the graph reads (waypoint L7 reports, ztunnel L4 rows, both, neither).
AMBIENT_TRAFFIC = [
    ("total", _("Ambient: waypoint and ztunnel")),
    ("waypoint", _("Ambient: waypoint only")),
    ("ztunnel", _("Ambient: ztunnel only")),
    ("none", _("Ambient: neither")),
]
# Windows the toolbar offers beyond the stored ones: their graphs are built on demand (topology.on_demand).
ON_DEMAND_WINDOWS = [1800, 3600, 3 * 3600]
LAYOUTS = [
    ("dagre", _("Dagre")),
    ("cose", _("Force-directed (fCoSE)")),
    ("breadthfirst", _("Breadth-first")),
    ("concentric", _("Concentric")),
]
BOX_CHOICES = [
    ("cluster,namespace,app", _("Boxes: all")),
    ("namespace,app", _("Boxes: namespace, app")),
    ("app", _("Boxes: app")),
    ("namespace", _("Boxes: namespace")),
    ("none", _("No boxes")),
]


def _window_label(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def detail_url_patterns() -> dict[str, str]:
    """The detail pages' URLs with ``__namespace__`` and ``__name__`` for the script to fill in."""
    parts = {"namespace": "__namespace__", "name": "__name__"}
    return {kind: reverse(f"dashboard:{kind}", kwargs=parts) for kind in ("workload", "service", "application")}


@page_view(PageQuery)
def graph_page(request: HttpRequest, cluster: Cluster | None, query: dict[str, Any]) -> HttpResponse:
    """The graph page of the chosen cluster; the toolbar's options come from the inventory and settings."""
    # Unique per cluster; sorted in Python so the order is the same on every database collation.
    readable = scope_filter(read_scope(request, cluster), "name")
    namespaces = Namespace.objects.filter(readable, cluster=cluster).values_list("name", flat=True)
    windows = [(f"{w}s", _window_label(w)) for w in settings.MESH_UI_GRAPH_WINDOWS]
    windows += [
        (f"{w}s", _("%(window)s (built on demand)") % {"window": _window_label(w)})
        for w in ON_DEMAND_WINDOWS
        if w not in settings.MESH_UI_GRAPH_WINDOWS
    ]
    context = {
        "cluster": cluster,
        "namespaces": sorted(namespaces),
        "graph_types": GRAPH_TYPE_CHOICES,
        "windows": windows,
        "default_window": f"{settings.MESH_UI_GRAPH_DEFAULT_WINDOW}s",
        "refresh_choices": REFRESH_CHOICES,
        "edge_labels": EDGE_LABELS,
        "rt_stats": RT_STATS,
        "rate_http": RATE_HTTP,
        "rate_grpc": RATE_GRPC,
        "rate_tcp": RATE_TCP,
        "ambient_traffic": AMBIENT_TRAFFIC,
        "layouts": LAYOUTS,
        "box_choices": BOX_CHOICES,
        "detail_urls": detail_url_patterns(),
    }
    return render(request, "dashboard/graph.html", context)
