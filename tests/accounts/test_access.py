"""Grants read from the database: users, groups, superusers, inactive users; and bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError
from django.utils import timezone

from accounts import access
from accounts.grants import Role
from accounts.models import ApiToken, RoleGrant, hash_token
from inventory.models import Cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    """A user with no grants of his own (alice is a viewer everywhere)."""
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password")


@pytest.fixture
def clusters() -> tuple[Cluster, Cluster]:
    return Cluster.objects.create(name="east"), Cluster.objects.create(name="west")


def test_user_and_group_grants_add_up(bob: Any, clusters: tuple[Cluster, Cluster]) -> None:
    east, west = clusters
    team = Group.objects.create(name="team")
    bob.groups.add(team)
    RoleGrant.objects.create(user=bob, role="viewer", cluster=east, namespace="bookinfo")
    RoleGrant.objects.create(group=team, role="editor", cluster=east, namespace="shop")
    assert access.namespace_scope(bob, east).names == {"bookinfo", "shop"}
    assert access.namespace_scope(bob, east, minimum=Role.EDITOR).names == {"shop"}
    assert access.can_write(bob, east, "shop") and not access.can_write(bob, east, "bookinfo")
    assert not access.can_read(bob, west, "bookinfo")
    assert list(access.visible_clusters(bob)) == [east]
    assert access.scope_filter(access.namespace_scope(bob, west)).children == [("namespace__in", [])]


def test_grants_are_read_once_per_user_object(
    bob: Any, clusters: tuple[Cluster, Cluster], django_assert_num_queries: Any
) -> None:
    east, _ = clusters
    RoleGrant.objects.create(user=bob, role="viewer", cluster=east)
    with django_assert_num_queries(1):
        access.can_read(bob, east, "a")
        access.can_read(bob, east, "b")
        access.namespace_scope(bob, east)


def test_superuser_is_admin_everywhere_and_inactive_user_nothing(
    django_user_model: Any, clusters: tuple[Cluster, Cluster]
) -> None:
    east, west = clusters
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    assert access.is_mesh_admin(root) and access.can_write(root, west, "any")
    gone = django_user_model.objects.create_user("gone", is_active=False)
    RoleGrant.objects.create(user=gone, role="admin")
    assert not access.can_read(gone, east, "any")


def test_a_grant_is_for_a_user_or_a_group_and_admin_for_whole_clusters(alice: Any) -> None:
    with pytest.raises(IntegrityError):
        RoleGrant.objects.create(user=alice, role="admin", namespace="bookinfo")


def test_tokens_are_stored_hashed(alice: Any) -> None:
    token, plaintext = ApiToken.issue(alice, "ci")
    token.refresh_from_db()
    assert plaintext.startswith(f"mui_{token.key_id}_")
    assert token.key_hash == hash_token(plaintext) and plaintext not in token.key_hash
    assert token.matches(plaintext) and not token.matches(plaintext + "x")


def bearer(plaintext: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def test_bearer_token_authenticates_and_records_use(alice: Any, anonymous_client: Any) -> None:
    token, plaintext = ApiToken.issue(alice, "ci")
    response = anonymous_client.get("/api/v1/schema", **bearer(plaintext))
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("state", ["revoked", "expired", "wrong", "inactive"])
def test_refused_tokens_get_401(alice: Any, anonymous_client: Any, state: str) -> None:
    token, plaintext = ApiToken.issue(alice, "ci")
    if state == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "wrong":
        plaintext = plaintext[:-2] + ("AA" if not plaintext.endswith("AA") else "BB")
    else:
        alice.is_active = False
        alice.save()
    response = anonymous_client.get("/api/v1/schema", **bearer(plaintext))
    assert response.status_code == 401
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
