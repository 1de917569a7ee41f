"""Who may do what in the Django admin: role grants, not Django's per-model permissions.

Every ModelAdmin of the mesh-ui admin site follows one of two policies (``mesh_ui.admin_site`` makes any admin
registered without one mesh-admin-only with :func:`mesh_admin_only`):

- :class:`MeshAdminOnly` — clusters, users, groups, grants, tokens and everything else: mesh admins (admin of every
  cluster, and superusers) may view and change them; nobody else sees them.
- :class:`NamespaceScopedView` — rows of the cluster inventory: any user with a role sees the rows of the clusters and
  namespaces it may read (the changelist's queryset is filtered, so another namespace's row is not found) and
  changes none of them; superusers see everything.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import access


class AccessPolicy:
    """Marks a ModelAdmin (or inline) whose permissions come from role grants."""


class MeshAdminOnly(AccessPolicy):
    """View, add, change and delete for mesh admins only (superusers are mesh admins)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.is_mesh_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_mesh_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return access.is_mesh_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_mesh_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_mesh_admin(request.user)


class NamespaceScopedView(AccessPolicy):
    """Read-only rows of the namespaces the user may read; ``namespace_field`` None for rows of a whole cluster."""

    namespace_field: ClassVar[str | None] = "namespace"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        if self.namespace_field is None:
            return queryset.filter(cluster__in=access.visible_clusters(request.user))
        return queryset.filter(access.readable_rows(request.user, namespace_field=self.namespace_field))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.has_any_grant(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or self.namespace_field is None:
            return access.has_any_grant(request.user)
        return access.can_read(request.user, obj.cluster_id, getattr(obj, self.namespace_field))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


#: The permission checks of a ModelAdmin.
PERMISSION_METHODS = (
    "has_module_permission",
    "has_view_permission",
    "has_add_permission",
    "has_change_permission",
    "has_delete_permission",
)


def _both(own: Any) -> Any:
    def check(self: Any, request: HttpRequest, *args: Any) -> bool:
        return access.is_mesh_admin(request.user) and bool(own(self, request, *args))

    return check


def mesh_admin_only(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """``admin_class`` for mesh admins only.

    Django's default checks (per-model permissions, which grants replace) become "is a mesh admin"; a check the class
    defines itself still applies on top, so a read-only admin (the audit log's) stays read-only.
    """
    methods: dict[str, Any] = {"__module__": admin_class.__module__}
    for name in PERMISSION_METHODS:
        own = getattr(admin_class, name)
        default = own is getattr(admin.ModelAdmin, name)
        methods[name] = getattr(MeshAdminOnly, name) if default else _both(own)
    return type(admin_class.__name__, (AccessPolicy, admin_class), methods)


#: The cluster filter of scoped changelists: only clusters that have rows the user sees (never every cluster's name).
CLUSTER_FILTER = ("cluster", admin.RelatedOnlyFieldListFilter)
