"""The service graph page: a server-rendered shell whose ES module draws the graph from ``/api/v1/graph``.

The view only lists what the toolbar offers (clusters, namespaces, graph types, windows); every view setting lives
in the page's query string, which the module reads and keeps up to date.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inventory.models import Cluster, Namespace

GRAPH_TYPES = [("app", "App"), ("versionedApp", "Versioned app"), ("workload", "Workload"), ("service", "Service")]
REFRESH_CHOICES = [
    ("0", "Pause"),
    ("10", "Every 10 s"),
    ("30", "Every 30 s"),
    ("60", "Every 1 min"),
    ("300", "Every 5 min"),
]
EDGE_LABELS = [
    ("none", "No edge labels"),
    ("rps", "Request rate"),
    ("share", "Share of requests"),
    ("rt", "p95 latency"),
    ("err", "Error rate"),
    ("throughput", "Throughput"),
]
LAYOUTS = [
    ("dagre", "Dagre"),
    ("cose", "Force-directed (fCoSE)"),
    ("breadthfirst", "Breadth-first"),
    ("concentric", "Concentric"),
]
BOX_CHOICES = [
    ("cluster,namespace,app", "Boxes: all"),
    ("namespace,app", "Boxes: namespace, app"),
    ("app", "Boxes: app"),
    ("namespace", "Boxes: namespace"),
    ("none", "No boxes"),
]


def _window_label(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def graph_page(request: HttpRequest) -> HttpResponse:
    """The graph page; the toolbar's options come from the inventory and settings."""
    clusters = list(Cluster.objects.filter(enabled=True).order_by("name").values_list("name", flat=True))
    cluster = request.GET.get("cluster") or (clusters[0] if clusters else "")
    namespaces = sorted(set(Namespace.objects.filter(cluster__name=cluster).values_list("name", flat=True)))
    windows = [(f"{w}s", _window_label(w)) for w in settings.MESH_UI_GRAPH_WINDOWS]
    context = {
        "clusters": clusters,
        "namespaces": namespaces,
        "graph_types": GRAPH_TYPES,
        "windows": windows,
        "default_window": f"{settings.MESH_UI_HEALTH_WINDOW}s",
        "refresh_choices": REFRESH_CHOICES,
        "edge_labels": EDGE_LABELS,
        "layouts": LAYOUTS,
        "box_choices": BOX_CHOICES,
    }
    return render(request, "dashboard/graph.html", context)
