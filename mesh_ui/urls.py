"""Top-level URL routes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from accounts.language import set_language
from mesh_ui.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # LoginView is already login_not_required in Django 5.2; the decorator states it where the route is declared.
    path("login/", login_not_required(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sso/", include("sso.urls")),
    # The header's language selector (the login page has it too) and the graph page's JS catalogue (a script URL on
    # our origin: the CSP's 'self' allows it, and it runs no eval).
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/js/", login_not_required(JavaScriptCatalog.as_view(domain="djangojs")), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("account/", include("accounts.urls")),
    path("api/v1/", include(("mesh_ui.api_urls", "api"), namespace="v1")),
    path("", include("dashboard.urls")),
]
