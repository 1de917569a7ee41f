"""Login everywhere: Django's LoginRequiredMiddleware for pages, DRF's own answer for the API; who sees error texts.

A page asked for without a session redirects to the login page (with ``next``). An API view must not redirect a
script to an HTML form: DRF authenticates it (session or Bearer token) and answers 401 with ``WWW-Authenticate`` when
that fails, because ``IsAuthenticated`` is the default permission of every API view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase
from rest_framework.views import APIView

from accounts.access import is_mesh_admin


class PageLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Redirect anonymous page requests to the login page; leave DRF views to DRF's authentication."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def may_see_error_details(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` is shown the text of Prometheus and sync errors (hosts, paths, a server's own message).

    Only mesh admins (:func:`accounts.access.is_mesh_admin`): everyone else is told what failed and since when.
    """
    return is_mesh_admin(user)
