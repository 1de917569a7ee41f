"""Which cluster a dashboard page looks at: :class:`inventory.clusters.ClusterChoice` applied to the request.

Only the clusters the user has a role in count (``accounts.access.cluster_choice``). The page's ``?cluster=`` (sent
by the header's selector) wins and is remembered in the session; without it the
session's choice, else the first enabled cluster. The result is kept on the request, so the view, the header and
the graph page's API calls (which pass it explicitly) all see the same cluster.
"""

from __future__ import annotations

from django.http import HttpRequest

from accounts import access
from inventory.clusters import read_chosen_cluster, remember_cluster
from inventory.models import Cluster

_CLUSTER_ATTR = "_mesh_ui_cluster"


def select_cluster(request: HttpRequest, explicit: str | None) -> Cluster | None:
    """Apply the rule for this request (``explicit`` is its validated ``cluster`` parameter) and remember the result.

    Raises :class:`inventory.clusters.UnknownClusterError` when ``explicit`` names no enabled cluster.
    """
    cluster = read_chosen_cluster(access.cluster_choice(request, explicit))
    if explicit and cluster is not None:
        remember_cluster(request, cluster)
    setattr(request, _CLUSTER_ATTR, cluster)
    return cluster


def selected_cluster(request: HttpRequest) -> Cluster | None:
    """The cluster chosen for this request; when the view chose none (an error page), the session's or the first."""
    if not hasattr(request, _CLUSTER_ATTR):
        select_cluster(request, None)
    cluster: Cluster | None = getattr(request, _CLUSTER_ATTR)
    return cluster
