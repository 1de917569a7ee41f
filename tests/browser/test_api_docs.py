"""The API's documentation pages render in Chromium from files of this origin only (npm's Swagger UI and ReDoc)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _requests_elsewhere(page: Any, origin: str) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((origin, "data:", "blob:")) else None)
    return outside


def test_swagger_ui_lists_every_operation_from_the_served_schema(page, live_server):
    outside = _requests_elsewhere(page, live_server.url)
    page.goto(f"{live_server.url}/api/v1/docs/swagger")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/services" in [p.replace("\u200b", "") for p in paths]
    assert len(paths) >= 20
    assert not outside


#: The one request ReDoc 2 makes elsewhere: its vendor's logo in the sidebar, which the policy blocks (img-src
#: 'self' data:) and ReDoc then hides. Answered locally in case it ever got through: no internet here.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg"/>'


def _take_logo_violations(page: Any) -> list[str]:
    """Remove from the page's console errors those about ReDoc's logo (the policy blocking it, as intended)."""
    about_logo = [error for error in page.console_errors if REDOC_LOGO in error]
    page.console_errors[:] = [error for error in page.console_errors if REDOC_LOGO not in error]
    return about_logo


def test_redoc_renders_styled_and_searchable_under_its_policy(page, live_server):
    outside = _requests_elsewhere(page, live_server.url)
    page.route(REDOC_LOGO, lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=EMPTY_SVG))
    page.goto(f"{live_server.url}/api/v1/docs/redoc")
    page.wait_for_selector("h1:has-text('mesh-ui API')", timeout=20_000)
    page.get_by_text("/api/v1/services/{cluster}/{namespace}/{name}").first.wait_for(state="attached", timeout=20_000)
    # The styles ReDoc writes at run time apply (blocked, the sidebar has no width and the title the page's font).
    applied = page.evaluate(
        """() => ({
            menuWidth: getComputedStyle(document.querySelector(".menu-content")).width,
            titleFont: getComputedStyle(document.querySelector("h1")).fontFamily,
        })"""
    )
    assert applied == {"menuWidth": "260px", "titleFont": "Montserrat, sans-serif"}
    # Its search runs in a worker made from a blob: URL.
    page.get_by_placeholder("Search...").fill("clusters")
    page.locator("[role=search] [role=menuitem][aria-label=clusters_list]").wait_for(state="attached", timeout=20_000)
    # The only CSP violation: the vendor's logo, blocked on purpose (the conftest fails the test on any other).
    logo_errors = _take_logo_violations(page)
    assert all("img-src" in error for error in logo_errors)
    assert set(outside) <= {REDOC_LOGO}


def test_the_docs_need_a_login(anonymous_page, live_server):
    anonymous_page.goto(f"{live_server.url}/api/v1/docs/swagger")
    assert "/login/" in anonymous_page.url
