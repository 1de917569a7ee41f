"""Cluster rows and the one rule for which cluster a request is about.

``MESH_UI_CLUSTERS`` entries become (or update) ``Cluster`` rows. :class:`ClusterChoice` decides which cluster a
page, a graph-page API call or an API default looks at: the cluster named explicitly, else the user's choice
remembered in the session, else the first enabled cluster by name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db.models import Case, QuerySet, Value, When

from inventory.models import Cluster

SESSION_KEY = "mesh_ui_cluster"


class UnknownClusterError(LookupError):
    """A request names a cluster that is not configured (or not enabled)."""


@dataclass(frozen=True)
class ClusterChoice:
    """Which cluster to read: ``explicit`` (a request parameter) → ``remembered`` (the session) → the first enabled.

    An explicit name that matches no enabled cluster is an error, never silently another cluster; a remembered
    name whose cluster was since removed or disabled falls back to the first enabled cluster.
    """

    explicit: str | None = None
    remembered: str | None = None
    #: The ids of the clusters the requester may see (None: all); others are as good as not configured.
    within: frozenset[int] | None = None

    def limited_to(self, cluster_ids: frozenset[int] | None) -> ClusterChoice:
        """The same choice among ``cluster_ids`` only (None: every cluster)."""
        return replace(self, within=cluster_ids)

    @classmethod
    def for_request(cls, request: Any, explicit: str | None) -> ClusterChoice:
        """The choice of a Django or DRF request: ``explicit`` from its parsed parameters, the rest from its session.

        The session is read only when no cluster is named (reading it costs a query).
        """
        if explicit:
            return cls(explicit=explicit)
        session = getattr(request, "session", None)
        remembered = session.get(SESSION_KEY) if session is not None else None
        return cls(remembered=remembered or None)

    def candidates(self) -> QuerySet[Cluster]:
        """The chosen cluster as a queryset of at most one row (so callers can join it into their own query)."""
        clusters = Cluster.objects.filter(enabled=True)
        if self.within is not None:
            clusters = clusters.filter(pk__in=sorted(self.within))
        if self.explicit:
            return clusters.filter(name=self.explicit)[:1]
        if self.remembered:
            remembered_first = Case(When(name=self.remembered, then=Value(0)), default=Value(1))
            clusters = clusters.annotate(remembered_first=remembered_first).order_by("remembered_first", "name")
            return clusters[:1]
        return clusters.order_by("name")[:1]

    def missing_error(self) -> UnknownClusterError:
        """What to say when :meth:`candidates` is empty."""
        if self.explicit:
            return UnknownClusterError(f"cluster {self.explicit!r} is not configured")
        return UnknownClusterError("no cluster is configured")


def read_chosen_cluster(choice: ClusterChoice) -> Cluster | None:
    """The cluster ``choice`` names, its metrics source status in the same query; None when none is configured.

    Raises :class:`UnknownClusterError` when an explicit name matches no enabled cluster.
    """
    cluster = choice.candidates().select_related("metrics_status").first()
    if cluster is None and choice.explicit:
        raise choice.missing_error()
    return cluster


def remember_cluster(request: Any, cluster: Cluster) -> None:
    """Store the user's choice in the session (pages do, when the header's selector names a cluster).

    Only for a logged-in user: an anonymous request must never create a session row (anyone could fill the table).
    """
    if not getattr(getattr(request, "user", None), "is_authenticated", False):
        return
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) != cluster.name:
        session[SESSION_KEY] = cluster.name


def read_enabled_clusters(within: frozenset[int] | None = None) -> list[Cluster]:
    """The enabled clusters by name (what the header's selector offers), among ``within`` when given."""
    clusters = Cluster.objects.filter(enabled=True)
    if within is not None:
        clusters = clusters.filter(pk__in=sorted(within))
    return list(clusters.order_by("name"))


def sync_clusters_from_settings() -> list[Cluster]:
    """Create or update a Cluster for each ``MESH_UI_CLUSTERS`` entry; rows made in admin are left alone."""
    clusters = []
    for entry in settings.MESH_UI_CLUSTERS:
        cluster, _ = Cluster.objects.update_or_create(
            name=entry.name,
            defaults={
                "kubeconfig_path": entry.kubeconfig,
                "context": entry.context,
                "in_cluster": entry.in_cluster,
                "from_settings": True,
            },
        )
        clusters.append(cluster)
    return clusters
