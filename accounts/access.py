"""Who may see and change what: a request's user, read against the role grants stored for it and its groups.

Views, API endpoints and admin forms ask here, never read grants themselves:

- :func:`namespace_scope` — the namespaces of a cluster the user may read (or, with ``minimum=Role.EDITOR``, write);
- :func:`can_read` / :func:`can_write` — one namespace;
- :func:`visible_clusters` — the clusters the user has any role in;
- :func:`is_cluster_admin` / :func:`is_mesh_admin` — sync now, Prometheus errors; clusters, users and grants.

Superusers are admin everywhere. The grants of a user are read once per user object (one query) and kept on it,
so a request that asks several times pays once.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts import grants as rules
from accounts.grants import EVERY_NAMESPACE, GrantRow, NamespaceScope, Role
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
    every, ids = rules.clusters_with_access(grants_of(user))
    if every:
        return Cluster.objects.all()
    return Cluster.objects.filter(pk__in=sorted(ids))


__all__ = [
    "EVERY_NAMESPACE",
    "NamespaceScope",
    "Role",
    "can_read",
    "can_write",
    "forget_grants",
    "grants_of",
    "is_cluster_admin",
    "is_mesh_admin",
    "namespace_scope",
    "role_in",
    "scope_filter",
    "visible_clusters",
]
