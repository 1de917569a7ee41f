"""Who a user is at the identity provider: the (issuer, subject) pair that links an SSO login to a Django user."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    """A Django user's identity at an OpenID Connect provider.

    SSO logins find their user by this pair, never by username or e-mail, so a name chosen at the provider cannot
    take over a local account of the same name.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique_subject")]

    def __str__(self) -> str:
        return f"{self.user} = {self.subject} at {self.issuer}"
