"""The project's URLs plus one view that fails, for the 500 page's tests (ROOT_URLCONF in those tests only)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from mesh_ui.urls import urlpatterns as project_urlpatterns


def fail(request: HttpRequest) -> HttpResponse:
    """Raises, as a bug in any view would."""
    raise RuntimeError("a view failed")


urlpatterns = [path("test-failure/", fail, name="test-failure"), *project_urlpatterns]
