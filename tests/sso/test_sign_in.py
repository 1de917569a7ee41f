"""Single sign-on against a real OpenID Connect provider on a loopback port (``devtools.oidc_provider``).

Each test drives the browser's side of the code flow: mesh-ui's start page redirects to the provider, the provider
redirects back with a code, and mesh-ui's callback asks the provider's token, JWKS and userinfo endpoints over
HTTP before it signs the user in (or refuses, and says why in the audit log).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from accounts import access
from accounts.models import RoleGrant
from audit.models import AuditEvent, EventKind
from devtools.oidc_provider import OidcProvider, Tampering, running_provider
from inventory.models import Cluster
from sso.config import build_oidc_config
from sso.models import SsoIdentity

pytestmark = pytest.mark.django_db

CLIENT_ID = "mesh-ui"
CLIENT_SECRET = "client-secret-for-tests"
CALLBACK = "http://testserver/sso/callback/"
ROLE_MAP = "mesh-admins=admin,mesh-editors=editor:bookinfo,prod-readers=viewer:prod/*,auditors=group:security"
CAROL = {
    "sub": "6c1f0e2a-carol",
    "preferred_username": "carol",
    "email": "carol@example.com",
    "given_name": "Carol",
    "groups": ["mesh-editors", "staff-everyone"],
}


def _configure(settings: Any, issuer: str, **extra: str) -> None:
    settings.MESH_UI_OIDC = build_oidc_config(
        {
            "MESH_UI_OIDC_CLIENT_ID": CLIENT_ID,
            "MESH_UI_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "MESH_UI_OIDC_ISSUER": issuer,
            "MESH_UI_OIDC_ROLE_MAP": ROLE_MAP,
            **extra,
        }
    )


@pytest.fixture
def idp(settings: Any) -> Iterator[OidcProvider]:
    with running_provider(CLIENT_ID, CLIENT_SECRET, CALLBACK) as provider:
        provider.user = dict(CAROL)
        _configure(settings, provider.issuer)
        yield provider


@pytest.fixture
def clusters() -> tuple[Cluster, Cluster]:
    return Cluster.objects.create(name="prod"), Cluster.objects.create(name="staging")


def _to_provider_and_back(browser: Client, next_page: str = "/graph/") -> tuple[str, str]:
    """Start a sign-in and let the provider answer; returns the callback's path and query string."""
    start = browser.get("/sso/start/", {"next": next_page})
    assert start.status_code == 302
    answer = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == CALLBACK
    return callback.path, callback.query


def sign_in(browser: Client, next_page: str = "/graph/") -> Any:
    """Go through the whole flow; returns the callback's answer."""
    path, query = _to_provider_and_back(browser, next_page)
    return browser.get(f"{path}?{query}")


def _signed_in_user(browser: Client) -> Any:
    user_id = browser.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id) if user_id else None


def _failure_reasons() -> list[str]:
    failed = AuditEvent.objects.filter(kind=EventKind.LOGIN_FAILED).order_by("pk")
    return [event.detail.get("reason", "") for event in failed]


def test_an_sso_sign_in_logs_the_user_in_with_the_role_its_claim_maps_to(
    idp: OidcProvider, clusters: tuple[Cluster, Cluster]
) -> None:
    prod, _ = clusters
    browser = Client()
    done = sign_in(browser)
    assert (done.status_code, done["Location"]) == (302, "/graph/")
    assert browser.get("/graph/").status_code == 200
    carol = _signed_in_user(browser)
    assert (carol.username, carol.email, carol.first_name) == ("carol", "carol@example.com", "Carol")
    assert not carol.has_usable_password()
    assert SsoIdentity.objects.get(user=carol).subject == CAROL["sub"]
    assert access.can_write(carol, prod, "bookinfo") and not access.can_read(carol, prod, "istio-system")
    assert not access.is_mesh_admin(carol)
    login = AuditEvent.objects.get(kind=EventKind.LOGIN)
    assert (login.actor, login.detail) == (carol, {"method": "sso"})
    joined = AuditEvent.objects.get(kind=EventKind.GROUPS_CHANGED)
    assert (joined.object_name, joined.detail) == ("carol", {"added": ["oidc:mesh-editors"], "via": "sso"})
    made = AuditEvent.objects.filter(kind=EventKind.GRANT_CREATED, detail__via="sso")
    assert {event.detail["after"]["grantee"] for event in made} == {
        "group oidc:mesh-admins",
        "group oidc:mesh-editors",
        "group oidc:prod-readers",
    }


def test_the_claim_taken_away_takes_the_sso_grant_away_at_the_next_login_and_leaves_admin_grants(
    idp: OidcProvider, clusters: tuple[Cluster, Cluster]
) -> None:
    prod, staging = clusters
    security = Group.objects.create(name="security")
    idp.user["groups"] = ["mesh-editors", "auditors"]
    browser = Client()
    sign_in(browser)
    carol = _signed_in_user(browser)
    assert set(carol.groups.values_list("name", flat=True)) == {"oidc:mesh-editors", "security"}
    RoleGrant.objects.create(user=carol, role="viewer", cluster=staging, namespace="shop")  # by an admin
    RoleGrant.objects.create(group=security, role="viewer", cluster=prod)  # by an admin
    browser.post("/logout/")

    idp.user["groups"] = ["prod-readers"]
    sign_in(Client())
    carol = get_user_model().objects.get(pk=carol.pk)
    assert set(carol.groups.values_list("name", flat=True)) == {"oidc:prod-readers"}
    assert not access.can_write(carol, prod, "bookinfo")
    assert access.can_read(carol, prod, "istio-system") and not access.can_read(carol, staging, "bookinfo")
    assert access.can_read(carol, staging, "shop")  # the admin's grant to her stays
    assert RoleGrant.objects.filter(group=security).count() == 1  # and the admin's grant to the group
    assert RoleGrant.objects.filter(group__name="oidc:mesh-editors").count() == 1  # others may still hold it
    changes = AuditEvent.objects.filter(kind=EventKind.GROUPS_CHANGED).order_by("pk")
    assert [event.detail for event in changes][-2:] == [
        {"added": ["oidc:prod-readers"], "via": "sso"},
        {"removed": ["oidc:mesh-editors", "security"], "via": "sso"},
    ]


def test_a_value_dropped_from_the_role_map_loses_its_grants_at_the_next_sso_login(
    settings: Any, idp: OidcProvider, clusters: tuple[Cluster, Cluster]
) -> None:
    sign_in(Client())
    assert Group.objects.filter(name="oidc:mesh-editors").exists()
    _configure(settings, idp.issuer, MESH_UI_OIDC_ROLE_MAP="mesh-admins=admin")
    idp.user = {**CAROL, "sub": "someone-else", "preferred_username": "dave", "groups": []}
    sign_in(Client())
    assert not Group.objects.filter(name="oidc:mesh-editors").exists()
    carol = get_user_model().objects.get(username="carol")
    assert not access.can_read(carol, clusters[0], "bookinfo")


@pytest.mark.parametrize(
    ("tampering", "reason"),
    [
        (Tampering(foreign_signature=True), "JWS token verification failed"),
        (Tampering(nonce="forged-nonce"), "Nonce verification failed"),
        (Tampering(issuer="https://evil.example.com"), "issuer 'https://evil.example.com'"),
        (Tampering(audience="another-client"), "not for this client"),
        (Tampering(expired=True), "ExpiredSignatureError"),
    ],
)
def test_a_forged_or_misdirected_id_token_is_refused(idp: OidcProvider, tampering: Tampering, reason: str) -> None:
    idp.tampering = tampering
    browser = Client(HTTP_USER_AGENT="test-browser")
    done = sign_in(browser)
    assert (done.status_code, done["Location"]) == (302, "/login/?sso=failed")
    assert _signed_in_user(browser) is None
    assert browser.get("/graph/").status_code == 302
    assert not get_user_model().objects.filter(username="carol").exists()
    [failure] = AuditEvent.objects.filter(kind=EventKind.LOGIN_FAILED)
    assert reason in failure.detail["reason"]
    assert (failure.detail["method"], failure.ip, failure.user_agent) == ("sso", "127.0.0.1", "test-browser")
    page = browser.get(done["Location"])
    assert b"Single sign-on failed" in page.content


def test_a_callback_with_another_state_is_refused(idp: OidcProvider) -> None:
    browser = Client()
    path, query = _to_provider_and_back(browser)
    params = {key: values[0] for key, values in parse_qs(query).items()}
    done = browser.get(path, {**params, "state": "not-the-state-mesh-ui-sent"})
    assert (done.status_code, done["Location"]) == (302, "/login/?sso=failed")
    assert _signed_in_user(browser) is None
    assert _failure_reasons() == ["OIDC callback state not found in session `oidc_states`!"]
    assert idp.token_requests == 0  # refused before the code was spent


def test_a_callback_in_another_browser_is_refused(idp: OidcProvider) -> None:
    path, query = _to_provider_and_back(Client())
    other = Client()
    done = other.get(f"{path}?{query}")
    assert (done.status_code, done["Location"]) == (302, "/login/?sso=failed")
    assert _signed_in_user(other) is None
    assert _failure_reasons() == ["no sign-in in progress"]


def test_a_provider_name_never_takes_over_a_local_account(idp: OidcProvider, django_user_model: Any) -> None:
    local = django_user_model.objects.create_user("carol", "carol@corp.example", "local-password")
    browser = Client()
    sign_in(browser)
    signed_in = _signed_in_user(browser)
    assert signed_in.pk != local.pk and signed_in.username == "carol.sso"
    local.refresh_from_db()
    assert local.email == "carol@corp.example" and local.check_password("local-password")
    sign_in(Client())  # the same subject comes back to the same user
    assert SsoIdentity.objects.get().user_id == signed_in.pk
    assert django_user_model.objects.filter(username__startswith="carol").count() == 2


def test_an_inactive_user_is_refused_and_its_session_ends(idp: OidcProvider) -> None:
    signed_in = Client()
    sign_in(signed_in)
    get_user_model().objects.filter(username="carol").update(is_active=False)
    assert signed_in.get("/graph/").status_code == 302  # to the login page
    browser = Client()
    done = sign_in(browser)
    assert done["Location"] == "/login/?sso=failed" and _signed_in_user(browser) is None
    assert _failure_reasons() == ["user inactive"]


def test_the_provider_refusing_is_recorded(idp: OidcProvider) -> None:
    browser = Client()
    path, query = _to_provider_and_back(browser)
    state = parse_qs(query)["state"][0]
    done = browser.get(path, {"error": "access_denied", "state": state})
    assert done["Location"] == "/login/?sso=failed"
    assert _failure_reasons() == ["provider answered access_denied"]


def test_a_provider_that_is_down_stops_only_sso(settings: Any, alice: Any) -> None:
    _configure(settings, "http://127.0.0.1:9")  # nothing listens on the discard port
    browser = Client()
    assert browser.get("/sso/start/")["Location"] == "/login/?sso=failed"
    assert _failure_reasons()[0].startswith("provider discovery failed: cannot read http://127.0.0.1:9/")
    response = browser.post("/login/", {"username": "alice", "password": "alice-password"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert _signed_in_user(browser) == alice


def test_the_login_page_offers_sso_only_when_it_is_on(settings: Any, anonymous_client: Client) -> None:
    settings.MESH_UI_OIDC = None
    page = anonymous_client.get("/login/?next=/graph/")
    assert b"data-sso-sign-in" not in page.content
    assert anonymous_client.get("/sso/start/").status_code == 404
    assert anonymous_client.get("/sso/callback/").status_code == 404
    _configure(settings, "https://id.example.com", MESH_UI_OIDC_BUTTON_LABEL="Sign in with Corp ID")
    page = anonymous_client.get("/login/?next=/graph/")
    assert b'href="/sso/start/?next=/graph/"' in page.content
    assert b"Sign in with Corp ID" in page.content


def test_sso_sessions_end_when_sso_is_turned_off(settings: Any, idp: OidcProvider) -> None:
    browser = Client()
    sign_in(browser)
    assert browser.get("/graph/").status_code == 200
    settings.MESH_UI_OIDC = None
    assert browser.get("/graph/").status_code == 302


def test_the_page_after_sign_in_must_be_on_this_site(idp: OidcProvider) -> None:
    done = sign_in(Client(), next_page="https://evil.example.com/")
    assert (done.status_code, done["Location"]) == (302, "/")
