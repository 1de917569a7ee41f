"""The API tokens page: create (plaintext once), use with Bearer, revoke with confirmation, expiry, nothing leaked."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, hash_token
from tests.dashboard.factories import make_cluster

pytestmark = pytest.mark.django_db

TOKENS = "/account/tokens/"


def _create(client: Client, name: str = "ci", expires_in: str = "30") -> tuple[ApiToken, str, Any]:
    response = client.post(TOKENS, {"name": name, "expires_in": expires_in})
    assert response.status_code == 200
    match = re.search(r'value="(mui_[0-9a-f]{12}_[A-Za-z0-9_-]+)"', response.content.decode())
    assert match is not None, "the new token is shown"
    return ApiToken.objects.get(name=name), match.group(1), response


def _cells(client: Client, token: ApiToken) -> list[str]:
    """The cells of the token's row in the list: name, prefix, created, expires, last used, state, action."""
    html = client.get(TOKENS).content.decode()
    row = re.search(rf'<tr data-token="{token.pk}">(.*?)</tr>', html, re.S)
    assert row is not None
    return [cell.strip() for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


def _bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def test_a_new_token_is_shown_once_and_stored_hashed(client: Client, alice: Any) -> None:
    token, plaintext, response = _create(client)
    assert token.user == alice and token.key_hash == hash_token(plaintext)
    assert "no-store" in response["Cache-Control"]
    assert "will never show it again" in response.content.decode()
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    secret = plaintext.split("_", 2)[2]
    assert not any(secret in value for value in stored)
    later = client.get(TOKENS).content.decode()
    assert "ci" in later and f"mui_{token.key_id}_" in later and secret not in later


def test_a_token_from_the_page_authenticates_the_api_and_records_its_use(
    client: Client, anonymous_client: Client
) -> None:
    make_cluster()
    token, plaintext, _ = _create(client)
    assert anonymous_client.get("/api/v1/snapshots", headers=_bearer(plaintext)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert _cells(client, token)[4] == timezone.localtime(token.last_used_at).strftime("%Y-%m-%d %H:%M")


def test_revoking_asks_first_then_refuses_the_token(client: Client, anonymous_client: Client) -> None:
    make_cluster()
    token, plaintext, _ = _create(client)
    confirm = client.get(reverse("accounts:revoke-token", args=[token.pk]))
    assert confirm.status_code == 200 and b'method="post"' in confirm.content
    token.refresh_from_db()
    assert token.revoked_at is None  # asking is not revoking
    response = client.post(reverse("accounts:revoke-token", args=[token.pk]))
    assert response.status_code == 302 and response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert anonymous_client.get("/api/v1/snapshots", headers=_bearer(plaintext)).status_code == 401
    listing = client.get(TOKENS).content.decode()
    assert "revoked" in listing and "no longer authenticates" in listing


def test_revoking_needs_the_csrf_token(alice: Any) -> None:
    token, _ = ApiToken.issue(alice, "ci")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(reverse("accounts:revoke-token", args=[token.pk])).status_code == 403
    assert strict.post(TOKENS, {"name": "sneaky"}).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None and not ApiToken.objects.filter(name="sneaky").exists()


def test_another_users_token_is_not_found(client: Client, django_user_model: Any) -> None:
    bob = django_user_model.objects.create_user("bob")
    token, _ = ApiToken.issue(bob, "bobs")
    assert client.get(reverse("accounts:revoke-token", args=[token.pk])).status_code == 404
    assert client.post(reverse("accounts:revoke-token", args=[token.pk])).status_code == 404
    assert "bobs" not in client.get(TOKENS).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_expiry_is_chosen_and_an_expired_token_is_refused(client: Client, anonymous_client: Client) -> None:
    make_cluster()
    token, plaintext, _ = _create(client, expires_in="7")
    assert token.expires_at is not None
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    _, _, _ = _create(client, name="forever", expires_in="")
    assert ApiToken.objects.get(name="forever").expires_at is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert anonymous_client.get("/api/v1/snapshots", headers=_bearer(plaintext)).status_code == 401
    assert "expired" in client.get(TOKENS).content.decode()


def test_a_bad_form_says_what_is_wrong_and_creates_nothing(client: Client) -> None:
    response = client.post(TOKENS, {"name": "", "expires_in": "12"})
    assert response.status_code == 400
    assert b"This field is required" in response.content and b"Select a valid choice" in response.content
    assert not ApiToken.objects.exists()


def test_the_plaintext_never_reaches_a_log(
    client: Client, anonymous_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    make_cluster()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own default config holds its loggers at INFO
    with CaptureQueriesContext(connection) as queries:  # SQL logged at DEBUG, with its parameters
        token, plaintext, _ = _create(client)
        anonymous_client.get("/api/v1/snapshots", headers=_bearer(plaintext))
        anonymous_client.get(
            "/api/v1/snapshots", headers=_bearer(plaintext + "x")
        )  # a refused one is not logged either
        client.post(reverse("accounts:revoke-token", args=[token.pk]))
        anonymous_client.get("/api/v1/snapshots", headers=_bearer(plaintext))
    secret = plaintext.split("_", 2)[2]
    assert any(record.name == "django.db.backends" for record in caplog.records)
    assert secret not in caplog.text
    assert not any(secret in query["sql"] for query in queries.captured_queries)
