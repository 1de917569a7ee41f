"""Admin pages of accounts: role grants (also inline on users and groups) and every user's API tokens.

All of it is for mesh admins (``accounts.admin_access.MeshAdminOnly``). Grants and tokens change through the models
(``save``, ``ApiToken.revoke``), never through queryset updates, so whatever listens to model saves sees every change.
A token made here gets its key from the model, and its plaintext is shown once, in the message after saving.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.admin_access import MeshAdminOnly
from accounts.models import ApiToken, RoleGrant


@admin.register(RoleGrant)
class RoleGrantAdmin(MeshAdminOnly, admin.ModelAdmin):
    list_display = ("__str__", "user", "group", "role", "cluster", "namespace", "created")
    list_filter = ["role", "cluster"]
    search_fields = ["user__username", "group__name", "namespace"]
    fields = ("user", "group", "role", "cluster", "namespace")


class UserGrantInline(MeshAdminOnly, admin.TabularInline):
    model = RoleGrant
    fk_name = "user"
    fields = ("role", "cluster", "namespace")
    extra = 0
    verbose_name = "role grant"


class GroupGrantInline(UserGrantInline):
    fk_name = "group"


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class MeshUserAdmin(MeshAdminOnly, UserAdmin):
    inlines = [UserGrantInline]


@admin.register(Group)
class MeshGroupAdmin(MeshAdminOnly, GroupAdmin):
    inlines = [GroupGrantInline]


@admin.action(description="Revoke the selected tokens")
def revoke_tokens(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
    revoked = sum(token.revoke() for token in queryset)
    modeladmin.message_user(request, f"{revoked} token{'s' if revoked != 1 else ''} revoked.", messages.SUCCESS)


#: What the page of an existing token shows, none of it editable: a token is revoked (or deleted), never changed.
SHOWN_TOKEN_FIELDS = ("user", "name", "prefix", "created", "expires_at", "last_used_at", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(MeshAdminOnly, admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "expires_at", "last_used_at", "revoked_at")
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "user__username", "key_id"]
    actions = [revoke_tokens]

    @admin.display(description="Prefix")
    def prefix(self, token: ApiToken) -> str:
        return f"mui_{token.key_id}_…"

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        return ("user", "name", "expires_at") if obj is None else SHOWN_TOKEN_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        return () if obj is None else SHOWN_TOKEN_FIELDS

    def save_model(self, request: HttpRequest, obj: ApiToken, form: ModelForm[Any], change: bool) -> None:
        plaintext = None if change else obj.assign_new_key()
        super().save_model(request, obj, form, change)
        if plaintext is not None:
            messages.warning(
                request,
                f"Token for {obj.user}: {plaintext} — copy it now, it will not be shown again.",
            )
