"""URL routes of the dashboard pages."""

from urllib.parse import quote, unquote

from django.urls import path, register_converter

from dashboard import graph_views, history_views, views, wizard_views


class ObjectNameConverter:
    """A namespace, object name or app label as one path segment.

    Kubernetes names never hold ``/``, but stored label values are data from the cluster, not trusted: any
    ``/`` or ``%`` is percent-encoded so that reverse() never fails and the link leads back to the same value.
    """

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        return quote(value, safe="")


register_converter(ObjectNameConverter, "objname")

app_name = "dashboard"
urlpatterns = [
    path("", views.overview_page, name="overview"),
    path("graph/", graph_views.graph_page, name="graph"),
    path("applications/", views.list_page, {"kind": "applications"}, name="applications"),
    path("workloads/", views.list_page, {"kind": "workloads"}, name="workloads"),
    path("services/", views.list_page, {"kind": "services"}, name="services"),
    path("istio/", views.list_page, {"kind": "istio"}, name="istio"),
    path("istio/new/", views.istio_new_page, name="istio-new"),
    path("inventory/", views.inventory_page, name="inventory"),
    path("namespaces/<objname:namespace>/workloads/<objname:name>/", views.workload_page, name="workload"),
    path("namespaces/<objname:namespace>/services/<objname:name>/", views.service_page, name="service"),
    path("namespaces/<objname:namespace>/applications/<objname:name>/", views.app_page, name="application"),
    path(
        "namespaces/<objname:namespace>/services/<objname:name>/wizards/<objname:wizard>/",
        wizard_views.service_wizard_page,
        name="service-wizard",
    ),
    path(
        "namespaces/<objname:namespace>/services/<objname:name>/routing/remove/",
        wizard_views.service_routing_remove_page,
        name="service-routing-remove",
    ),
    path(
        "namespaces/<objname:namespace>/istio/<objname:kind>/<objname:name>/",
        views.istio_object_page,
        name="istio-object",
    ),
    path(
        "namespaces/<objname:namespace>/istio/<objname:kind>/<objname:name>/history/",
        history_views.istio_history_page,
        name="istio-history",
    ),
    path(
        "namespaces/<objname:namespace>/istio/<objname:kind>/<objname:name>/history/<int:change_id>/rollback/",
        history_views.istio_rollback_page,
        name="istio-rollback",
    ),
]
