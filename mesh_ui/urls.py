"""Top-level URL routes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(("mesh_ui.api_urls", "api"), namespace="v1")),
    path("", include("dashboard.urls")),
]
