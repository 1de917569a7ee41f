"""The history page of an Istio object and its rollback confirmation, against the simulator: newest change first,
diffs escaped, rollback (POST with CSRF) through the write service for editors only."""

from __future__ import annotations

import re

from django.test import Client

from inventory.models import IstioObject
from istio_config.models import ConfigChange
from tests.istio_config.writes_support import (
    REVIEWS_RULE,
    cluster_copy,
    create,
    editor,
    reviews_route,
    synced,
    update,
)

__all__ = ["editor", "synced"]  # fixtures

HISTORY = "/namespaces/bookinfo/istio/VirtualService/reviews/history/?cluster=sim"


def rollback_url(change_id: int) -> str:
    return f"/namespaces/bookinfo/istio/VirtualService/reviews/history/{change_id}/rollback/?cluster=sim"


def make_two_versions(editor) -> tuple[ConfigChange, str]:
    create(editor, REVIEWS_RULE)
    hostile = reviews_route("v1").replace(
        "  namespace: bookinfo\n", '  namespace: bookinfo\n  annotations:\n    note: "<script>alert(1)</script>"\n'
    )
    version = create(editor, hostile).json()["object"]["metadata"]["resourceVersion"]
    current = update(editor, "VirtualService", "reviews", reviews_route("v2"), version).json()
    first = ConfigChange.objects.get(kind="VirtualService", action="create")
    return first, current["object"]["metadata"]["resourceVersion"]


def test_history_lists_changes_newest_first_with_escaped_diffs(synced, editor):
    make_two_versions(editor)
    page = editor.get(HISTORY)
    assert page.status_code == 200
    html = page.content.decode()
    assert [m for m in re.findall(r"<strong>(\w+)</strong>", html)] == ["update", "create"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert 'class="diff-add">+        subset: v2' in html
    assert "data-rollback-link" in html


def test_object_page_links_to_its_history(synced, editor):
    make_two_versions(editor)
    page = editor.get("/namespaces/bookinfo/istio/VirtualService/reviews/?cluster=sim").content.decode()
    assert 'href="/namespaces/bookinfo/istio/VirtualService/reviews/history/?cluster=sim"' in page


def test_rollback_confirms_then_restores_through_the_write_service(synced, editor, simulator, django_user_model):
    first, current = make_two_versions(editor)
    confirmation = editor.get(rollback_url(first.pk))
    assert confirmation.status_code == 200
    html = confirmation.content.decode()
    assert f'name="resource_version" value="{current}"' in html
    assert 'class="diff-add">+        subset: v1' in html

    checked = Client(enforce_csrf_checks=True)
    checked.force_login(django_user_model.objects.get(username="erin"))
    assert checked.post(rollback_url(first.pk), {"resource_version": current}).status_code == 403  # no CSRF token

    done = editor.post(rollback_url(first.pk), {"resource_version": current})
    assert done.status_code == 302
    assert (
        cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"][0]["destination"]["subset"]
        == "v1"
    )
    assert ConfigChange.objects.filter(action="rollback", result="applied", rollback_of=first).exists()
    assert "rolled back" in editor.get(done["Location"]).content.decode()


def test_a_stale_rollback_shows_the_conflict_and_writes_nothing(synced, editor):
    first, current = make_two_versions(editor)
    answer = editor.post(rollback_url(first.pk), {"resource_version": first.resource_version_after})
    assert answer.status_code == 409
    assert 'data-write-error="conflict"' in answer.content.decode()
    assert IstioObject.objects.get(kind="VirtualService", name="reviews").resource_version == current


def test_viewers_see_history_but_cannot_roll_back(synced, editor, client):
    first, current = make_two_versions(editor)
    page = client.get(HISTORY).content.decode()  # alice views everything
    assert "data-rollback-link" not in page and "data-change" in page
    assert client.post(rollback_url(first.pk), {"resource_version": current}).status_code == 403
    assert not ConfigChange.objects.filter(action="rollback").exists()
