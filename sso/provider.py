"""The configured provider: single sign-on's settings and its endpoints, discovered once an hour when needed.

Nothing is fetched at start-up or for a password login: discovery happens when someone signs in with SSO, so a
provider that is down stops only SSO sign-ins (with a clear message), never mesh-ui.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from mozilla_django_oidc.utils import import_from_settings

from clients.oidc import ProviderMetadata, fetch_provider_metadata
from sso.config import OidcConfig

DISCOVERY_TTL_SECONDS = 3600.0

_discovered: dict[str, tuple[float, ProviderMetadata]] = {}
_lock = threading.Lock()


def current_config() -> OidcConfig | None:
    """Single sign-on as configured (``settings.MESH_UI_OIDC``), or None when it is off."""
    config: OidcConfig | None = getattr(settings, "MESH_UI_OIDC", None)
    return config


def tls_verify(config: OidcConfig) -> bool | str:
    """What ``requests`` gets as ``verify``: the configured CA bundle, or the system's."""
    return config.ca_file or True


def endpoints(config: OidcConfig) -> ProviderMetadata:
    """The provider's endpoints: the configured ones, the rest from discovery (raises ``DiscoveryError``)."""
    if not config.needs_discovery:
        discovered = ProviderMetadata(
            issuer=config.issuer,
            authorization_endpoint=config.authorization_endpoint,
            token_endpoint=config.token_endpoint,
            jwks_uri=config.jwks_uri,
        )
    else:
        discovered = _discover(config)
    return ProviderMetadata(
        issuer=config.issuer,
        authorization_endpoint=config.authorization_endpoint or discovered.authorization_endpoint,
        token_endpoint=config.token_endpoint or discovered.token_endpoint,
        jwks_uri=config.jwks_uri or discovered.jwks_uri,
        userinfo_endpoint=config.userinfo_endpoint or discovered.userinfo_endpoint,
    )


def _discover(config: OidcConfig) -> ProviderMetadata:
    now = time.monotonic()
    with _lock:
        cached = _discovered.get(config.issuer)
    if cached is not None and now - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    metadata = fetch_provider_metadata(config.issuer, timeout=config.timeout, verify=tls_verify(config))
    with _lock:
        _discovered[config.issuer] = (now, metadata)
    return metadata


#: Where the backend leaves why a sign-in failed, for the callback view to record.
FAILURE_ATTRIBUTE = "_sso_failure_reason"


def note_failure(request: HttpRequest | None, reason: str) -> None:
    """Keep the first reason a sign-in failed on the request (the library turns failures into a bare None)."""
    if request is not None and not getattr(request, FAILURE_ATTRIBUTE, ""):
        setattr(request, FAILURE_ATTRIBUTE, reason)


_FROM_CONFIG = {
    "OIDC_RP_CLIENT_ID": "client_id",
    "OIDC_RP_CLIENT_SECRET": "client_secret",
    "OIDC_RP_SCOPES": "scopes",
    "OIDC_RP_SIGN_ALGO": "sign_algo",
    "OIDC_TIMEOUT": "timeout",
}


def oidc_setting(attr: str, *default: Any) -> Any:
    """The library's settings, answered from ``MESH_UI_OIDC`` and mesh-ui's choices (PKCE, SSO URLs)."""
    config = current_config()
    if config is not None and attr in _FROM_CONFIG:
        return getattr(config, _FROM_CONFIG[attr])
    if config is not None and attr == "OIDC_VERIFY_SSL":
        return tls_verify(config)
    fixed = {
        "OIDC_USE_PKCE": True,
        "OIDC_USE_NONCE": True,
        "OIDC_ALLOW_UNSECURED_JWT": False,  # an unsigned token is never accepted, whatever settings say
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso:callback",
        "LOGIN_REDIRECT_URL_FAILURE": f"{reverse('login')}?sso=failed",
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
    }
    if attr in fixed:
        return fixed[attr]
    return import_from_settings(attr, *default)
