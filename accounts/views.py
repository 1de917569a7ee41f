"""The user's own account pages: API tokens (list, create with the plaintext shown once, revoke).

Thin views: the model issues and revokes (``ApiToken.issue``, ``ApiToken.revoke``), so whatever listens to the
model's saves (the audit log) sees every change. A user only ever sees and revokes its own tokens; another user's
token is answered 404. The page that shows a new token's plaintext is the answer to the POST that created it, never
stored and never cached: reloading the list shows only the token's name and prefix.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.forms import TokenCreateForm
from accounts.models import ApiToken


@never_cache
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    """The user's tokens and a form for a new one; a valid POST answers with the new token's plaintext, once."""
    user: Any = request.user  # logged in: every page needs a login
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        token, plaintext = ApiToken.issue(user, form.cleaned_data["name"], form.expires_at())
        return render(request, "accounts/token_created.html", {"token": token, "plaintext": plaintext})
    tokens = ApiToken.objects.filter(user=user).order_by("-created")
    now = timezone.now()
    rows = [(token, token.state(now)) for token in tokens]
    status = 400 if form.is_bound else 200
    return render(request, "accounts/tokens.html", {"rows": rows, "form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def revoke_token_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm (GET), then revoke (POST) one of the user's own tokens."""
    user: Any = request.user
    token = get_object_or_404(ApiToken, pk=pk, user=user)
    if request.method == "POST":
        if token.revoke():
            messages.success(request, _("Token “%(name)s” revoked: it no longer authenticates.") % {"name": token.name})
        return redirect("accounts:tokens")
    return render(request, "accounts/token_revoke.html", {"token": token})
