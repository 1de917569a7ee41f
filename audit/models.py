"""The audit log's one model: an event, kept as plain text so it outlives the users and clusters it names."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventKind(models.TextChoices):
    """What happened. Token plaintext and passwords are never part of any event."""

    LOGIN = "login", "login"
    LOGIN_FAILED = "login_failed", "login failed"
    LOGOUT = "logout", "logout"
    TOKEN_CREATED = "token_created", "token created"
    TOKEN_REVOKED = "token_revoked", "token revoked"
    TOKEN_DELETED = "token_deleted", "token deleted"
    TOKEN_USED = "token_used", "token used"
    GRANT_CREATED = "grant_created", "grant created"
    GRANT_CHANGED = "grant_changed", "grant changed"
    GRANT_DELETED = "grant_deleted", "grant deleted"
    GROUPS_CHANGED = "groups_changed", "group membership changed"
    WRITE = "write", "write"


class AuditEvent(models.Model):
    """One audited event.

    ``username`` is the actor's name at the time (for a failed login: the name tried), so the row keeps its meaning
    after the user is deleted (``actor`` then becomes null). ``cluster`` is a cluster's name for the same reason.
    ``object_kind``/``namespace``/``object_name`` say what was acted on: a Kubernetes object for writes, a token or
    a grant otherwise.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    cluster = models.CharField(max_length=100, blank=True)
    namespace = models.CharField(max_length=253, blank=True)
    object_kind = models.CharField(max_length=100, blank=True)
    object_name = models.CharField(max_length=253, blank=True)
    action = models.CharField(max_length=32, blank=True)
    result = models.CharField(max_length=32, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["kind", "at"], name="audit_kind_at"),
            models.Index(fields=["username", "at"], name="audit_username_at"),
        ]

    def __str__(self) -> str:
        target = "/".join(part for part in (self.cluster, self.namespace, self.object_kind, self.object_name) if part)
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} by {self.username or '?'} {target}".rstrip()
