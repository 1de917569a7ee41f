"""Writing audit events: one ``record_*`` function per kind of event, all through :func:`record`.

Callers pass what happened; the actor, client address and user agent come from the current request when the
caller does not give them (``audit.context``). Nothing here takes a password or a token's plaintext: tokens are
named by their public lookup id, failed logins by the username tried.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Protocol

from django.http import HttpRequest

from audit.context import current_request, current_system_actor
from audit.models import AuditEvent, EventKind
from mesh_ui.client_address import client_address as resolve_client_address

#: Authentication backends by the name the log shows for their logins; other apps add theirs (``sso`` does).
LOGIN_METHODS: dict[str, str] = {"django.contrib.auth.backends.ModelBackend": "password"}

_USER_AGENT_LENGTH = AuditEvent._meta.get_field("user_agent").max_length or 300
_USERNAME_LENGTH = AuditEvent._meta.get_field("username").max_length or 150


class TokenLike(Protocol):
    """What the log reads of an API token: never its secret, only its owner, name and public lookup id."""

    pk: Any
    user: Any
    name: str
    key_id: str


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address (:mod:`mesh_ui.client_address`: behind trusted proxies too), or None when it has none
    that is an IP address."""
    if request is None:
        return None
    raw = resolve_client_address(request) or ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _request_user(request: HttpRequest | None) -> Any:
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


def record(
    kind: EventKind,
    *,
    actor: Any = None,
    username: str | None = None,
    request: HttpRequest | None = None,
    cluster: str = "",
    namespace: str = "",
    object_kind: str = "",
    object_name: str = "",
    action: str = "",
    result: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store one event. ``actor`` defaults to the user of the current request; ``username`` to the actor's."""
    request = request if request is not None else current_request()
    # A DRF Request (sent with a failed Basic login) would authenticate again when asked for its user: use the
    # Django request underneath.
    request = getattr(request, "_request", request)
    if actor is None:
        actor = _request_user(request)
    if username is None:
        username = actor.get_username() if actor is not None else ""
    detail = dict(detail or {})
    system = current_system_actor()
    if system:
        detail.setdefault("via", system)
    user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.pk is not None else None,
        username=username[:_USERNAME_LENGTH],
        ip=client_address(request),
        user_agent=user_agent[:_USER_AGENT_LENGTH],
        cluster=cluster,
        namespace=namespace,
        object_kind=object_kind,
        object_name=object_name,
        action=action,
        result=result,
        detail=detail,
    )


def login_method(backend_path: str) -> str:
    return LOGIN_METHODS.get(backend_path, backend_path.rpartition(".")[2] or "unknown")


def record_login(request: HttpRequest | None, user: Any) -> AuditEvent:
    backend = getattr(user, "backend", "") or ""
    return record(EventKind.LOGIN, actor=user, request=request, result="ok", detail={"method": login_method(backend)})


def record_login_failed(request: HttpRequest | None, username: str, method: str, reason: str = "") -> AuditEvent:
    """A refused login; ``username`` is the name that was tried (empty when the method has none, e.g. SSO)."""
    detail = {"method": method, **({"reason": reason} if reason else {})}
    return record(
        EventKind.LOGIN_FAILED, actor=None, username=username, request=request, result="refused", detail=detail
    )


def record_logout(request: HttpRequest | None, user: Any) -> AuditEvent:
    return record(EventKind.LOGOUT, actor=user, request=request)


def _token_event(kind: EventKind, token: TokenLike, extra: dict[str, Any] | None = None) -> AuditEvent:
    owner = token.user
    detail = {"owner": owner.get_username(), "name": token.name, **(extra or {})}
    return record(kind, object_kind="ApiToken", object_name=token.key_id, detail=detail)


def record_token_created(token: TokenLike) -> AuditEvent:
    return _token_event(EventKind.TOKEN_CREATED, token)


def record_token_revoked(token: TokenLike) -> AuditEvent:
    return _token_event(EventKind.TOKEN_REVOKED, token)


def record_token_deleted(token: TokenLike) -> AuditEvent:
    return _token_event(EventKind.TOKEN_DELETED, token)


def record_token_used(token: TokenLike) -> AuditEvent:
    """A request authenticated by ``token`` (callers record this at most once a minute per token)."""
    request = current_request()
    path = request.path if request is not None else ""
    return record(
        EventKind.TOKEN_USED,
        actor=token.user,
        object_kind="ApiToken",
        object_name=token.key_id,
        detail={"name": token.name, **({"path": path} if path else {})},
    )


def record_grant_change(
    kind: EventKind, grant_id: Any, after: dict[str, str] | None, before: dict[str, str] | None = None
) -> AuditEvent:
    """A role grant created, changed or deleted; ``before``/``after`` describe it in words (see receivers)."""
    shown = after or before or {}
    detail: dict[str, Any] = {}
    if before is not None:
        detail["before"] = before
    if after is not None:
        detail["after"] = after
    return record(
        kind,
        cluster=shown.get("cluster", ""),
        namespace=shown.get("namespace", ""),
        object_kind="RoleGrant",
        object_name=str(grant_id),
        action=kind.label,
        detail=detail,
    )


def record_groups_changed(user: Any, added: list[str], removed: list[str]) -> AuditEvent:
    """``user`` joined (``added``) or left (``removed``) groups, which changes the grants it holds through them."""
    detail: dict[str, Any] = {}
    if added:
        detail["added"] = sorted(added)
    if removed:
        detail["removed"] = sorted(removed)
    return record(
        EventKind.GROUPS_CHANGED,
        object_kind="User",
        object_name=user.get_username(),
        action="add" if added and not removed else "remove" if removed and not added else "change",
        detail=detail,
    )


def record_write(
    actor: Any,
    cluster: Any,
    kind: str,
    namespace: str,
    name: str,
    action: str,
    result: str,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """A change to a cluster object made through mesh-ui: who, where (``cluster`` is a Cluster or its name), what.

    ``action`` is e.g. ``create``, ``update``, ``delete``; ``result`` e.g. ``ok``, ``conflict``, ``invalid``,
    ``error``; ``detail`` anything that explains it (a diff, the API server's message).
    """
    cluster_name = str(getattr(cluster, "name", cluster))
    return record(
        EventKind.WRITE,
        actor=actor,
        cluster=cluster_name,
        namespace=namespace,
        object_kind=kind,
        object_name=name,
        action=action,
        result=result,
        detail=detail,
    )
