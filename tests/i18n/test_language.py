"""The language is picked from the browser, switched with the header's selector and remembered on the user."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.language import SESSION_KEY
from accounts.models import UserPreference
from tests.dashboard.factories import make_cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password="pw-for-bob-1")


def test_the_browser_language_picks_chinese(admin_client):
    make_cluster()
    response = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8")
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in html and "<h1>概览</h1>" in html and "退出登录" in html
    english = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "<h1>Overview</h1>" in english and "概览" not in english


def test_anonymous_choice_is_a_cookie_and_the_login_page_follows_it(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert response.cookies["django_language"].value == "zh-hans"
    assert "登录 mesh-ui" in client.get("/login/").content.decode()


def test_a_logged_in_choice_is_stored_and_follows_the_user_to_another_browser(client, bob, rf):
    make_cluster()
    client.force_login(bob)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert UserPreference.objects.get(user=bob).language == "zh-hans"
    from django.test import Client

    other = Client()  # no cookie, an English browser
    other.post("/login/", {"username": "bob", "password": "pw-for-bob-1"})
    assert other.session[SESSION_KEY] == "zh-hans"
    html = other.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "API 令牌" in html
    # Switching back is stored too.
    other.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert UserPreference.objects.get(user=bob).language == "en"
    assert "<h1>API tokens</h1>" in other.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


def test_an_unknown_language_changes_nothing(client, bob):
    client.force_login(bob)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert not UserPreference.objects.filter(user=bob).exists()
    assert "django_language" not in client.cookies


def test_the_header_offers_both_languages_and_marks_the_current_one(admin_client):
    make_cluster()
    html = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<option value="en" lang="en">English</option>' in html
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in html


def test_the_javascript_catalogue_serves_the_graph_page_strings(client):
    response = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200 and "javascript" in response["Content-Type"]
    body = response.content.decode()
    assert "\\u6b63\\u5728\\u56de\\u653e\\u5feb\\u7167" in body or "正在回放快照" in body  # "Replaying snapshot"


def test_translated_banners_keep_their_numbers(client, settings, monkeypatch):
    from django.utils import timezone

    from tests.dashboard.factories import make_snapshot

    # The clock stands still, so a slow request on a loaded machine cannot make the age read one second more.
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    cluster = make_cluster()
    make_snapshot(cluster, age_seconds=10 * settings.MESH_UI_SNAPSHOT_INTERVAL)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert f"最近的快照是 {10 * settings.MESH_UI_SNAPSHOT_INTERVAL:.0f} 秒前的" in html


def test_the_500_page_without_a_request_has_no_selector():
    """Django renders 500.html with an empty context: no request, so no CSRF token and no languages to offer."""
    from django.template import loader

    html = loader.get_template("500.html").render({})
    assert "Something went wrong on our side" in html and "language-select" not in html


def test_health_states_show_translated_but_stay_english_in_data(client):
    from tests.dashboard.factories import make_snapshot

    cluster = make_cluster()
    make_snapshot(cluster, health={"namespaces": {"bookinfo": {"status": "Degraded", "reason": "1 app degraded"}}})
    from inventory.models import Namespace

    Namespace.objects.create(cluster=cluster, name="bookinfo")
    Namespace.objects.create(cluster=cluster, name="quiet")
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'data-health="Degraded"' in html and ">降级</span>" in html
    assert ">无健康信息</span>" in html
