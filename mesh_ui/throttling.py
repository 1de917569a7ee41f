"""Throttling of guessed credentials: failed logins (django-axes) and failed API tokens, per client.

Logins are django-axes' job (settings ``AXES_*``): after ``MESH_UI_LOGIN_FAILURE_LIMIT`` failures of one username
from one client address, that pair is refused for ``MESH_UI_LOGIN_LOCKOUT`` — even with the right password — and
axes' backend refuses it before Django's backend hashes anything (``AUTHENTICATION_BACKENDS`` puts it first).

API tokens are throttled here, by client address only (a token has no username): each refused token counts in the
cache; once a client has ``MESH_UI_TOKEN_FAILURE_LIMIT`` failures in ``MESH_UI_LOGIN_LOCKOUT``, every Bearer request
from it answers 429 with ``Retry-After`` until that window ends, before any token lookup. A valid token does not
reset the count: one stolen token must not buy unlimited guesses at others. :class:`ThrottledBearerTokenAuthentication`
wraps the accounts app's Bearer authentication with that check. The counts live in Django's cache (``CACHES``):
the default local-memory cache counts per server process.

"The client" is :func:`mesh_ui.client_address.client_address` for both (and for the audit log): axes' resolution,
which honours ``MESH_UI_PROXY_COUNT`` (the reverse proxies in front that append to ``X-Forwarded-For``).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from accounts.authentication import BearerTokenAuthentication
from mesh_ui.client_address import client_address

_COUNT_KEY = "mesh-ui:token-failures:{address}"
_UNTIL_KEY = "mesh-ui:token-failures-until:{address}"


def login_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """The page a locked-out login gets (``AXES_LOCKOUT_CALLABLE``): what happened and for how long, status 429."""
    context = {
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
        "failure_limit": settings.MESH_UI_LOGIN_FAILURE_LIMIT,
        "lockout_minutes": max(1, round(settings.MESH_UI_LOGIN_LOCKOUT / 60)),
    }
    return render(request, "registration/locked_out.html", context, status=429)


def token_lockout_seconds(address: str) -> float | None:
    """Seconds until ``address`` may try tokens again, or None when it is not locked out."""
    failures = cache.get(_COUNT_KEY.format(address=address), 0)
    if failures < settings.MESH_UI_TOKEN_FAILURE_LIMIT:
        return None
    until = cache.get(_UNTIL_KEY.format(address=address))
    return max(1.0, until - time.time()) if until is not None else float(settings.MESH_UI_LOGIN_LOCKOUT)


def record_failed_token(address: str) -> None:
    """Count one refused token of ``address``; the count is forgotten ``MESH_UI_LOGIN_LOCKOUT`` after its first."""
    window = settings.MESH_UI_LOGIN_LOCKOUT
    cache.add(_UNTIL_KEY.format(address=address), time.time() + window, window)
    key = _COUNT_KEY.format(address=address)
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)


class ThrottledBearerTokenAuthentication(BearerTokenAuthentication):
    """:class:`~accounts.authentication.BearerTokenAuthentication`, refusing clients that failed too often (429)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        scheme = get_authorization_header(request).split()[:1]
        if not scheme or scheme[0].lower() != self.keyword.lower().encode():
            return None  # no token: the session (or nothing) authenticates this request
        address = client_address(request._request) or "unknown"
        wait = token_lockout_seconds(address)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail="Too many refused tokens from this address: try again later.")
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            record_failed_token(address)
            raise
