"""Login everywhere: pages redirect strangers to the login page, the API answers them 401, /healthz stays open."""

from __future__ import annotations

import base64

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from tests.conftest import ALICE_PASSWORD, ALICE_USERNAME
from tests.dashboard.factories import make_cluster

pytestmark = pytest.mark.django_db

PAGES = ["/", "/graph/", "/applications/", "/workloads/", "/services/", "/istio/", "/inventory/"]
API = ["/api/v1/graph", "/api/v1/health", "/api/v1/snapshots", "/api/v1/metrics", "/api/v1/schema"]


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.mark.parametrize("path", [*PAGES, "/namespaces/shop/workloads/cart/"])
def test_an_anonymous_page_request_redirects_to_login_with_next(anonymous_client, path):
    response = anonymous_client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", API)
def test_an_anonymous_api_request_gets_401_with_www_authenticate(anonymous_client, path):
    response = anonymous_client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    # The schema renders its error in the schema's own format (OpenAPI YAML); the rest answer JSON.
    assert b"Authentication credentials were not provided." in response.content


@pytest.mark.parametrize("password", [ALICE_PASSWORD, "wrong"])
def test_basic_credentials_are_refused_without_hashing_the_password(anonymous_client, alice, monkeypatch, password):
    # HTTP Basic is off: a request carrying a password costs no hash, right or wrong, and gets the Bearer challenge.
    from django.contrib.auth.hashers import MD5PasswordHasher  # the tests' hasher (conftest)

    hashed = []
    monkeypatch.setattr(MD5PasswordHasher, "verify", lambda self, *args: hashed.append(args) or False)
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, *args: hashed.append(args) or "md5$x$y")
    make_cluster()
    response = anonymous_client.get("/api/v1/snapshots", **_basic(ALICE_USERNAME, password))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert hashed == []


def test_the_logged_in_pages_call_the_api_with_their_session(client):
    make_cluster()
    assert client.get("/api/v1/snapshots").status_code == 200
    assert client.get("/api/v1/schema").status_code == 200


def test_an_unsafe_api_request_on_a_session_needs_the_csrf_token(alice):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = strict.post("/api/v1/snapshots")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_every_page_answers_a_logged_in_user(client):
    make_cluster()
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_the_header_names_the_user_and_offers_a_logout_form(client):
    make_cluster()
    html = client.get("/").content.decode()
    assert '<span class="user-name" title="Logged in as">alice</span>' in html
    assert 'method="post" action="/logout/"' in html and "csrfmiddlewaretoken" in html


def test_the_login_page_shows_no_mesh_data(anonymous_client):
    make_cluster("secret-cluster")
    response = anonymous_client.get("/login/?next=/services/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in html and 'name="next" value="/services/"' in html
    assert "secret-cluster" not in html and "mainnav" not in html and "data-banner" not in html


def test_logging_in_leads_to_the_page_asked_for(anonymous_client, alice):
    response = anonymous_client.post(
        "/login/", {"username": ALICE_USERNAME, "password": ALICE_PASSWORD, "next": "/services/"}
    )
    assert response.status_code == 302 and response["Location"] == "/services/"
    assert anonymous_client.get("/services/").status_code == 200


def test_a_wrong_password_stays_on_the_login_page(anonymous_client, alice):
    response = anonymous_client.post("/login/", {"username": ALICE_USERNAME, "password": "wrong"})
    assert response.status_code == 200 and b"Wrong username or password" in response.content
    assert anonymous_client.get("/").status_code == 302


def test_logout_ends_the_session_and_leads_to_login(client):
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/snapshots").status_code == 401


def test_static_files_are_served_without_login(anonymous_client):
    response = anonymous_client.get("/static/mesh_ui/base.css")
    assert response.status_code == 200
    assert b".login-box" in b"".join(response.streaming_content)


def test_healthz_answers_anonymous_probes_with_no_data(anonymous_client):
    make_cluster("prod")
    response = anonymous_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(anonymous_client, monkeypatch):
    from mesh_ui import health

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", refuse)
    response = anonymous_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":  # the admin asks for its own staff login
                yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def test_no_route_opens_itself_to_strangers_but_login_healthz_and_sso():
    open_routes, api_routes = [], []
    for route, pattern in _routes(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            api_routes.append(route)
            permissions = view_class.permission_classes
            assert any(issubclass(p, IsAuthenticated) for p in permissions), f"{route}: {permissions}"
        elif not getattr(pattern.callback, "login_required", True):
            open_routes.append(route)
    # The two steps of single sign-on come before a login (and answer 404 while it is off); the login page has the
    # language selector, and the JS translation catalogue holds no data.
    assert sorted(open_routes) == ["healthz", "i18n/js/", "i18n/setlang/", "login/", "sso/callback/", "sso/start/"]
    assert {"api/v1/graph", "api/v1/schema"} <= set(api_routes)
