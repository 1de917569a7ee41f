"""Security headers on every answer, and pages that a Content-Security-Policy without 'unsafe-inline' can run.

The browser tests (tests/browser/test_untrusted_data.py) check in Chromium that nothing is blocked; these check the
headers and scan the rendered HTML of every page for the inline code the policy would block.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.dashboard.factories import make_cluster, make_istio, make_namespace, make_service, make_workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    cluster = make_cluster("prod")
    make_namespace(cluster, "shop")
    make_workload(cluster, "shop", "cart-v1", app="cart")
    make_service(cluster, "shop", "cart")
    make_istio(cluster, "shop", "VirtualService", "cart-routes", {"hosts": ["cart"]})
    return cluster


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", ["/", "/graph/", "/workloads/", "/api/v1/snapshots", "/healthz"])
def test_every_answer_carries_the_security_headers(client, shop, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = _policy(response["Content-Security-Policy"])
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == ["'self'"]
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == ["'none'"]
    assert not any(
        "unsafe" in value or value in {"*", "https:", "http:"} for values in policy.values() for value in values
    )


def test_the_api_docs_relax_only_what_their_library_needs(client, shop):
    strict = _policy(client.get("/").headers["Content-Security-Policy"])
    redoc = _policy(client.get("/api/v1/docs/redoc").headers["Content-Security-Policy"])
    # ReDoc writes <style> elements at run time and searches in a blob: worker; script stays 'self' only.
    assert redoc.pop("style-src") == ["'self'", "'unsafe-inline'"]
    assert redoc.pop("worker-src") == ["'self'", "blob:"]
    assert redoc.pop("img-src") == ["'self'", "data:"]
    assert redoc == {name: values for name, values in strict.items() if name not in {"style-src", "img-src"}}
    for swagger_response in (client.get("/api/v1/docs/swagger"), client.get("/api/v1/docs/swagger?script=")):
        swagger = _policy(swagger_response.headers["Content-Security-Policy"])
        # Swagger UI's stylesheet draws its icons as data: images; its style and script stay 'self' only.
        assert swagger.pop("img-src") == ["'self'", "data:"]
        assert swagger == {name: values for name, values in strict.items() if name != "img-src"}


def test_the_login_page_and_static_files_carry_the_policy_too(anonymous_client):
    for path in ("/login/", "/admin/login/", "/static/mesh_ui/base.css"):
        response = anonymous_client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"


class InlineCodeFinder(HTMLParser):
    """Collects what a policy without 'unsafe-inline' blocks: inline scripts, style blocks and attributes, inline
    event handlers and ``javascript:`` URLs. ``json_script`` blocks (``application/json``) are data, never run."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and not named.get("src") and named.get("type") != "application/json":
            self._in_inline_script = True
        if tag == "style":
            self.found.append("<style> block")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]!r}")


def _inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.found


def test_the_finder_sees_what_the_policy_blocks():
    html = (
        '<script>alert(1)</script><script type="application/json">{"a": 1}</script><script src="/x.js"></script>'
        '<p style="color:red" onclick="x()"><a href="javascript:alert(1)">x</a></p><style>p{}</style>'
    )
    assert len(_inline_code(html)) == 5


def _page_paths() -> list[str]:
    """Every page route of the URL conf without parameters (a new page is scanned without being listed), then the
    detail pages and the admin's. API views answer scripts with JSON and are left out."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> list[str]:
        paths = []
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin" and not route.startswith("api/"):
                    paths += walk(pattern.url_patterns, route)
            elif "<" not in route and not route.startswith("api/") and pattern.callback is not None:
                paths.append(f"/{route}")
        return paths

    return [
        *walk(get_resolver().url_patterns, ""),
        "/namespaces/shop/workloads/cart-v1/",
        "/namespaces/shop/services/cart/",
        "/namespaces/shop/applications/cart/",
        "/admin/",
        "/admin/inventory/cluster/",
        "/admin/inventory/cluster/add/",
    ]


PAGES = _page_paths()
#: Pages only a user who may write opens (the others answer 403): scanned as the superuser.
WRITER_PAGES = {"/istio/new/"}


@pytest.mark.parametrize("path", PAGES)
def test_pages_hold_no_inline_script_or_style(client, admin_client, shop, path):
    response = (admin_client if path.startswith("/admin/") or path in WRITER_PAGES else client).get(path)
    # logout/ takes POST only; the SSO routes answer 404 while single sign-on is off (the default).
    assert response.status_code in ({200, 302, 405} | ({404} if path.startswith("/sso/") else set()))
    if response["Content-Type"].startswith("text/html"):
        assert _inline_code(response.content.decode()) == []


def test_only_the_editor_page_admits_styles_by_nonce(admin_client, shop):
    policy = _policy(admin_client.get("/istio/new/")["Content-Security-Policy"])
    assert policy["style-src"][0] == "'self'"
    assert len(policy["style-src"]) == 2 and policy["style-src"][1].startswith("'nonce-")
    assert policy["script-src"] == ["'self'"]
    assert _policy(admin_client.get("/istio/")["Content-Security-Policy"])["style-src"] == ["'self'"]


def test_the_login_page_holds_no_inline_script_or_style(anonymous_client):
    response = anonymous_client.get("/login/")
    assert _inline_code(response.content.decode()) == []


def test_password_validators_refuse_weak_passwords(alice):
    for weak in ("short", "password123", "12345678901", "alice1234"):
        with pytest.raises(ValidationError):
            validate_password(weak, user=alice)
    validate_password("correct horse battery staple", user=alice)


def test_ssl_redirect_spares_the_probe_and_trusts_the_proxy_header(client, shop, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    plain = client.get("/workloads/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/workloads/"
    assert client.get("/healthz").status_code == 200  # kubelets probe over plain HTTP
    behind_proxy = client.get("/workloads/", HTTP_X_FORWARDED_PROTO="https")
    assert behind_proxy.status_code == 200
    assert behind_proxy["Strict-Transport-Security"] == "max-age=3600"
