"""Guessed credentials are throttled: failed logins per username and client address (django-axes), refused API
tokens per client address; a locked-out client costs no password hash and no token lookup."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from mesh_ui.client_address import client_address
from tests.conftest import ALICE_PASSWORD, ALICE_USERNAME
from tests.dashboard.factories import make_cluster

pytestmark = pytest.mark.django_db


def _log_in(client: Client, password: str, username: str = ALICE_USERNAME):
    return client.post("/login/", {"username": username, "password": password, "next": "/"})


def _fail_logins(client: Client, times: int, username: str = ALICE_USERNAME) -> None:
    for _ in range(times):
        response = _log_in(client, "wrong", username)
        assert response.status_code == 200 and b"Wrong username or password" in response.content


@pytest.fixture
def hashes(monkeypatch):
    """Every password hash computed from here on (verify or encode, as ModelBackend does for unknown users)."""
    from django.contrib.auth.hashers import MD5PasswordHasher  # the tests' hasher (conftest)

    calls: list[str] = []
    verify, encode = MD5PasswordHasher.verify, MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "verify", lambda self, *a: calls.append("verify") or verify(self, *a))
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, *a: calls.append("encode") or encode(self, *a))
    return calls


def _lock_out(client: Client) -> None:
    """Four wrong passwords, then the fifth: that one locks the username out from this address (429)."""
    _fail_logins(client, 4)
    response = _log_in(client, "wrong")
    assert response.status_code == 429 and b"data-login-locked" in response.content


def test_the_sixth_wrong_password_locks_out_even_the_right_one(alice, anonymous_client, settings):
    assert settings.MESH_UI_LOGIN_FAILURE_LIMIT == 5
    _lock_out(anonymous_client)
    for password in ("wrong", ALICE_PASSWORD):
        response = _log_in(anonymous_client, password)
        assert response.status_code == 429
        html = " ".join(response.content.decode().split())
        assert "Too many failed logins as <strong>alice</strong> from your address (5)" in html
        assert "refused for 15 minutes, even with the right password" in html
    assert anonymous_client.get("/").status_code == 302  # not logged in


def test_a_locked_out_client_costs_no_password_hash(alice, anonymous_client, hashes):
    _lock_out(anonymous_client)
    assert hashes  # the five failures were checked
    hashes.clear()
    assert _log_in(anonymous_client, ALICE_PASSWORD).status_code == 429
    assert _log_in(anonymous_client, "guess").status_code == 429
    assert hashes == []


def test_the_lockout_is_per_username_and_address(alice, django_user_model):
    django_user_model.objects.create_user("bob", password="bob-password")
    here, elsewhere = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    _lock_out(here)
    assert _log_in(here, ALICE_PASSWORD).status_code == 429
    assert _log_in(here, "bob-password", "bob").status_code == 302  # another username from the same address
    assert _log_in(elsewhere, ALICE_PASSWORD).status_code == 302  # the same username from another address


def test_a_successful_login_resets_the_count(alice, anonymous_client):
    _fail_logins(anonymous_client, 4)
    assert _log_in(anonymous_client, ALICE_PASSWORD).status_code == 302
    anonymous_client.post("/logout/")
    _fail_logins(anonymous_client, 4)
    assert _log_in(anonymous_client, ALICE_PASSWORD).status_code == 302


def test_the_client_address_trusts_only_the_configured_proxies(rf, settings):
    spoofed = {"REMOTE_ADDR": "10.9.9.9", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 81.2.69.160"}
    assert client_address(rf.get("/", **spoofed)) == "10.9.9.9"  # no proxy configured: the peer
    # One proxy (what MESH_UI_PROXY_COUNT=1 sets): the address it appended, not what the client wrote before it.
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    assert client_address(rf.get("/", **spoofed)) == "81.2.69.160"
    # The audit log records the same address.
    from audit.events import client_address as audited_address

    assert audited_address(rf.get("/", **spoofed)) == "81.2.69.160"


def _bearer(plaintext: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def test_a_client_sending_wrong_tokens_is_throttled_before_any_lookup(alice, settings):
    make_cluster()
    _, good = ApiToken.issue(alice, "ci")
    guesser, other = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    for attempt in range(settings.MESH_UI_TOKEN_FAILURE_LIMIT):
        response = guesser.get("/api/v1/snapshots", **_bearer(f"mui_x{attempt}_guess"))
        assert response.status_code == 401, attempt
    with CaptureQueriesContext(connection) as queries:
        refused = guesser.get("/api/v1/snapshots", **_bearer(good))
    assert refused.status_code == 429
    assert "Too many refused tokens" in refused.json()["message"]
    assert 0 < int(refused["Retry-After"]) <= settings.MESH_UI_LOGIN_LOCKOUT
    assert not [q for q in queries.captured_queries if "apitoken" in q["sql"].lower()]
    assert other.get("/api/v1/snapshots", **_bearer(good)).status_code == 200


def test_sessions_are_not_throttled_by_refused_tokens(alice, client, settings):
    make_cluster()
    for attempt in range(settings.MESH_UI_TOKEN_FAILURE_LIMIT + 1):
        client.get("/api/v1/snapshots", **_bearer(f"mui_x{attempt}_guess"))
    assert client.get("/api/v1/snapshots").status_code == 200
