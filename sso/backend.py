"""The authentication backend of single sign-on: mozilla-django-oidc's code flow, with mesh-ui's rules.

On top of the library's checks (signature against the provider's JWKS, nonce, PKCE), it checks what the library
leaves out: the id_token's issuer and audience, and that an expired token is refused rather than an error. Users
are found by their provider identity (``sso.sync``), and the userinfo answer must be about the same subject.

The backend acts only on the SSO callback (Django asks every backend at each login): a password login never
reaches the provider, and with SSO off the backend answers nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from clients.oidc import DiscoveryError
from sso import provider
from sso.config import OidcConfig
from sso.provider import note_failure, oidc_setting
from sso.sync import SignInRefused, sign_in

logger = logging.getLogger(__name__)


class SsoBackend(OIDCAuthenticationBackend):
    """OpenID Connect sign-in for mesh-ui (see the module docstring)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads the endpoints here; mesh-ui reads them in authenticate, on the callback only, so that
        # building the backend for a password login costs no discovery request.
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        config = provider.current_config()
        if config is None or request is None or "nonce" not in kwargs:
            return None
        try:
            metadata = provider.endpoints(config)
        except DiscoveryError as exc:
            note_failure(request, f"provider discovery failed: {exc}")
            return None
        self.config = config
        self.expected_issuer = metadata.issuer
        self.OIDC_OP_TOKEN_ENDPOINT = metadata.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = metadata.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = metadata.jwks_uri
        self.OIDC_RP_CLIENT_ID = config.client_id
        self.OIDC_RP_CLIENT_SECRET = config.client_secret
        self.OIDC_RP_SIGN_ALGO = config.sign_algo
        self.OIDC_RP_IDP_SIGN_KEY = None
        user = super().authenticate(request, **kwargs)
        if user is None:
            note_failure(request, "the provider's answer was refused")
        return user

    def get_user(self, user_id: Any) -> Any:
        """The session's user, while SSO is on and the user active (the library checks neither)."""
        if provider.current_config() is None:
            return None
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def verify_token(self, token: str, **kwargs: Any) -> Any:
        """The library's checks (signature, nonce), then issuer, audience and expiry."""
        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as exc:  # e.g. expired: the library lets these through as errors
            raise SuspiciousOperation(f"id_token refused: {type(exc).__name__}") from exc
        return check_id_token_claims(payload, self.config, self.expected_issuer)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        try:
            return self._sign_in(access_token, id_token, payload)
        except SuspiciousOperation as exc:  # the library logs these and answers None: keep the reason
            note_failure(self.request, str(exc))
            raise

    def _sign_in(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("userinfo is about another subject than the id_token")
            claims.update(userinfo)
        try:
            return sign_in(self.config, str(payload.get("iss", "")), claims)
        except SignInRefused as exc:
            raise SuspiciousOperation(str(exc)) from exc


def check_id_token_claims(payload: Any, config: OidcConfig, expected_issuer: str) -> dict[str, Any]:
    """Refuse an id_token not issued by ``expected_issuer`` (when known) for this client, or without an expiry."""
    if not isinstance(payload, dict):
        raise SuspiciousOperation("id_token payload is not an object")
    if expected_issuer and payload.get("iss") != expected_issuer:
        raise SuspiciousOperation(f"id_token issuer {payload.get('iss')!r} is not {expected_issuer!r}")
    audience = payload.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if config.client_id not in audiences:
        raise SuspiciousOperation("id_token is not for this client (aud)")
    if len(audiences) > 1 and payload.get("azp") != config.client_id:
        raise SuspiciousOperation("id_token for several audiences without this client as azp")
    if "exp" not in payload:
        raise SuspiciousOperation("id_token without expiry (exp)")
    return payload
