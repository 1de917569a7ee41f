"""Which cluster a dashboard request looks at: ``?cluster=`` when given (remembered in the session), else the
session's choice, else the first enabled cluster."""

from __future__ import annotations

from django.http import HttpRequest

from inventory.models import Cluster

SESSION_KEY = "mesh_ui_cluster"
_CACHE_ATTR = "_mesh_ui_cluster"


def enabled_clusters(request: HttpRequest) -> list[Cluster]:
    """The enabled clusters, read once per request."""
    cached = getattr(request, "_mesh_ui_clusters", None)
    if cached is None:
        cached = list(Cluster.objects.filter(enabled=True).order_by("name"))
        request._mesh_ui_clusters = cached  # type: ignore[attr-defined]
    return cached


def selected_cluster(request: HttpRequest) -> Cluster | None:
    """The cluster the request is about (None when no cluster is configured)."""
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    clusters = {c.name: c for c in enabled_clusters(request)}
    asked = request.GET.get("cluster", "")
    session = getattr(request, "session", None)
    chosen = clusters.get(asked)
    if chosen is not None and session is not None and session.get(SESSION_KEY) != chosen.name:
        session[SESSION_KEY] = chosen.name
    if chosen is None and session is not None:
        chosen = clusters.get(session.get(SESSION_KEY, ""))
    if chosen is None and clusters:
        chosen = clusters[min(clusters)]
    setattr(request, _CACHE_ATTR, chosen)
    return chosen
