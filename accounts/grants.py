"""The pure rules of access: which namespaces a set of role grants opens in one cluster.

A grant gives a role (viewer < editor < admin) in one cluster or in every cluster, and in one namespace or in every
namespace. A user's role in a namespace is the highest role of the grants that cover it. These functions take plain
rows, so the rules are tested without a database (``accounts.access`` reads the rows for a user).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.IntEnum):
    """What a grant allows, in increasing order: each role can do what the ones below it can."""

    VIEWER = 1  # read what is granted
    EDITOR = 2  # and change Istio objects in granted namespaces
    ADMIN = 3  # and everything else in the granted clusters: sync now, clusters and users when granted everywhere

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Role:
        """The role named ``label`` (``viewer``, ``editor``, ``admin``); ValueError for anything else."""
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"unknown role {label!r}; expected viewer, editor or admin") from None


@dataclass(frozen=True)
class GrantRow:
    """One grant as the rules see it: ``cluster_id`` None means every cluster, ``namespace`` "" every namespace."""

    role: Role
    cluster_id: int | None = None
    namespace: str = ""

    def covers_cluster(self, cluster_id: int) -> bool:
        return self.cluster_id is None or self.cluster_id == cluster_id


@dataclass(frozen=True)
class NamespaceScope:
    """The namespaces of one cluster a user may act on at some role: all of them, or the ones named."""

    all_namespaces: bool = False
    names: frozenset[str] = frozenset()

    def allows(self, namespace: str) -> bool:
        return self.all_namespaces or namespace in self.names

    @property
    def is_empty(self) -> bool:
        return not self.all_namespaces and not self.names

    def intersect(self, names: Iterable[str]) -> list[str]:
        """The ``names`` this scope allows, in their order."""
        return [name for name in names if self.allows(name)]


NO_NAMESPACES = NamespaceScope()
EVERY_NAMESPACE = NamespaceScope(all_namespaces=True)


def scope_in_cluster(grants: Iterable[GrantRow], cluster_id: int, minimum: Role = Role.VIEWER) -> NamespaceScope:
    """The namespaces of ``cluster_id`` where ``grants`` give at least ``minimum``."""
    names: set[str] = set()
    for grant in grants:
        if grant.role < minimum or not grant.covers_cluster(cluster_id):
            continue
        if not grant.namespace:
            return EVERY_NAMESPACE
        names.add(grant.namespace)
    return NamespaceScope(names=frozenset(names)) if names else NO_NAMESPACES


def role_in_namespace(grants: Iterable[GrantRow], cluster_id: int, namespace: str) -> Role | None:
    """The highest role ``grants`` give in ``namespace`` of ``cluster_id``; None when they give none."""
    roles = [
        grant.role
        for grant in grants
        if grant.covers_cluster(cluster_id) and (not grant.namespace or grant.namespace == namespace)
    ]
    return max(roles) if roles else None


def is_cluster_admin(grants: Iterable[GrantRow], cluster_id: int) -> bool:
    """Whether ``grants`` make the user admin of the whole cluster ``cluster_id``."""
    return any(
        grant.role == Role.ADMIN and grant.covers_cluster(cluster_id) and not grant.namespace for grant in grants
    )


def is_mesh_admin(grants: Iterable[GrantRow]) -> bool:
    """Whether ``grants`` make the user admin everywhere (clusters, users and grants included)."""
    return any(grant.role == Role.ADMIN and grant.cluster_id is None and not grant.namespace for grant in grants)


def clusters_with_access(grants: Iterable[GrantRow]) -> tuple[bool, frozenset[int]]:
    """``(every_cluster, cluster_ids)``: the clusters where ``grants`` give any role."""
    ids: set[int] = set()
    for grant in grants:
        if grant.cluster_id is None:
            return True, frozenset()
        ids.add(grant.cluster_id)
    return False, frozenset(ids)
