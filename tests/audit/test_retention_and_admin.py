"""Old audit events are deleted by the beat task; the log is read-only and shown to mesh admins only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import RoleGrant
from audit import events
from audit.models import AuditEvent, EventKind
from audit.tasks import purge_audit_events
from mesh_ui.celery import app

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/auditevent/"


def _event_aged(days: float, kind: EventKind = EventKind.LOGIN, username: str = "alice") -> AuditEvent:
    return AuditEvent.objects.create(kind=kind, username=username, at=timezone.now() - timedelta(days=days))


def test_the_beat_task_deletes_events_older_than_the_retention(settings: Any) -> None:
    settings.MESH_UI_AUDIT_RETENTION_DAYS = 30
    kept = [_event_aged(0), _event_aged(29.9)]
    _event_aged(30.1)
    _event_aged(400)
    assert purge_audit_events() == 2
    assert sorted(AuditEvent.objects.values_list("pk", flat=True)) == sorted(e.pk for e in kept)
    assert purge_audit_events() == 0  # safe to run twice


def test_the_retention_sweep_is_scheduled_and_its_task_registered() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["audit-purge-expired-events"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert settings.MESH_UI_AUDIT_RETENTION_DAYS == 90  # the documented default


@pytest.fixture
def superuser_client(django_user_model: Any) -> Client:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password")
    browser = Client()
    browser.force_login(root)
    return browser


def test_mesh_admins_read_the_log_and_filter_it_by_kind_and_user(superuser_client: Client, alice: Any) -> None:
    events.record_login_failed(None, "mallory", "password")
    events.record_write(alice, "prod", "VirtualService", "bookinfo", "reviews", "update", "ok")
    page = superuser_client.get(CHANGELIST)
    assert page.status_code == 200
    assert b"mallory" in page.content and b"reviews" in page.content
    by_kind = superuser_client.get(CHANGELIST, {"kind": EventKind.LOGIN_FAILED})
    assert b"mallory" in by_kind.content and b"reviews" not in by_kind.content
    by_user = superuser_client.get(CHANGELIST, {"actor__id__exact": alice.pk})
    assert b"reviews" in by_user.content and b"mallory" not in by_user.content
    today = timezone.now()
    by_day = superuser_client.get(CHANGELIST, {"at__year": today.year, "at__month": today.month, "at__day": today.day})
    assert b"reviews" in by_day.content


def test_the_log_cannot_be_added_to_changed_or_deleted_from_the_admin(superuser_client: Client) -> None:
    event = _event_aged(1)
    assert superuser_client.get(f"{CHANGELIST}add/").status_code == 403
    assert superuser_client.get(f"{CHANGELIST}{event.pk}/delete/").status_code == 403
    detail = superuser_client.post(f"{CHANGELIST}{event.pk}/change/", {"username": "someone-else"})
    assert detail.status_code == 403
    event.refresh_from_db()
    assert event.username == "alice"


def test_staff_who_are_not_mesh_admins_cannot_read_the_log(django_user_model: Any) -> None:
    staff = django_user_model.objects.create_user("stan", "stan@example.com", "stan-password", is_staff=True)
    RoleGrant.objects.create(user=staff, role="admin", cluster=None)
    _event_aged(1)
    browser = Client()
    browser.force_login(staff)
    assert browser.get(CHANGELIST).status_code == 200  # admin of every cluster: a mesh admin
    RoleGrant.objects.filter(user=staff).update(role="editor")
    assert browser.get(CHANGELIST).status_code == 403
