"""Dashboard page views: parse the request, read stored data, render (the whole page, or for htmx the fragment)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from dashboard.clusters import selected_cluster
from dashboard.common import HEALTH_CHOICES, is_partial
from dashboard.details import DetailPage, build_app_detail, build_service_detail, build_workload_detail
from dashboard.lists import ListFilters, build_list_page
from dashboard.overview import OverviewFilters, build_overview
from inventory.models import Cluster

LIST_TITLES = {
    "applications": "Applications",
    "workloads": "Workloads",
    "services": "Services",
    "istio": "Istio config",
}


def _render(request: HttpRequest, page: str, fragment: str, context: Mapping[str, Any]) -> HttpResponse:
    response = render(request, fragment if is_partial(request) else page, context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def overview_page(request: HttpRequest) -> HttpResponse:
    """One card per namespace: inventory counts, health and inbound traffic."""
    context = build_overview(selected_cluster(request), OverviewFilters.from_query(request.GET))
    context["health_choices"] = HEALTH_CHOICES
    return _render(request, "dashboard/overview.html", "dashboard/_overview_cards.html", context)


def list_page(request: HttpRequest, kind: str) -> HttpResponse:
    """A filtered, sorted, paginated list of applications, workloads, services or Istio objects."""
    filters = ListFilters.from_query(request.GET)
    context = {"list": build_list_page(kind, selected_cluster(request), filters), "kind": kind}
    context["title"] = LIST_TITLES[kind]
    return _render(request, "dashboard/list.html", f"dashboard/_{kind}_table.html", context)


def workload_page(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    return _detail(request, build_workload_detail, namespace, name)


def service_page(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    return _detail(request, build_service_detail, namespace, name)


def app_page(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    return _detail(request, build_app_detail, namespace, name)


def _detail(
    request: HttpRequest, build: Callable[[Cluster, str, str], DetailPage], namespace: str, name: str
) -> HttpResponse:
    cluster = selected_cluster(request)
    if cluster is None:
        return render(request, "dashboard/no_cluster.html", status=404)
    detail = build(cluster, namespace, name)
    return _render(request, "dashboard/detail.html", "dashboard/_detail_live.html", {"detail": detail})
