"""The admin by role: anyone with a grant enters; mesh admins manage clusters, users, grants and tokens; others see
the inventory rows of their namespaces, read-only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from accounts.models import ApiToken, RoleGrant, hash_token
from inventory.models import Cluster, Workload
from tests.access.mesh import GRANTED, HIDDEN, make_mesh, make_role_user

pytestmark = pytest.mark.django_db


def _login(role: str) -> Client:
    client = Client()
    client.force_login(make_role_user(role))
    return client


def _changelist(model: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_a_user_with_a_grant_enters_the_admin_and_sees_only_what_its_roles_allow() -> None:
    make_mesh()
    viewer = _login("viewer")
    index = viewer.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    assert _changelist(Workload) in html
    for model in (Cluster, User, Group, RoleGrant, ApiToken, PeriodicTask):
        assert _changelist(model) not in html
        assert viewer.get(_changelist(model)).status_code == 403
    assert viewer.get(_changelist(Workload)).status_code == 200


def test_a_user_without_grants_is_sent_to_the_admin_login() -> None:
    response = _login("no_grant").get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_non_staff_user_with_a_grant_logs_in_through_the_admin_form(anonymous_client: Client) -> None:
    user = make_role_user("viewer")
    user.set_password("pw-viewer")
    user.save()
    response = anonymous_client.post(
        "/admin/login/", {"username": "viewer", "password": "pw-viewer", "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert anonymous_client.get("/admin/").status_code == 200


def test_inventory_rows_of_other_namespaces_are_not_found_and_none_can_change() -> None:
    mesh = make_mesh()
    scoped = _login("bookinfo_editor")
    html = scoped.get(_changelist(Workload)).content.decode()
    assert "productpage-v1" in html and "istio-ingressgateway" not in html and HIDDEN not in html
    hidden = Workload.objects.get(namespace=HIDDEN)
    change = scoped.get(reverse("admin:inventory_workload_change", args=[hidden.pk]))
    assert change.status_code == 302  # the admin's answer for a row it does not find
    mine = Workload.objects.get(namespace=GRANTED)
    page = scoped.get(reverse("admin:inventory_workload_change", args=[mine.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert scoped.get(reverse("admin:inventory_workload_add")).status_code == 403
    assert scoped.post(reverse("admin:inventory_workload_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    assert Workload.objects.filter(pk=mine.pk).exists()
    other = Cluster.objects.create(name="secret-west")
    assert "secret-west" not in scoped.get(_changelist(Workload)).content.decode()
    assert mesh.cluster.name in scoped.get(_changelist(Workload)).content.decode()
    assert other.pk


def test_a_mesh_admin_assigns_grants_to_users_and_groups() -> None:
    mesh = make_mesh()
    admin = _login("admin")
    bob = User.objects.create_user("bob")
    team = Group.objects.create(name="team")
    response = admin.post(
        reverse("admin:accounts_rolegrant_add"),
        {"user": bob.pk, "role": "editor", "cluster": mesh.cluster.pk, "namespace": GRANTED},
    )
    assert response.status_code == 302, response.content
    assert RoleGrant.objects.filter(user=bob, role="editor", namespace=GRANTED).exists()
    refused = admin.post(reverse("admin:accounts_rolegrant_add"), {"group": team.pk, "role": "admin", "namespace": "x"})
    assert refused.status_code == 200 and b"covers whole clusters" in refused.content
    user_page = admin.get(reverse("admin:auth_user_change", args=[bob.pk])).content.decode()
    assert "role_grants-TOTAL_FORMS" in user_page and 'value="editor" selected' in user_page
    group_page = admin.get(reverse("admin:auth_group_change", args=[team.pk])).content.decode()
    assert "role_grants-TOTAL_FORMS" in group_page


def test_a_token_made_in_the_admin_is_shown_once_in_a_message() -> None:
    admin = _login("admin")
    bob = User.objects.create_user("bob")
    response = admin.post(reverse("admin:accounts_apitoken_add"), {"user": bob.pk, "name": "robot"}, follow=True)
    html = response.content.decode()
    match = re.search(r"(mui_[0-9a-f]{12}_[A-Za-z0-9_-]+)", html)
    assert match is not None and "will not be shown again" in html
    token = ApiToken.objects.get(name="robot")
    assert token.user == bob and token.key_hash == hash_token(match.group(1))
    again = admin.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert match.group(1) not in again and f"mui_{token.key_id}_" in again
    assert match.group(1) not in admin.get(_changelist(ApiToken)).content.decode()


def test_a_mesh_admin_revokes_tokens_with_the_action() -> None:
    admin = _login("admin")
    bob = User.objects.create_user("bob")
    tokens = [ApiToken.issue(bob, name)[0] for name in ("a", "b")]
    response = admin.post(
        _changelist(ApiToken), {"action": "revoke_tokens", "_selected_action": [t.pk for t in tokens]}, follow=True
    )
    assert b"2 tokens revoked." in response.content
    assert all(t.revoked_at is not None for t in ApiToken.objects.all())


def test_superusers_keep_everything() -> None:
    root = _login("superuser")
    for model in (Cluster, User, Group, RoleGrant, ApiToken, PeriodicTask, Workload):
        assert root.get(_changelist(model)).status_code == 200


def test_an_admin_registered_without_a_policy_is_for_mesh_admins_and_keeps_its_own_limits() -> None:
    from audit.models import AuditEvent

    admin = _login("admin")
    assert admin.get(_changelist(AuditEvent)).status_code == 200
    assert admin.get(reverse("admin:audit_auditevent_add")).status_code == 403  # the audit log stays read-only
    assert admin.get(_changelist(PeriodicTask)).status_code == 200  # Celery beat's admin checks Django permissions
    assert _login("editor").get(_changelist(AuditEvent)).status_code == 403
