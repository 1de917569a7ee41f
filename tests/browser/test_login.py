"""Logging in and out in the browser: the login form, the redirect back to the page asked for, and logout."""

import pytest

from tests.conftest import ALICE_PASSWORD, ALICE_USERNAME

pytestmark = pytest.mark.browser


def test_it_logs_in_through_the_form_and_lands_on_the_page_asked_for(
    transactional_db, alice, live_server, anonymous_page
):
    page = anonymous_page
    page.goto(f"{live_server.url}/services/")
    assert page.url == f"{live_server.url}/login/?next=/services/"
    page.get_by_label("Username").fill(ALICE_USERNAME)
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-login-error]")
    assert "Wrong username or password" in page.content()

    page.get_by_label("Password").fill(ALICE_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/services/")
    assert page.locator(".user-menu .user-name").text_content() == ALICE_USERNAME


def test_logout_leads_back_to_the_login_page(transactional_db, live_server, page):
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/workloads/")
    assert page.url == f"{live_server.url}/login/?next=/workloads/"
    assert page.locator(".mainnav").count() == 0
