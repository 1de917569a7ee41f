"""The two steps of an SSO sign-in: send the browser to the provider, and take it back (the callback).

Both are mozilla-django-oidc's views, with mesh-ui's settings (``oidc_setting``), 404 when SSO is off, PKCE on,
and every failure (forged or replayed answer, provider down, inactive user) recorded in the audit log and shown
on the login page as "Single sign-on failed" instead of an error page.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from audit.events import record_login_failed
from clients.oidc import DiscoveryError
from sso import provider
from sso.provider import FAILURE_ATTRIBUTE, oidc_setting

logger = logging.getLogger(__name__)


def _refuse_when_off() -> None:
    if provider.current_config() is None:
        raise Http404("Single sign-on is not configured.")


class SsoStartView(OIDCAuthenticationRequestView):
    """Redirect to the provider's authorize endpoint with state, nonce and a PKCE challenge."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the library reads settings here; they are read per request below

    def get(self, request: HttpRequest) -> HttpResponse:
        _refuse_when_off()
        config = provider.current_config()
        assert config is not None
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider.endpoints(config).authorization_endpoint
        except DiscoveryError as exc:
            logger.warning("SSO sign-in not started: %s", exc)
            record_login_failed(request, "", "sso", f"provider discovery failed: {exc}")
            return HttpResponseRedirect(oidc_setting("LOGIN_REDIRECT_URL_FAILURE"))
        self.OIDC_RP_CLIENT_ID = config.client_id
        response: HttpResponse = super().get(request)
        return response


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """Take the provider's answer; sign the user in, or record why not and go back to the login page."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        _refuse_when_off()
        try:
            response: HttpResponse = super().get(request)
            return response
        except SuspiciousOperation as exc:
            self._reason = str(exc)
        except requests.RequestException as exc:
            status = getattr(exc.response, "status_code", None)
            self._reason = f"provider request failed: {type(exc).__name__}" + (f" ({status})" if status else "")
        failure: HttpResponse = self.login_failure()
        return failure

    def login_failure(self) -> HttpResponse:
        request = self.request
        reason = getattr(self, "_reason", "") or getattr(request, FAILURE_ATTRIBUTE, "")
        if not reason:
            error = request.GET.get("error")
            if error:
                reason = f"provider answered {error}"
            elif getattr(self, "user", None) is not None and not self.user.is_active:
                reason = "user inactive"
            else:
                reason = "no sign-in in progress"
        logger.warning("SSO sign-in refused: %s", reason)
        record_login_failed(request, "", "sso", reason)
        response: HttpResponse = super().login_failure()
        return response
