"""Routes of REST API v1."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from istio_config import api as istio_api
from istio_config import api_writes
from topology import api as topology_api
from topology import api_metrics

urlpatterns = [
    path("graph", topology_api.GraphView.as_view(), name="graph"),
    path("graph/diff", topology_api.GraphDiffView.as_view(), name="graph-diff"),
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
]
