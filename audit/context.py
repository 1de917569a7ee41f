"""What the audit log knows about the code it is called from: the request being served and a system actor.

``AuditContextMiddleware`` keeps the current request in a context variable, so a record made deep inside a call
(a model signal, token authentication) still gets the user, client address and user agent without every caller
passing the request down. ``system_actor("sso")`` marks changes made by mesh-ui itself on someone's behalf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponseBase

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)
_system_actor: ContextVar[str] = ContextVar("audit_system_actor", default="")


def current_request() -> HttpRequest | None:
    return _current_request.get()


def current_system_actor() -> str:
    return _system_actor.get()


@contextmanager
def serving(request: HttpRequest) -> Iterator[None]:
    """Make ``request`` the current request for the block."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


@contextmanager
def system_actor(label: str) -> Iterator[None]:
    """Mark records made in the block as done by mesh-ui itself (``label`` says which part, e.g. ``sso``)."""
    token = _system_actor.set(label)
    try:
        yield
    finally:
        _system_actor.reset(token)


class AuditContextMiddleware:
    """Keep the request current while it is served (place it after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with serving(request):
            return self.get_response(request)
