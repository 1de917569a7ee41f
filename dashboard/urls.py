"""URL routes of the dashboard pages."""

from django.urls import path

from dashboard import graph_views, views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview_page, name="overview"),
    path("graph/", graph_views.graph_page, name="graph"),
    path("applications/", views.list_page, {"kind": "applications"}, name="applications"),
    path("workloads/", views.list_page, {"kind": "workloads"}, name="workloads"),
    path("services/", views.list_page, {"kind": "services"}, name="services"),
    path("istio/", views.list_page, {"kind": "istio"}, name="istio"),
    path("namespaces/<str:namespace>/workloads/<str:name>/", views.workload_page, name="workload"),
    path("namespaces/<str:namespace>/services/<str:name>/", views.service_page, name="service"),
    path("namespaces/<str:namespace>/applications/<str:name>/", views.app_page, name="application"),
]
