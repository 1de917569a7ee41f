"""Routes of REST API v1. Each route's name is what the root (``api.docs.ROOT_ENDPOINTS``) and the tests use."""

from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from api import views as inventory_api
from api.docs import ApiRootView
from istio_config import api as istio_api
from istio_config import api_writes
from topology import api as topology_api
from topology import api_metrics, whatif_api

#: Both documentation pages draw icons as ``data:`` SVG images (in Swagger UI's stylesheet, in ReDoc's bundle).
DOCS_IMAGES = ["data:"]
#: Swagger UI: its script and style stay ``'self'`` only.
SWAGGER_UI_POLICY = csp_update({"img-src": DOCS_IMAGES})
#: ReDoc (styled-components) writes its styles into ``<style>`` elements at run time, so that page alone allows inline
#: style, and it runs its search index in a worker made from a ``blob:`` URL by its own bundle. Script stays
#: ``'self'`` only: an injected style could restyle the page but run nothing.
REDOC_POLICY = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"], "img-src": DOCS_IMAGES})

LIST: dict[str, Any] = {"get": "list"}
DETAIL: dict[str, Any] = {"get": "retrieve"}

urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("clusters", inventory_api.ClusterViewSet.as_view(LIST), name="cluster-list"),
    path("clusters/<str:name>", inventory_api.ClusterViewSet.as_view(DETAIL), name="cluster-detail"),
    path("clusters/<str:name>/sync", inventory_api.ClusterViewSet.as_view({"post": "sync"}), name="cluster-sync"),
    path("sync-status", inventory_api.SyncStatusViewSet.as_view(LIST), name="sync-status-list"),
    path(
        "sync-status/<str:cluster>/<str:kind>",
        inventory_api.SyncStatusViewSet.as_view(DETAIL),
        name="sync-status-detail",
    ),
    path("namespaces", inventory_api.NamespaceViewSet.as_view(LIST), name="namespace-list"),
    path(
        "namespaces/<str:cluster>/<str:name>", inventory_api.NamespaceViewSet.as_view(DETAIL), name="namespace-detail"
    ),
    path("services", inventory_api.ServiceViewSet.as_view(LIST), name="service-list"),
    path(
        "services/<str:cluster>/<str:namespace>/<str:name>",
        inventory_api.ServiceViewSet.as_view(DETAIL),
        name="service-detail",
    ),
    path("workloads", inventory_api.WorkloadViewSet.as_view(LIST), name="workload-list"),
    path(
        "workloads/<str:cluster>/<str:namespace>/<str:name>",
        inventory_api.WorkloadViewSet.as_view(DETAIL),
        name="workload-detail",
    ),
    path("apps", inventory_api.AppViewSet.as_view(LIST), name="app-list"),
    path("apps/<str:cluster>/<str:namespace>/<str:name>", inventory_api.AppViewSet.as_view(DETAIL), name="app-detail"),
    path("pods", inventory_api.PodViewSet.as_view(LIST), name="pod-list"),
    path("pods/<str:cluster>/<str:namespace>/<str:name>", inventory_api.PodViewSet.as_view(DETAIL), name="pod-detail"),
    path("graph", topology_api.GraphView.as_view(), name="graph"),
    path("graph/diff", topology_api.GraphDiffView.as_view(), name="graph-diff"),
    path("graph/builds/<int:build_id>", topology_api.GraphBuildView.as_view(), name="graph-build"),
    path(
        "namespaces/<str:namespace>/workloads/<str:name>/graph",
        topology_api.NodeGraphView.as_view(kind="workload"),
        name="workload-graph",
    ),
    path(
        "namespaces/<str:namespace>/applications/<str:name>/graph",
        topology_api.NodeGraphView.as_view(kind="app"),
        name="app-graph",
    ),
    path(
        "namespaces/<str:namespace>/applications/<str:name>/versions/<str:version>/graph",
        topology_api.NodeGraphView.as_view(kind="app"),
        name="app-version-graph",
    ),
    path(
        "namespaces/<str:namespace>/services/<str:name>/graph",
        topology_api.NodeGraphView.as_view(kind="service"),
        name="service-graph",
    ),
    path("graph/whatif", whatif_api.WhatIfView.as_view(), name="graph-whatif"),
    path("health", topology_api.HealthView.as_view(), name="health"),
    path("snapshots", topology_api.SnapshotListView.as_view(), name="snapshots"),
    path("metrics", api_metrics.EntityMetricsView.as_view(), name="metrics"),
    path("validations", istio_api.ValidationsView.as_view(), name="validations"),
    path("validations/targets", istio_api.ValidationTargetsView.as_view(), name="validation-targets"),
    path("validate", istio_api.ValidateView.as_view(), name="validate"),
    path("istio-objects", api_writes.IstioObjectListCreateView.as_view(), name="istio-objects"),
    path(
        "istio-objects/<str:cluster>/<str:namespace>/<str:kind>/<str:name>",
        api_writes.IstioObjectItemView.as_view(),
        name="istio-object",
    ),
    path(
        "istio-objects/<str:cluster>/<str:namespace>/<str:kind>/<str:name>/history",
        api_writes.IstioObjectHistoryView.as_view(),
        name="istio-object-history",
    ),
    path(
        "istio-objects/<str:cluster>/<str:namespace>/<str:kind>/<str:name>/rollback",
        api_writes.IstioObjectRollbackView.as_view(),
        name="istio-object-rollback",
    ),
    path(
        "istio-objects/<str:cluster>/<str:namespace>/<str:kind>/<str:name>/dependents",
        api_writes.IstioObjectDependentsView.as_view(),
        name="istio-object-dependents",
    ),
    path("schema", SpectacularAPIView.as_view(api_version="1"), name="schema"),
    path(
        "docs/swagger",
        # HTML pages: a browser without a session is sent to the login page, not answered 401.
        SWAGGER_UI_POLICY(
            login_required(
                SpectacularSwaggerSplitView.as_view(url_name="v1:schema", template_name="api/swagger_ui.html")
            )
        ),
        name="swagger-ui",
    ),
    path(
        "docs/redoc",
        REDOC_POLICY(
            login_required(SpectacularRedocView.as_view(url_name="v1:schema", template_name="api/redoc.html"))
        ),
        name="redoc",
    ),
]
