"""The audit log records logins, logouts, token life and use, grant changes and writes, never a secret."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import serializers
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import ApiToken, RoleGrant
from audit import context, events
from audit.models import AuditEvent, EventKind
from inventory.models import Cluster
from tests.conftest import ALICE_PASSWORD, ALICE_USERNAME
from tests.dashboard.factories import make_cluster

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (audit test)"


def _kinds() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("kind", flat=True))


def _everything_stored() -> str:
    """Every audit row, every field, as one text: what a secret must never be part of."""
    return serializers.serialize("json", AuditEvent.objects.all())


def test_a_password_login_and_logout_are_recorded_with_address_and_user_agent(alice: Any) -> None:
    browser = Client(HTTP_USER_AGENT=BROWSER)
    response = browser.post("/login/", {"username": ALICE_USERNAME, "password": ALICE_PASSWORD})
    assert response.status_code == 302
    browser.post("/logout/")
    login, logout = AuditEvent.objects.order_by("pk")
    assert (login.kind, login.actor, login.username, login.ip, login.user_agent) == (
        EventKind.LOGIN,
        alice,
        ALICE_USERNAME,
        "127.0.0.1",
        BROWSER,
    )
    assert login.detail == {"method": "password"}
    assert (logout.kind, logout.actor) == (EventKind.LOGOUT, alice)


def test_a_failed_login_keeps_the_name_tried_and_never_the_password(alice: Any) -> None:
    Client(HTTP_USER_AGENT=BROWSER).post("/login/", {"username": "mallory", "password": "guess-Secret-1"})
    Client().post("/login/", {"username": ALICE_USERNAME, "password": "almost-alice-password"})
    first, second = AuditEvent.objects.order_by("pk")
    assert (first.kind, first.username, first.actor, first.user_agent) == (
        EventKind.LOGIN_FAILED,
        "mallory",
        None,
        BROWSER,
    )
    assert first.detail == {"method": "password"}
    assert (second.kind, second.username) == (EventKind.LOGIN_FAILED, ALICE_USERNAME)
    stored = _everything_stored()
    assert "guess-Secret-1" not in stored and "almost-alice-password" not in stored


def test_token_creation_use_revocation_and_deletion_are_recorded_without_the_plaintext(
    alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    make_cluster()
    token, plaintext = ApiToken.issue(alice, "CI pipeline")
    script = Client(HTTP_USER_AGENT="curl/8.5")
    assert script.get("/api/v1/snapshots", HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    token.name = "CI pipeline (old)"
    token.save()  # a later save of a revoked token is no second revocation
    token.delete()
    assert _kinds() == [
        EventKind.TOKEN_CREATED,
        EventKind.TOKEN_USED,
        EventKind.TOKEN_REVOKED,
        EventKind.TOKEN_DELETED,
    ]
    used = AuditEvent.objects.get(kind=EventKind.TOKEN_USED)
    assert (used.actor, used.object_name, used.ip, used.user_agent) == (alice, token.key_id, "127.0.0.1", "curl/8.5")
    assert used.detail == {"name": "CI pipeline", "path": "/api/v1/snapshots"}
    secret_part = plaintext.rsplit("_", 1)[1]
    for text in (_everything_stored(), caplog.text):
        assert plaintext not in text and secret_part not in text


def test_token_use_is_recorded_at_most_once_a_minute(alice: Any) -> None:
    make_cluster()
    token, plaintext = ApiToken.issue(alice, "busy script")
    script = Client()
    for _ in range(3):
        assert script.get("/api/v1/snapshots", HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code == 200
    assert AuditEvent.objects.filter(kind=EventKind.TOKEN_USED).count() == 1
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    script.get("/api/v1/snapshots", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert AuditEvent.objects.filter(kind=EventKind.TOKEN_USED).count() == 2


def test_grant_changes_are_recorded_with_the_user_who_made_them(alice: Any, django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password")
    east = Cluster.objects.create(name="east")
    team = Group.objects.create(name="team")
    request = RequestFactory().post("/admin/accounts/rolegrant/add/", REMOTE_ADDR="10.0.0.7")
    request.user = root
    with context.serving(request):
        grant = RoleGrant.objects.create(group=team, role="viewer", cluster=east, namespace="bookinfo")
        grant.save()  # saved unchanged: nothing to record
        grant.role = "editor"
        grant.save()
        grant.delete()
    created, changed, deleted = AuditEvent.objects.order_by("pk")
    assert [e.kind for e in (created, changed, deleted)] == [
        EventKind.GRANT_CREATED,
        EventKind.GRANT_CHANGED,
        EventKind.GRANT_DELETED,
    ]
    assert {(e.actor, e.ip, e.cluster, e.namespace) for e in (created, changed, deleted)} == {
        (root, "10.0.0.7", "east", "bookinfo")
    }
    viewer = {"grantee": "group team", "role": "viewer", "cluster": "east", "namespace": "bookinfo"}
    assert created.detail == {"after": viewer}
    assert changed.detail == {"before": viewer, "after": {**viewer, "role": "editor"}}
    assert deleted.detail == {"before": {**viewer, "role": "editor"}}


def test_a_grant_changed_outside_a_request_has_no_actor(alice: Any) -> None:
    grant = RoleGrant.objects.get(user=alice)
    grant.role = "editor"
    grant.save()
    changed = AuditEvent.objects.get(kind=EventKind.GRANT_CHANGED)
    assert changed.actor is None and changed.username == "" and changed.ip is None
    assert changed.detail["after"] == {"grantee": "user alice", "role": "editor", "cluster": "", "namespace": ""}


def test_record_write_keeps_who_changed_what_where_and_how_it_went(alice: Any) -> None:
    cluster = Cluster.objects.create(name="prod")
    detail = {"diff": {"spec.http[0].route[0].weight": [100, 80]}, "message": "applied"}
    event = events.record_write(alice, cluster, "VirtualService", "bookinfo", "reviews", "update", "ok", detail)
    event.refresh_from_db()
    assert (event.kind, event.actor, event.username, event.cluster) == (EventKind.WRITE, alice, "alice", "prod")
    assert (event.namespace, event.object_kind, event.object_name) == ("bookinfo", "VirtualService", "reviews")
    assert (event.action, event.result, event.detail) == ("update", "ok", detail)
    # A cluster may be named instead of passed (the row may be gone by the time the write fails).
    other = events.record_write(alice, "staging", "DestinationRule", "shop", "cart", "delete", "conflict")
    assert (other.cluster, other.detail) == ("staging", {})
    assert json.loads(_everything_stored())  # every row serializes


def test_changes_made_by_mesh_ui_itself_say_which_part_made_them(alice: Any) -> None:
    with context.system_actor("sso"):
        RoleGrant.objects.create(user=alice, role="editor", namespace="bookinfo")
    event = AuditEvent.objects.filter(kind=EventKind.GRANT_CREATED).latest("pk")
    assert event.detail["via"] == "sso"


def test_basic_credentials_on_the_api_are_no_login_attempt(alice: Any) -> None:
    # HTTP Basic is off (tokens and sessions only): the password is never checked, so no login failed either.
    credentials = base64.b64encode(b"alice:not-her-password").decode()
    response = Client().get("/api/v1/snapshots", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 401
    assert not AuditEvent.objects.filter(kind=EventKind.LOGIN_FAILED).exists()
    assert "not-her-password" not in _everything_stored()


def test_group_memberships_changed_from_either_side_are_recorded(alice: Any, django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password")
    team, ops = Group.objects.create(name="team"), Group.objects.create(name="ops")
    request = RequestFactory().post("/admin/auth/user/1/change/")
    request.user = root
    with context.serving(request):
        alice.groups.add(team, ops)
        team.user_set.remove(alice)
        alice.groups.clear()
    changes = AuditEvent.objects.filter(kind=EventKind.GROUPS_CHANGED).order_by("pk")
    assert [(e.actor, e.object_name, e.action, e.detail) for e in changes] == [
        (root, "alice", "add", {"added": ["ops", "team"]}),
        (root, "alice", "remove", {"removed": ["team"]}),
        (root, "alice", "remove", {"removed": ["ops"]}),
    ]
    alice.groups.clear()  # nothing left to clear: nothing recorded
    assert changes.count() == 3
