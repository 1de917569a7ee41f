"""The interface language a user chose, remembered on the user (docs/dashboard.md, "Language").

Django's LocaleMiddleware picks the language cookie, else the browser's Accept-Language. A logged-in user's stored
choice (:class:`accounts.models.UserPreference`) wins over both: it is copied into the session at login and on every
change, so applying it costs no query per request. The header's selector posts to :func:`set_language`, which is
Django's view (cookie, redirect back) plus the store on the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.models import UserPreference

#: Session key of the logged-in user's stored language (absent: none stored).
SESSION_KEY = "mesh_ui_language"


def supported(code: str) -> bool:
    """Whether ``code`` is one of settings.LANGUAGES."""
    return code in dict(settings.LANGUAGES)


class UserLanguageMiddleware:
    """Activates the logged-in user's stored language for the request (after Auth- and LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        code = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if code and supported(code) and request.user.is_authenticated:
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="accounts.language.remember_at_login")
def remember_at_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Copies the user's stored language into the fresh session."""
    if request is None or not hasattr(request, "session"):
        return
    code = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    if code and supported(code):
        request.session[SESSION_KEY] = code


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (the cookie and the redirect to ``next``), and for a logged-in user the stored choice."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    if supported(code) and request.user.is_authenticated:
        UserPreference.objects.update_or_create(user=request.user, defaults={"language": code})
        request.session[SESSION_KEY] = code
    return response
