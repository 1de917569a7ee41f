"""Views of the inventory API: declarative viewsets over what the user may read (``api.scoping``).

Objects are addressed by their Kubernetes names (``/services/<cluster>/<namespace>/<name>``), never by database ids.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from kombu.exceptions import OperationalError
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import is_cluster_admin, visible_clusters
from api import filters
from api import serializers as api_serializers
from api.health import HealthLookup
from api.scoping import visible_rows
from inventory.models import Cluster, Namespace, SyncStatus, Workload
from inventory.tasks import sync_cluster
from mesh_ui.api_errors import ErrorSerializer
from mesh_ui.api_http import ValidatedOrderingFilter

NAMESPACED_ORDERING = {"cluster": "cluster__name", "namespace": "namespace", "name": "name"}


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "the task broker cannot be reached; try again later"
    default_code = "service_unavailable"


class InventoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A list and a detail of one stored kind, limited to what the user may read, with health when it has one."""

    health_kind = ""
    ordering_map = NAMESPACED_ORDERING
    ordering = ["cluster__name", "namespace", "name"]

    def get_queryset(self) -> QuerySet[Any]:
        serializer_class: Any = self.get_serializer_class()
        return visible_rows(self.request.user, serializer_class.Meta.model.objects.select_related("cluster"))

    def get_object(self) -> Any:
        kwargs = self.kwargs
        return get_object_or_404(
            self.get_queryset(), cluster__name=kwargs["cluster"], namespace=kwargs["namespace"], name=kwargs["name"]
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.health_kind:
            context["health"] = HealthLookup(self.health_kind)
        return context


@extend_schema(tags=["clusters"])
class ClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Clusters the user has a role in, with a summary of their inventory sync; "sync now" for cluster admins."""

    serializer_class = api_serializers.ClusterSerializer
    lookup_field = "name"
    filter_backends = [ValidatedOrderingFilter]
    ordering_map = {"name": "name", "enabled": "enabled"}
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Cluster]:
        return visible_clusters(self.request.user).prefetch_related("sync_statuses")

    @extend_schema(
        request=None,
        responses={
            202: api_serializers.SyncRequestSerializer,
            503: OpenApiResponse(ErrorSerializer, description="The task broker cannot be reached."),
        },
        description="Queue a full relist of the cluster's inventory now (cluster admins only). The outcome appears "
        "in the sync status; a sync that is already running keeps its lease and the request changes nothing.",
    )
    def sync(self, request: Request, name: str) -> Response:
        cluster = self.get_object()
        if not is_cluster_admin(request.user, cluster):
            raise exceptions.PermissionDenied("only the cluster's admins may start a sync")
        if not cluster.enabled:
            raise serializers.ValidationError({"cluster": [f"cluster {cluster.name!r} is disabled"]})
        try:
            # Without watching: one full list of every kind, then the lease is free for beat's next sync.
            sync_cluster.delay(cluster.pk, 0.0)
        except OperationalError as exc:
            raise ServiceUnavailable() from exc
        body = {"cluster": cluster.name, "queued": True, "message": "sync queued; see its sync status"}
        return Response(api_serializers.SyncRequestSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["sync"])
class SyncStatusViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """How the last sync of each kind in each cluster went."""

    serializer_class = api_serializers.SyncStatusSerializer
    filterset_class = filters.SyncStatusFilterSet
    ordering_map = {"cluster": "cluster__name", "kind": "kind", "state": "state", "lastAttempt": "last_attempt"}
    ordering = ["cluster__name", "kind"]

    def get_queryset(self) -> QuerySet[SyncStatus]:
        clusters = visible_clusters(self.request.user)
        return SyncStatus.objects.filter(cluster__in=clusters).select_related("cluster")

    def get_object(self) -> SyncStatus:
        return get_object_or_404(self.get_queryset(), cluster__name=self.kwargs["cluster"], kind=self.kwargs["kind"])

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        user = self.request.user
        context["admin_cluster_ids"] = {c.pk for c in visible_clusters(user) if is_cluster_admin(user, c)}
        return context


@extend_schema(tags=["inventory"])
class NamespaceViewSet(InventoryViewSet):
    serializer_class = api_serializers.NamespaceSerializer
    filterset_class = filters.NamespaceFilterSet
    health_kind = "namespaces"
    ordering_map = {"cluster": "cluster__name", "name": "name"}
    ordering = ["cluster__name", "name"]

    def get_queryset(self) -> QuerySet[Namespace]:
        return visible_rows(self.request.user, Namespace.objects.select_related("cluster"), namespace_field="name")

    def get_object(self) -> Namespace:
        return get_object_or_404(self.get_queryset(), cluster__name=self.kwargs["cluster"], name=self.kwargs["name"])


@extend_schema(tags=["inventory"])
class ServiceViewSet(InventoryViewSet):
    serializer_class = api_serializers.ServiceSerializer
    filterset_class = filters.ServiceFilterSet
    health_kind = "service"


@extend_schema(tags=["inventory"])
class WorkloadViewSet(InventoryViewSet):
    serializer_class = api_serializers.WorkloadSerializer
    filterset_class = filters.WorkloadFilterSet
    health_kind = "workload"
    ordering_map = {**NAMESPACED_ORDERING, "kind": "kind", "app": "app"}

    def get_object(self) -> Workload:
        # A Deployment and a StatefulSet may share a name: the Deployment is answered.
        kwargs = self.kwargs
        found = (
            self.get_queryset()
            .filter(cluster__name=kwargs["cluster"], namespace=kwargs["namespace"], name=kwargs["name"])
            .order_by("kind")
            .first()
        )
        if found is None:
            raise exceptions.NotFound(f"no workload {kwargs['namespace']}/{kwargs['name']} in {kwargs['cluster']}")
        return found


@extend_schema(tags=["inventory"])
class PodViewSet(InventoryViewSet):
    serializer_class = api_serializers.PodSerializer
    filterset_class = filters.PodFilterSet
    ordering_map = {**NAMESPACED_ORDERING, "phase": "phase", "workload": "workload_name"}


def aggregate_apps(workloads: QuerySet[Workload]) -> QuerySet[Any]:
    """One row per (cluster, namespace, app label) of ``workloads``, with counts and summed replicas."""
    return (
        workloads.exclude(app="")
        .values("cluster", "cluster__name", "namespace", "app")
        .annotate(
            workload_count=Count("id"),
            desired=Sum("desired_replicas"),
            ready=Sum("ready_replicas"),
            missing_sidecars=Count("id", filter=Q(sidecar_present=False)),
        )
    )


@extend_schema(tags=["inventory"])
class AppViewSet(InventoryViewSet):
    """Apps: the workloads of a namespace grouped by their ``app`` label (as Kiali's applications)."""

    serializer_class = api_serializers.AppSerializer
    filterset_class = filters.AppFilterSet
    health_kind = "app"
    ordering_map = {"cluster": "cluster__name", "namespace": "namespace", "name": "app"}
    ordering = ["cluster__name", "namespace", "app"]

    def get_queryset(self) -> QuerySet[Any]:
        return visible_rows(self.request.user, Workload.objects.all())

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return api_serializers.AppDetailSerializer if self.action == "retrieve" else api_serializers.AppSerializer

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The filters narrow the workloads; ordering applies to the grouped rows.
        workloads = DjangoFilterBackend().filter_queryset(self.request, queryset, self)
        return ValidatedOrderingFilter().filter_queryset(self.request, aggregate_apps(workloads), self)

    def get_object(self) -> dict[str, Any]:
        kwargs = self.kwargs
        workloads = self.get_queryset().filter(
            cluster__name=kwargs["cluster"], namespace=kwargs["namespace"], app=kwargs["name"]
        )
        app = aggregate_apps(workloads).order_by("app").first()
        if app is None:
            raise exceptions.NotFound(f"no app {kwargs['namespace']}/{kwargs['name']} in {kwargs['cluster']}")
        app["workload_names"] = sorted(workloads.values_list("name", flat=True))
        return app
