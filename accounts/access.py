"""Who may see and change what: a request's user, read against the role grants stored for it and its groups.

Views, API endpoints and admin forms ask here, never read grants themselves:

- :func:`namespace_scope` — the namespaces of a cluster the user may read (or, with ``minimum=Role.EDITOR``, write);
- :func:`can_read` / :func:`can_write` — one namespace;
- :func:`visible_clusters` — the clusters the user has any role in; :func:`cluster_choice` — a request's cluster
  among them; :func:`readable_rows` — a filter for querysets across clusters (the admin);
- :func:`is_cluster_admin` / :func:`is_mesh_admin` — sync now, Prometheus errors; clusters, users and grants.

Superusers are admin everywhere. The grants of a user are read once per user object (one query) and kept on it,
so a request that asks several times pays once.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts import grants as rules
from accounts.grants import EVERY_NAMESPACE, GrantRow, NamespaceScope, Role
from inventory.clusters import ClusterChoice
from inventory.models import Cluster

_CACHE_ATTR = "_mesh_ui_grants"
_SUPERUSER_GRANTS = (GrantRow(role=Role.ADMIN),)


def grants_of(user: Any) -> tuple[GrantRow, ...]:
    """The grants of ``user`` and of its groups (superusers: one admin grant everywhere; anonymous: none)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return ()
    if user.is_superuser:
        return _SUPERUSER_GRANTS
    cached: tuple[GrantRow, ...] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from accounts.models import RoleGrant

        found = RoleGrant.objects.filter(Q(user=user) | Q(group__user=user)).distinct()
        cached = tuple(grant.as_row() for grant in found)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_grants(user: Any) -> None:
    """Drop the grants cached on ``user`` (after they change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _cluster_id(cluster: Cluster | int) -> int:
    return cluster if isinstance(cluster, int) else cluster.pk


def namespace_scope(user: Any, cluster: Cluster | int, minimum: Role = Role.VIEWER) -> NamespaceScope:
    """The namespaces of ``cluster`` where ``user`` has at least ``minimum``."""
    return rules.scope_in_cluster(grants_of(user), _cluster_id(cluster), minimum)


def scope_filter(scope: NamespaceScope, field: str = "namespace") -> Q:
    """A filter on ``field`` keeping the rows ``scope`` allows (everything, the names, or nothing)."""
    if scope.all_namespaces:
        return Q()
    return Q(**{f"{field}__in": sorted(scope.names)})


def role_in(user: Any, cluster: Cluster | int, namespace: str) -> Role | None:
    """The role of ``user`` in one namespace of ``cluster``; None when it has none."""
    return rules.role_in_namespace(grants_of(user), _cluster_id(cluster), namespace)


def can_read(user: Any, cluster: Cluster | int, namespace: str) -> bool:
    return role_in(user, cluster, namespace) is not None


def can_write(user: Any, cluster: Cluster | int, namespace: str) -> bool:
    """Whether ``user`` may change Istio objects in ``namespace`` of ``cluster`` (editor or admin there)."""
    role = role_in(user, cluster, namespace)
    return role is not None and role >= Role.EDITOR


def is_cluster_admin(user: Any, cluster: Cluster | int) -> bool:
    return rules.is_cluster_admin(grants_of(user), _cluster_id(cluster))


def is_mesh_admin(user: Any) -> bool:
    """Admin everywhere: may manage clusters, users and grants, and read every error text."""
    return rules.is_mesh_admin(grants_of(user))


def visible_clusters(user: Any) -> QuerySet[Cluster]:
    """The clusters ``user`` has any role in."""
    ids = visible_cluster_ids(user)
    if ids is None:
        return Cluster.objects.all()
    return Cluster.objects.filter(pk__in=sorted(ids))


def visible_cluster_ids(user: Any) -> frozenset[int] | None:
    """The ids of the clusters ``user`` has any role in; None when it has a role in every cluster."""
    every, ids = rules.clusters_with_access(grants_of(user))
    return None if every else ids


def has_any_grant(user: Any) -> bool:
    """Whether ``user`` may read anything at all (a user without grants sees no page of the mesh)."""
    return bool(grants_of(user))


def cluster_choice(request: Any, explicit: str | None) -> ClusterChoice:
    """The request's cluster rule (:class:`~inventory.clusters.ClusterChoice`) among the clusters its user may see.

    A cluster the user has no role in is answered like one that is not configured, so its existence is not told.
    """
    return ClusterChoice.for_request(request, explicit).limited_to(visible_cluster_ids(getattr(request, "user", None)))


def granted_namespaces(user: Any, cluster: Cluster | int) -> frozenset[str] | None:
    """The namespaces of ``cluster`` ``user`` may read; None for all of them (the unrestricted fast paths)."""
    scope = namespace_scope(user, cluster)
    return None if scope.all_namespaces else scope.names


def readable_rows(user: Any, cluster_field: str = "cluster", namespace_field: str = "namespace") -> Q:
    """A filter keeping the rows of every cluster and namespace ``user`` may read (for querysets across clusters)."""
    grants = grants_of(user)
    every, ids = rules.clusters_with_access(grants)
    condition = Q(pk__in=[])
    if every:
        # A grant for every cluster: its namespaces apply everywhere; other grants add their own clusters.
        ids = frozenset(Cluster.objects.values_list("pk", flat=True))
    for cluster_id in sorted(ids):
        scope = rules.scope_in_cluster(grants, cluster_id)
        if scope.all_namespaces:
            condition |= Q(**{f"{cluster_field}_id": cluster_id})
        elif scope.names:
            condition |= Q(**{f"{cluster_field}_id": cluster_id, f"{namespace_field}__in": sorted(scope.names)})
    return condition


__all__ = [
    "EVERY_NAMESPACE",
    "NamespaceScope",
    "Role",
    "can_read",
    "can_write",
    "cluster_choice",
    "forget_grants",
    "granted_namespaces",
    "grants_of",
    "has_any_grant",
    "is_cluster_admin",
    "is_mesh_admin",
    "namespace_scope",
    "readable_rows",
    "role_in",
    "scope_filter",
    "visible_cluster_ids",
    "visible_clusters",
]
