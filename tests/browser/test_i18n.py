"""mesh-ui in Simplified Chinese in a real browser: the browser's language picks it, the header's selector switches
back to English, and the choice follows the user to a fresh browser (a new context: no cookie) after logging in.

Screenshots of the Chinese pages go to test-artifacts/screenshots/ (a CJK font, fonts-wqy-zenhei, draws the glyphs).
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import ARTIFACTS, open_page, session_cookie
from tests.browser.test_graph_interact import SERVICE_REVIEWS, rendered_point
from tests.conftest import ALICE_PASSWORD, ALICE_USERNAME

pytestmark = pytest.mark.browser


def test_overview_and_graph_in_chinese_then_english_remembered_after_login(
    bookinfo: Any, live_server: Any, alice: Any, browser: Any, request: pytest.FixtureRequest
) -> None:
    from accounts.models import UserPreference

    with open_page(browser, request, [session_cookie(alice, live_server)], locale="zh-CN") as page:
        page.goto(f"{live_server.url}/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.locator("main h1").inner_text() == "概览"
        page.locator('article[data-namespace="bookinfo"]').wait_for()
        assert "个健康" in page.locator('article[data-namespace="bookinfo"] [data-healthy]').inner_text()
        assert page.get_by_role("link", name="拓扑图").count() == 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "i18n_overview_zh.png"), full_page=True)

        page.goto(f"{live_server.url}/graph/?namespaces=bookinfo")
        wait_for_js(page, "window.graphReady === true")
        # Template text and the JS catalogue's strings (the node and edge counts, the snapshot line).
        assert page.locator("#graph-toolbar").get_by_text("流量动画").count() == 1
        wait_for_js(page, "document.getElementById('graph-counts').textContent.includes('个节点')")
        assert "快照" in page.locator("#graph-snapshot").inner_text()
        # The side panel and the node menu (graph-panel.js, graph-interact.js) read the catalogue too.
        x, y = rendered_point(page, SERVICE_REVIEWS)
        page.mouse.click(x, y)
        page.locator("#graph-panel").wait_for(state="visible")
        headings = page.locator("#graph-panel h3").all_inner_texts()
        assert "健康状况" in headings and "流量" in headings and "Health" not in headings
        page.keyboard.press("Shift+F10")  # the selected node's menu
        page.locator("#graph-menu").wait_for(state="visible")
        labels = page.locator('#graph-menu [role="menuitem"]').all_inner_texts()
        assert "节点拓扑图" in labels and "路由向导" in labels and "详情\uff1aService reviews" in labels
        page.keyboard.press("Escape")
        page.screenshot(path=str(ARTIFACTS / "i18n_graph_zh.png"), full_page=True)

        # The selector switches to English (and stores it on alice).
        with page.expect_navigation():
            page.select_option("[data-language-select]", "en")
        # Back on the page it was switched on (Django's view follows the Referer).
        assert page.url == f"{live_server.url}/graph/?namespaces=bookinfo"
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("link", name="Graph", exact=True).count() == 1
        assert UserPreference.objects.get(user=alice).language == "en"
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server.url}/login/")

    # A fresh Chinese browser: the login page follows the browser, the account's choice wins after logging in.
    with open_page(browser, request, [], locale="zh-CN") as page:
        page.goto(f"{live_server.url}/login/")
        assert page.locator("h1").inner_text() == "登录 mesh-ui"
        page.get_by_label("用户名").fill(ALICE_USERNAME)
        page.get_by_label("密码").fill(ALICE_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("main h1").inner_text() == "Overview"
        assert page.locator("[data-language-select]").input_value() == "en"
