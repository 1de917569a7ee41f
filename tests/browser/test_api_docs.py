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


#: The one request ReDoc 2 makes elsewhere: its vendor's logo in the sidebar, hidden when it fails to load.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg"/>'


def test_redoc_renders_the_schema(page, live_server):
    outside = _requests_elsewhere(page, live_server.url)
    # No internet here: the logo is answered locally, so its failure does not count as the page's console error.
    page.route(REDOC_LOGO, lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=EMPTY_SVG))
    page.goto(f"{live_server.url}/api/v1/docs/redoc")
    page.wait_for_selector("h1:has-text('mesh-ui API')", timeout=20_000)
    page.get_by_text("/api/v1/services/{cluster}/{namespace}/{name}").first.wait_for(state="attached", timeout=20_000)
    assert set(outside) <= {REDOC_LOGO}


def test_the_docs_need_a_login(anonymous_page, live_server):
    anonymous_page.goto(f"{live_server.url}/api/v1/docs/swagger")
    assert "/login/" in anonymous_page.url
