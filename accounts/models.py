"""Models of accounts: role grants (to a user or a group) and hashed API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.grants import GrantRow, Role
from inventory.models import Cluster

ROLE_CHOICES = [(role.label, role.label) for role in Role]


class RoleGrant(models.Model):
    """A role for a user or for every member of a group, in one cluster or all, in one namespace or all.

    An admin grant is always for whole clusters: an admin of one namespace would be an editor by another name.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=10, choices=ROLE_CHOICES)
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.CASCADE, help_text="Empty for every cluster."
    )
    namespace = models.CharField(max_length=63, blank=True, help_text="Empty for every namespace.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username", "group__name", "cluster__name", "namespace"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True))
                | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="grant_to_user_or_group",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.ADMIN.label) | Q(namespace=""), name="admin_grant_whole_clusters"
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.user}" if self.user_id else f"group {self.group}"
        where = f"{self.cluster or 'every cluster'}/{self.namespace or '*'}"
        return f"{who}: {self.role} in {where}"

    def clean(self) -> None:
        if (self.user_id is None) == (self.group_id is None):
            raise ValidationError("A grant is for a user or for a group, exactly one of them.")
        if self.role == Role.ADMIN.label and self.namespace:
            raise ValidationError({"namespace": "An admin grant covers whole clusters: leave the namespace empty."})

    def as_row(self) -> GrantRow:
        return GrantRow(role=Role.from_label(self.role), cluster_id=self.cluster_id, namespace=self.namespace)


TOKEN_PREFIX = "mui"


def hash_token(plaintext: str) -> str:
    """SHA-256 of a token: tokens carry 256 random bits, so a fast hash is enough and costs no CPU under attack."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token: only its hash and a short lookup prefix are stored; the plaintext is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI pipeline'.")
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty for no expiry.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__username", "-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.user} / {self.name} ({TOKEN_PREFIX}_{self.key_id}_…)"

    @classmethod
    def issue(cls, user: Any, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
        """Create a token for ``user``; returns the row and the plaintext, which is never stored or shown again."""
        token = cls(user=user, name=name, expires_at=expires_at)
        plaintext = token.assign_new_key()
        token.save()
        return token, plaintext

    def assign_new_key(self) -> str:
        """Give an unsaved token its key (id and hash); returns the plaintext, to be shown once and forgotten."""
        self.key_id = secrets.token_hex(6)
        plaintext = f"{TOKEN_PREFIX}_{self.key_id}_{secrets.token_urlsafe(32)}"
        self.key_hash = hash_token(plaintext)
        return plaintext

    def revoke(self, now: datetime | None = None) -> bool:
        """Revoke the token (saved through the model, so signals see it); False when it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now or timezone.now()
        self.save(update_fields=["revoked_at"])
        return True

    def state(self, now: datetime) -> str:
        """``active``, ``revoked`` or ``expired``, for lists."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def matches(self, plaintext: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_token(plaintext))

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def parse_token_key_id(plaintext: str) -> str | None:
    """The lookup id inside a token of our format (``mui_<id>_<secret>``), or None when it is not one."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


class UserPreference(models.Model):
    """A user's own settings that follow them from browser to browser: today the interface language."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, blank=True, help_text="Empty: the browser's."
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser language'}"
