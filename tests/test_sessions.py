"""Sessions: none for anonymous requests, and expired ones cleared on beat's schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone

from inventory.clusters import SESSION_KEY, remember_cluster
from mesh_ui.celery import app
from mesh_ui.tasks import clear_expired_sessions
from tests.dashboard.factories import make_cluster
from tests.support.celery_worker import call_task, running_worker, worker_env
from tests.support.wait import wait_until

pytestmark = pytest.mark.django_db

ANONYMOUS_GETS = [
    "/?cluster=other",
    "/graph/?cluster=other",
    "/workloads/?cluster=other&namespace=shop",
    "/namespaces/shop/workloads/cart/?cluster=other",
    "/login/?next=/%3Fcluster%3Dother",
    "/api/v1/graph?cluster=other",
    "/api/v1/snapshots?cluster=other",
    "/admin/",
    "/healthz",
    "/no-such-page/?cluster=other",
    "/static/mesh_ui/base.css",
]


def test_anonymous_requests_create_no_session(anonymous_client):
    make_cluster("prod")
    make_cluster("other")
    for path in ANONYMOUS_GETS:
        response = anonymous_client.get(path)
        assert settings.SESSION_COOKIE_NAME not in response.cookies, path
    anonymous_client.post("/login/", {"username": "nobody", "password": "wrong"})
    assert Session.objects.count() == 0


def test_a_logged_in_choice_of_cluster_is_remembered(client):
    make_cluster("prod")
    make_cluster("other")
    client.get("/?cluster=other")
    assert client.session[SESSION_KEY] == "other"


def test_remember_cluster_never_writes_an_anonymous_session():
    request = RequestFactory().get("/?cluster=other")
    request.user = AnonymousUser()
    request.session = SessionStore()
    remember_cluster(request, make_cluster("other"))
    assert not request.session.modified and SESSION_KEY not in request.session


def _session(expire_date_offset: timedelta) -> Session:
    store = SessionStore()
    store["user"] = "someone"
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expire_date_offset)
    return Session.objects.get(pk=store.session_key)


def test_clear_expired_sessions_deletes_only_expired_ones():
    expired = _session(timedelta(seconds=-1))
    live = _session(timedelta(days=1))
    clear_expired_sessions()
    assert not Session.objects.filter(pk=expired.pk).exists()
    assert Session.objects.filter(pk=live.pk).exists()


def test_beat_clears_expired_sessions_every_hour():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == clear_expired_sessions.name]
    assert [e["schedule"] for e in entries] == [3600.0]
    assert clear_expired_sessions.name in app.tasks


def test_a_worker_runs_the_session_clearing_task(transactional_db, tmp_path):
    """The worker finds the task (it lives outside the apps' tasks.py) and clears the suite's database."""
    expired = _session(timedelta(days=-1))
    live = _session(timedelta(days=1))
    env = worker_env(tmp_path, CELERY_BROKER_URL="filesystem://")
    with running_worker(env, tmp_path / "worker.log", "--pool", "solo"):
        call_task(env, clear_expired_sessions.name)
        wait_until(
            lambda: not Session.objects.filter(pk=expired.pk).exists(), "the worker cleared sessions", timeout=60
        )
    assert Session.objects.filter(pk=live.pk).exists()
