"""Dashboard page views: parse the request, read stored data, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from inventory.views import inventory_page


def overview_page(request: HttpRequest) -> HttpResponse:
    """The overview (for now the inventory page)."""
    return inventory_page(request)
