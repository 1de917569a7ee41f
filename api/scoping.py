"""What a user may read through the API: rows of the clusters they have a role in, in the namespaces granted there.

Every list and detail of the inventory starts from :func:`visible_rows`, so an object outside the user's grants is
never listed and its detail is a ``404`` (the same answer as for an object that does not exist).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from accounts.access import namespace_scope, scope_filter, visible_clusters
from inventory.models import Cluster

RowT = TypeVar("RowT", bound=Model)


def visible_q(user: Any, clusters: list[Cluster], namespace_field: str = "namespace") -> Q:
    """Rows of ``clusters`` in the namespaces ``user`` may read there (``clusters`` already visible to the user)."""
    condition = Q(pk__in=[])
    for cluster in clusters:
        condition |= Q(cluster_id=cluster.pk) & scope_filter(namespace_scope(user, cluster), namespace_field)
    return condition


def visible_rows(user: Any, queryset: QuerySet[RowT], namespace_field: str = "namespace") -> QuerySet[RowT]:
    """``queryset`` narrowed to the clusters and namespaces ``user`` may read."""
    return queryset.filter(visible_q(user, list(visible_clusters(user)), namespace_field))
