"""The pure rules of role grants: scopes, roles per namespace, admins."""

from __future__ import annotations

import pytest

from accounts.grants import (
    EVERY_NAMESPACE,
    NO_NAMESPACES,
    GrantRow,
    NamespaceScope,
    Role,
    clusters_with_access,
    is_cluster_admin,
    is_mesh_admin,
    role_in_namespace,
    scope_in_cluster,
)

VIEW_BOOKINFO_1 = GrantRow(Role.VIEWER, cluster_id=1, namespace="bookinfo")
EDIT_DEFAULT_1 = GrantRow(Role.EDITOR, cluster_id=1, namespace="default")
VIEW_ALL_2 = GrantRow(Role.VIEWER, cluster_id=2)


def test_no_grants_open_nothing() -> None:
    assert scope_in_cluster([], 1) == NO_NAMESPACES
    assert NO_NAMESPACES.is_empty
    assert role_in_namespace([], 1, "bookinfo") is None


def test_namespace_grants_open_their_namespaces_in_their_cluster_only() -> None:
    grants = [VIEW_BOOKINFO_1, EDIT_DEFAULT_1]
    assert scope_in_cluster(grants, 1) == NamespaceScope(names=frozenset({"bookinfo", "default"}))
    assert scope_in_cluster(grants, 2) == NO_NAMESPACES
    assert scope_in_cluster(grants, 1, minimum=Role.EDITOR) == NamespaceScope(names=frozenset({"default"}))


def test_cluster_wide_grant_opens_every_namespace() -> None:
    assert scope_in_cluster([VIEW_BOOKINFO_1, VIEW_ALL_2], 2) == EVERY_NAMESPACE
    assert EVERY_NAMESPACE.allows("anything")
    assert scope_in_cluster([GrantRow(Role.EDITOR)], 7, minimum=Role.EDITOR) == EVERY_NAMESPACE


def test_highest_role_wins() -> None:
    grants = [VIEW_ALL_2, GrantRow(Role.EDITOR, cluster_id=2, namespace="bookinfo")]
    assert role_in_namespace(grants, 2, "bookinfo") == Role.EDITOR
    assert role_in_namespace(grants, 2, "istio-system") == Role.VIEWER
    assert role_in_namespace(grants, 1, "bookinfo") is None


def test_admins() -> None:
    assert is_cluster_admin([GrantRow(Role.ADMIN, cluster_id=1)], 1)
    assert not is_cluster_admin([GrantRow(Role.ADMIN, cluster_id=1)], 2)
    assert not is_mesh_admin([GrantRow(Role.ADMIN, cluster_id=1)])
    assert is_mesh_admin([GrantRow(Role.ADMIN)])
    assert not is_cluster_admin([GrantRow(Role.EDITOR)], 1)


def test_clusters_with_access() -> None:
    assert clusters_with_access([VIEW_BOOKINFO_1, VIEW_ALL_2]) == (False, frozenset({1, 2}))
    assert clusters_with_access([VIEW_BOOKINFO_1, GrantRow(Role.VIEWER)]) == (True, frozenset())


def test_scope_intersect_keeps_order() -> None:
    scope = NamespaceScope(names=frozenset({"b", "a"}))
    assert scope.intersect(["c", "b", "a"]) == ["b", "a"]


def test_role_labels() -> None:
    assert Role.from_label("editor") is Role.EDITOR
    with pytest.raises(ValueError, match="unknown role"):
        Role.from_label("root")
