"""The audit log in the admin: read-only, and only for mesh admins (admin of every cluster, or superusers).

Filters by kind, user and time (the date drill-down and the ``at`` filter); search by user, address or object.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.access import is_mesh_admin
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "username", "ip", "cluster", "namespace", "object_kind", "object_name", "result")
    list_filter = ["kind", "at", ("actor", admin.RelatedOnlyFieldListFilter), "result"]
    search_fields = ["username", "ip", "cluster", "namespace", "object_name"]
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False  # a count of a large log costs more than the page

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_mesh_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_mesh_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
