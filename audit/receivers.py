"""Signal receivers that turn sign-ins, changes to tokens and role grants, and group memberships into audit events.

Each receiver only reads what happened and calls ``audit.events``. The models are named by label
(``accounts.ApiToken``), not imported: the audit log sits below the apps it watches. A revocation or change is
told from a creation by the stored row read in ``pre_save``; changes made with ``QuerySet.update()`` send no
signal, so code that revokes tokens saves the row (or calls ``events.record_token_revoked`` itself).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest

from audit import events
from audit.models import EventKind

TOKEN_MODEL = "accounts.ApiToken"
GRANT_MODEL = "accounts.RoleGrant"

_WAS_REVOKED = "_audit_was_revoked"
_GRANT_BEFORE = "_audit_grant_before"
_CLEARED = "_audit_cleared_ids"


def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    events.record_login(request, user)


def _on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        events.record_logout(request, user)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the secrets in ``credentials``; only the username is kept anyway.
    if "nonce" in credentials:
        return  # the SSO callback records its failures itself, with the reason
    username = credentials.get("username")
    method = "password" if "password" in credentials else "other"
    events.record_login_failed(request, username if isinstance(username, str) else "", method)


def _remember_token_state(sender: Any, instance: Any, **kwargs: Any) -> None:
    was_revoked = False
    if instance.pk is not None and not kwargs.get("raw"):
        was_revoked = sender._default_manager.filter(pk=instance.pk, revoked_at__isnull=False).exists()
    setattr(instance, _WAS_REVOKED, was_revoked)


def _on_token_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if created:
        events.record_token_created(instance)
    elif instance.revoked_at is not None and not getattr(instance, _WAS_REVOKED, True):
        events.record_token_revoked(instance)


def _on_token_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    events.record_token_deleted(instance)


def describe_grant(grant: Any) -> dict[str, str]:
    """A grant in words, as the log keeps it (names, not ids, so it reads the same after they are deleted)."""
    try:
        grantee = f"user {grant.user.get_username()}" if grant.user_id else f"group {grant.group.name}"
    except ObjectDoesNotExist:
        grantee = f"user #{grant.user_id}" if grant.user_id else f"group #{grant.group_id}"
    try:
        cluster = grant.cluster.name if grant.cluster_id else ""
    except ObjectDoesNotExist:
        cluster = f"#{grant.cluster_id}"
    return {"grantee": grantee, "role": grant.role, "cluster": cluster, "namespace": grant.namespace}


def _remember_grant(sender: Any, instance: Any, **kwargs: Any) -> None:
    before = None
    if instance.pk is not None and not kwargs.get("raw"):
        stored = sender._default_manager.filter(pk=instance.pk).first()
        before = describe_grant(stored) if stored is not None else None
    setattr(instance, _GRANT_BEFORE, before)


def _on_grant_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    after = describe_grant(instance)
    if created:
        events.record_grant_change(EventKind.GRANT_CREATED, instance.pk, after)
        return
    before = getattr(instance, _GRANT_BEFORE, None)
    if before != after:
        events.record_grant_change(EventKind.GRANT_CHANGED, instance.pk, after, before)


def _on_grant_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    events.record_grant_change(EventKind.GRANT_DELETED, instance.pk, None, describe_grant(instance))


def _on_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    """Membership of groups changed, from the user's side (``user.groups``) or the group's (``group.user_set``)."""
    if action == "pre_clear":
        related = instance.user_set if reverse else instance.groups
        setattr(instance, _CLEARED, set(related.values_list("pk", flat=True)))
        return
    if action == "post_clear":
        pk_set, removing = getattr(instance, _CLEARED, set()), True
    elif action in {"post_add", "post_remove"}:
        removing = action == "post_remove"
    else:
        return
    if not pk_set:
        return
    if reverse:  # instance is a Group, pk_set holds users
        for user in model._default_manager.filter(pk__in=sorted(pk_set)):
            events.record_groups_changed(user, [] if removing else [instance.name], [instance.name] if removing else [])
    else:
        names = list(model._default_manager.filter(pk__in=sorted(pk_set)).values_list("name", flat=True))
        events.record_groups_changed(instance, [] if removing else names, names if removing else [])


def connect() -> None:
    """Connect every receiver (once: the dispatch uids make a second call a no-op)."""
    user_logged_in.connect(_on_logged_in, dispatch_uid="audit.login")
    user_logged_out.connect(_on_logged_out, dispatch_uid="audit.logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audit.login_failed")
    pre_save.connect(_remember_token_state, sender=TOKEN_MODEL, dispatch_uid="audit.token_pre_save")
    post_save.connect(_on_token_saved, sender=TOKEN_MODEL, dispatch_uid="audit.token_saved")
    post_delete.connect(_on_token_deleted, sender=TOKEN_MODEL, dispatch_uid="audit.token_deleted")
    pre_save.connect(_remember_grant, sender=GRANT_MODEL, dispatch_uid="audit.grant_pre_save")
    post_save.connect(_on_grant_saved, sender=GRANT_MODEL, dispatch_uid="audit.grant_saved")
    post_delete.connect(_on_grant_deleted, sender=GRANT_MODEL, dispatch_uid="audit.grant_deleted")
    membership = get_user_model().groups.through
    m2m_changed.connect(_on_groups_changed, sender=membership, dispatch_uid="audit.groups_changed")
