"""Health of inventory entities for the API, read from each cluster's latest snapshot (as the list pages do).

Health is computed when a snapshot is built and stored with it (``GraphSnapshot.health``); the API never computes
it. An entity missing from the snapshot has "No health information".
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KeyTransform

from topology.health import HealthStatus
from topology.models import GraphSnapshot

NO_HEALTH = HealthStatus.NA.value
HEALTH_CHOICES = [
    s.value
    for s in (
        HealthStatus.HEALTHY,
        HealthStatus.DEGRADED,
        HealthStatus.FAILURE,
        HealthStatus.NOT_READY,
        HealthStatus.NA,
    )
]


def read_latest_health(cluster_id: int, kind: str) -> dict[str, dict[str, Any]]:
    """``health[kind]`` of the cluster's latest snapshot (``{"namespace/name": {...}}``; namespaces by name)."""
    part = (
        GraphSnapshot.objects.filter(cluster_id=cluster_id)
        .order_by("-taken_at")
        .annotate(part=KeyTransform(kind, "health"))
        .values_list("part", flat=True)
        .first()
    )
    return part if isinstance(part, dict) else {}


class HealthLookup:
    """Health of one kind by cluster, each cluster's read once (one query) on first use during a request."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_cluster: dict[int, dict[str, dict[str, Any]]] = {}

    def of_cluster(self, cluster_id: int) -> dict[str, dict[str, Any]]:
        if cluster_id not in self._by_cluster:
            self._by_cluster[cluster_id] = read_latest_health(cluster_id, self.kind)
        return self._by_cluster[cluster_id]

    def get(self, cluster_id: int, key: str) -> dict[str, Any] | None:
        """The stored entry for ``key`` (``namespace/name``, or a namespace), None without one."""
        return self.of_cluster(cluster_id).get(key)

    def matching_q(self, cluster_ids: list[int], status: str, name_field: str) -> Q:
        """Rows whose health is ``status``, as a database condition on ``cluster``, ``namespace`` and ``name_field``.

        For ``name_field == "namespace"`` the rows are namespaces themselves (``name``) and the key is the name.
        """
        wanted = Q(pk__in=[])
        unwanted = Q(pk__in=[])
        for cluster_id in cluster_ids:
            matching: dict[str, list[str]] = defaultdict(list)
            other: dict[str, list[str]] = defaultdict(list)
            for key, entry in self.of_cluster(cluster_id).items():
                namespace, _, name = key.partition("/")
                (matching if entry.get("status") == status else other)[namespace].append(name)
            wanted |= _keys_q(cluster_id, matching, name_field)
            unwanted |= _keys_q(cluster_id, other, name_field)
        # An entity absent from the snapshot has no health information.
        return ~unwanted if status == NO_HEALTH else wanted


def _keys_q(cluster_id: int, names_by_namespace: dict[str, list[str]], name_field: str) -> Q:
    condition = Q(pk__in=[])
    if name_field == "namespace":
        return Q(cluster_id=cluster_id, name__in=sorted(names_by_namespace)) if names_by_namespace else condition
    for namespace, names in names_by_namespace.items():
        condition |= Q(cluster_id=cluster_id, namespace=namespace, **{f"{name_field}__in": sorted(names)})
    return condition
