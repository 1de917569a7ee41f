"""The styled 404 and 500 pages (templates/404.html, 500.html) that Django serves with DEBUG off."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error


@pytest.fixture
def production(settings: Any) -> None:
    settings.DEBUG = False


@pytest.mark.django_db
def test_an_unknown_page_gets_the_styled_404(client: Any, production: None) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'class="error-page"' in html and "Page not found" in html
    assert "<code>/no/such/page/</code>" in html
    assert 'href="/"' in html  # the way back to the overview
    assert "mesh_ui/base.css" in html  # the page is styled like every other one
    assert 'class="mainnav"' in html  # a logged-in user keeps the header


@pytest.mark.django_db
def test_the_404_page_escapes_the_path(client: Any, production: None) -> None:
    response = client.get("/<script>alert(1)</script>/")
    assert response.status_code == 404
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_the_404_without_a_header(anonymous_client: Any, production: None) -> None:
    response = anonymous_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'class="mainnav"' not in html


@pytest.mark.django_db
def test_a_failing_view_gets_the_styled_500(alice: Any, settings: Any, production: None) -> None:
    settings.ROOT_URLCONF = "tests.dashboard.error_urls"
    browser = Client(raise_request_exception=False)
    browser.force_login(alice)
    response = browser.get("/test-failure/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'class="error-page"' in html and 'data-status="500"' in html
    assert "Something went wrong on our side" in html
    assert "a view failed" not in html  # the exception stays in the log
    assert "mesh_ui/base.css" in html


def test_the_500_page_renders_without_a_database_or_user(production: None) -> None:
    # No django_db mark: any query would fail the test. Django renders 500.html with an empty context.
    response = server_error(RequestFactory().get("/anything/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'class="mainnav"' not in html and "Log out" not in html
    assert 'href="/"' in html
