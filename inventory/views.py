"""Inventory pages: the first page lists each namespace's workloads, services and Istio objects."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inventory.overview import build_inventory_overview


def inventory_page(request: HttpRequest) -> HttpResponse:
    """The inventory, server-rendered from the database; ``?partial=1`` returns only the refreshed body."""
    context = build_inventory_overview(cluster_name=request.GET.get("cluster") or None)
    template = "inventory/_inventory.html" if request.GET.get("partial") else "inventory/inventory.html"
    return render(request, template, context)
