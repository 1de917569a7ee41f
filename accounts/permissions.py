"""DRF permissions from role grants: the API of the mesh answers only users with a role somewhere."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts import access


class HasAnyGrant(BasePermission):
    """Refuse (403) an authenticated user without any role grant: there is nothing of the mesh it may read."""

    message = "You have no role in any cluster: ask a mesh-ui admin for a grant."

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_any_grant(request.user)
