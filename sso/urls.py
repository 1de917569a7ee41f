"""Routes of single sign-on: start (to the provider) and callback (back from it); both open without a login."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from sso.views import SsoCallbackView, SsoStartView

app_name = "sso"

urlpatterns = [
    path("start/", login_not_required(SsoStartView.as_view()), name="start"),
    path("callback/", login_not_required(SsoCallbackView.as_view()), name="callback"),
]
