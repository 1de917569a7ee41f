"""Dashboard page views: validate the query string, choose the cluster, read stored data, render (the whole page,
or for htmx the fragment).

Every page goes through :func:`page_view`: a user without any role grant gets a 403 page saying so; its query
serializer (``dashboard.queries``) and the cluster rule (``dashboard.clusters``, among the clusters the user has a
role in) run before the view, and an invalid query gets a 400 page that says what is wrong. Views read only the
namespaces the user may read (:func:`read_scope`); a detail page of another namespace is a 404, as if it did not
exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts import access
from accounts.grants import NO_NAMESPACES, NamespaceScope
from dashboard.clusters import select_cluster
from dashboard.common import HEALTH_CHOICES, is_partial
from dashboard.details import DetailPage, load_app_detail, load_service_detail, load_workload_detail
from dashboard.editor import editor_config, load_create_page, writable_namespaces
from dashboard.inventory import load_inventory_overview
from dashboard.lists import ListFilters, load_list_page
from dashboard.overview import OverviewFilters, load_overview
from dashboard.queries import ListQuery, NewIstioObjectQuery, OverviewQuery, PageQuery, filter_values
from dashboard.wizard_forms import WIZARD_FORMS
from inventory.clusters import UnknownClusterError
from inventory.models import Cluster
from istio_config.findings import last_run
from istio_config.objects import load_object_detail
from mesh_ui.auth import may_see_error_details

LIST_TITLES = {
    "applications": _("Applications"),
    "workloads": _("Workloads"),
    "services": _("Services"),
    "istio": _("Istio config"),
}

PageView = Callable[..., HttpResponse]


def _render(
    request: HttpRequest, page: str, fragment: str, context: Mapping[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, fragment if is_partial(request) else page, context, status=status)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def page_view(query_class: type[serializers.Serializer]) -> Callable[[PageView], Callable[..., HttpResponse]]:
    """Run ``query_class`` on the query string and choose the cluster; the view gets ``(request, cluster, query)``."""

    def decorate(view: PageView) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not access.has_any_grant(request.user):
                return render(request, "dashboard/no_access.html", status=403)
            query = query_class(data=request.GET)
            errors: dict[str, Any] = {} if query.is_valid() else dict(query.errors)
            if not errors:
                try:
                    cluster = select_cluster(request, query.validated_data.get("cluster"))
                except UnknownClusterError as exc:
                    errors = {"cluster": [str(exc)]}
            if errors:
                context = {"errors": {name: [str(m) for m in messages] for name, messages in errors.items()}}
                return _render(request, "dashboard/bad_query.html", "dashboard/_bad_query.html", context, status=400)
            return view(request, cluster, dict(query.validated_data), *args, **kwargs)

        return wrapper

    return decorate


def read_scope(request: HttpRequest, cluster: Cluster | None) -> NamespaceScope:
    """The namespaces of ``cluster`` the request's user may read (none without a cluster)."""
    if cluster is None:
        return NO_NAMESPACES
    return access.namespace_scope(request.user, cluster)


@page_view(OverviewQuery)
def overview_page(request: HttpRequest, cluster: Cluster | None, query: dict[str, Any]) -> HttpResponse:
    """One card per namespace: inventory counts, health and inbound traffic."""
    context = load_overview(cluster, OverviewFilters(**filter_values(query)), read_scope(request, cluster))
    context["health_choices"] = HEALTH_CHOICES
    return _render(request, "dashboard/overview.html", "dashboard/_overview_cards.html", context)


@page_view(ListQuery)
def list_page(request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], kind: str) -> HttpResponse:
    """A filtered, sorted, paginated list of applications, workloads, services or Istio objects."""
    filters = ListFilters(**filter_values(query))
    context: dict[str, Any] = {
        "list": load_list_page(kind, cluster, filters, read_scope(request, cluster)),
        "kind": kind,
    }
    context["title"] = LIST_TITLES[kind]
    if kind == "istio" and cluster is not None:
        context["create_in"] = writable_namespaces(request.user, cluster)
    return _render(request, "dashboard/list.html", f"dashboard/_{kind}_table.html", context)


@page_view(PageQuery)
def inventory_page(request: HttpRequest, cluster: Cluster | None, query: dict[str, Any]) -> HttpResponse:
    """Everything synced from the cluster, namespace by namespace, with sync status and traffic edges."""
    context = load_inventory_overview(cluster, read_scope(request, cluster), may_see_error_details(request.user))
    return _render(request, "dashboard/inventory.html", "dashboard/_inventory.html", context)


@page_view(PageQuery)
def workload_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, name: str
) -> HttpResponse:
    return _detail(request, cluster, load_workload_detail, namespace, name)


@page_view(PageQuery)
def service_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, name: str
) -> HttpResponse:
    extra = {}
    if cluster is not None and access.can_write(request.user, cluster, namespace):
        extra["routing_wizards"] = [(key, form.title) for key, form in WIZARD_FORMS.items()]
    return _detail(request, cluster, load_service_detail, namespace, name, extra)


@page_view(PageQuery)
def app_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, name: str
) -> HttpResponse:
    return _detail(request, cluster, load_app_detail, namespace, name)


@page_view(PageQuery)
def istio_object_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, kind: str, name: str
) -> HttpResponse:
    """One Istio object: its YAML with each finding pinned to its line; editors also get the YAML editor."""
    if cluster is None:
        return render(request, "dashboard/no_cluster.html", status=404)
    detail = None
    if access.namespace_scope(request.user, cluster).allows(namespace):
        detail = load_object_detail(cluster, namespace, kind, name)
    if detail is None:
        raise Http404(f"no {kind} {namespace}/{name}")
    context: dict[str, Any] = {
        "object": detail,
        "run": last_run(cluster),
        "error_details": may_see_error_details(request.user),
    }
    if access.can_write(request.user, cluster, namespace):
        context["editor"] = editor_config(cluster, detail)
    return render(request, "dashboard/istio_object.html", context)


@page_view(NewIstioObjectQuery)
def istio_new_page(request: HttpRequest, cluster: Cluster | None, query: dict[str, Any]) -> HttpResponse:
    """The YAML editor on a starter document of the chosen kind, for a namespace the user may write."""
    if cluster is None:
        return render(request, "dashboard/no_cluster.html", status=404)
    namespaces = writable_namespaces(request.user, cluster)
    if not namespaces or (query["namespace"] and query["namespace"] not in namespaces):
        where = f"namespace {query['namespace']!r} of " if query["namespace"] else ""
        raise PermissionDenied(f"you may not create Istio objects in {where}{cluster.name}")
    create = load_create_page(cluster, namespaces, query["kind"], query["namespace"])
    return render(request, "dashboard/istio_new.html", {"create": create, "editor": create.config})


def _detail(
    request: HttpRequest,
    cluster: Cluster | None,
    load: Callable[[Cluster, NamespaceScope, str, str], DetailPage],
    namespace: str,
    name: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    if cluster is None:
        return render(request, "dashboard/no_cluster.html", status=404)
    scope = read_scope(request, cluster)
    if not scope.allows(namespace):
        raise Http404(f"no {namespace}/{name} in {cluster.name}")
    detail = load(cluster, scope, namespace, name)
    # Findings name the objects they are on: only those in namespaces the user may read.
    detail.findings = [f for f in detail.findings if scope.allows(f.namespace)]
    context = {"detail": detail, **(extra or {})}
    return _render(request, "dashboard/detail.html", "dashboard/_detail_live.html", context)
