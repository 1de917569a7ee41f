"""DRF authentication with API tokens: ``Authorization: Bearer mui_<id>_<secret>``.

The token is found by its id (an indexed lookup), then its hash compared in constant time. A revoked or expired
token, or one of an inactive user, is refused with 401. ``last_used_at`` is written at most once a minute per token,
so a busy script does not turn every read into a write; the audit log records a token's use at the same pace.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, parse_token_key_id
from audit.events import record_token_used

LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticate a request by an API token in the ``Authorization: Bearer`` header."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_token(plaintext)

    def authenticate_token(self, plaintext: str) -> tuple[Any, ApiToken]:
        key_id = parse_token_key_id(plaintext)
        token = ApiToken.objects.select_related("user").filter(key_id=key_id).first() if key_id is not None else None
        now = timezone.now()
        if token is None or not token.matches(plaintext):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_usable(now):
            raise exceptions.AuthenticationFailed("Token revoked or expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
            record_token_used(token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
