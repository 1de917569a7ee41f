"""Single sign-on in a real browser: the login page's SSO button, the provider's redirects, back signed in."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.oidc_provider import running_provider
from sso.config import build_oidc_config

pytestmark = pytest.mark.browser


def test_the_sso_button_signs_in_through_the_provider_and_lands_on_the_page_asked_for(
    transactional_db: None, settings: Any, live_server: Any, anonymous_page: Any
) -> None:
    page = anonymous_page
    with running_provider("mesh-ui", "browser-secret", f"{live_server.url}/sso/callback/") as provider:
        provider.user = {"sub": "dora-1", "preferred_username": "dora", "groups": ["mesh-admins"]}
        settings.MESH_UI_OIDC = build_oidc_config(
            {
                "MESH_UI_OIDC_CLIENT_ID": "mesh-ui",
                "MESH_UI_OIDC_CLIENT_SECRET": "browser-secret",
                "MESH_UI_OIDC_ISSUER": provider.issuer,
                "MESH_UI_OIDC_ROLE_MAP": "mesh-admins=admin",
                "MESH_UI_OIDC_BUTTON_LABEL": "Sign in with Example ID",
            }
        )
        page.goto(f"{live_server.url}/services/")
        assert page.url == f"{live_server.url}/login/?next=/services/"
        page.get_by_role("link", name="Sign in with Example ID").click()
        page.wait_for_url(f"{live_server.url}/services/")
        assert page.locator(".user-menu .user-name").text_content() == "dora"
        assert provider.token_requests == 1
