"""In Chromium, as an editor of bookinfo only: the graph folds istio-system into one opaque node, the side panel says
nothing of it, and the API tokens page works under the page's script rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import open_page
from tests.browser.test_graph_page import READY, graph_nodes

pytestmark = pytest.mark.browser


@pytest.fixture
def scoped_page(browser: Any, request: pytest.FixtureRequest, live_server: Any, bookinfo: Any) -> Iterator[Any]:
    """A page logged in as ``carol``, an editor of the namespace bookinfo and nothing else."""
    from django.contrib.auth import get_user_model

    from accounts.models import RoleGrant

    carol = get_user_model().objects.create_user("carol")
    RoleGrant.objects.create(user=carol, role="editor", cluster=bookinfo.cluster, namespace="bookinfo")
    client = Client()
    client.force_login(carol)
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    with open_page(browser, request, [{**cookie, "url": live_server.url}]) as page:
        yield page


def test_the_graph_of_a_bookinfo_editor_shows_istio_system_as_one_restricted_node(live_server, scoped_page):
    page = scoped_page
    page.goto(f"{live_server.url}/graph/?graphType=workload")
    wait_for_js(page, READY)
    nodes = graph_nodes(page)
    assert [n["name"] for n in nodes if n["type"] == "unknown"] == ["restricted"]
    assert "productpage-v1" in {n["workload"] for n in nodes}
    assert not any("ingressgateway" in n["workload"] for n in nodes)
    assert "istio-system" not in page.content()
    page.evaluate("() => { cy.nodes('[?isRestricted]')[0].emit('tap'); }")
    panel = page.locator("#graph-panel")
    panel.wait_for(state="visible")
    text = panel.inner_text()
    assert "restricted" in text and "istio" not in text
    assert panel.locator("a").count() == 0  # no detail page to link to
    page.evaluate("() => { cy.edges().filter(e => e.source().data('isRestricted'))[0].emit('tap'); }")
    wait_for_js(page, "document.querySelector('#panel-body h2').textContent.includes('→')")
    assert "istio" not in panel.inner_text()


def test_a_token_is_made_and_shown_once_in_the_browser(live_server, page):
    page.goto(f"{live_server.url}/account/tokens/")
    page.fill("input[name=name]", "browser")
    page.click("button[type=submit]:has-text('Create token')")
    token = page.input_value("[data-token-value]")
    assert token.startswith("mui_")
    page.locator("[data-copy-token]").wait_for(state="visible")  # the page's module ran (no inline script needed)
    page.goto(f"{live_server.url}/account/tokens/")
    assert token not in page.content() and "browser" in page.content()
