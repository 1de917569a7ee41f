"""The mesh-ui admin site: anyone with a role grant may enter; each model's admin says what they may do there.

Django's admin lets in only staff users and then checks per-model permissions. mesh-ui's rules are role grants
(``accounts``): any active user with a grant may log in to the admin, and what it sees follows its roles
(``accounts.admin_access``). An admin registered without a policy (one of a third-party app, such as Celery beat's
schedules) is for mesh admins only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts import access
from accounts.admin_access import AccessPolicy, mesh_admin_only


def may_enter_admin(user: Any) -> bool:
    return bool(user.is_active and (user.is_superuser or access.has_any_grant(user)))


class MeshAdminLoginForm(AdminAuthenticationForm):
    """The admin's own login form, open to users with a grant (not only to staff)."""

    def confirm_login_allowed(self, user: Any) -> None:
        try:
            super().confirm_login_allowed(user)
        except ValidationError:
            if not may_enter_admin(user):
                raise


class MeshAdminSite(AdminSite):
    site_header = "mesh-ui administration"
    site_title = "mesh-ui admin"
    login_form = MeshAdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_enter_admin(request.user)

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, AccessPolicy):
            admin_class = mesh_admin_only(admin_class)
        super().register(model_or_iterable, admin_class, **options)
