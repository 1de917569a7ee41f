"""SSO identities in the admin: which provider subject signs in as which user (read-only; delete to unlink)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sso.models import SsoIdentity


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "subject", "issuer", "created", "last_login")
    search_fields = ["user__username", "subject"]
    list_filter = ["issuer"]
    readonly_fields = ("user", "issuer", "subject", "created", "last_login")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
