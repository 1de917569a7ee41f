"""Read one cluster's stored inventory into the plain ``ConfigInventory`` snapshot the pure checks take.

Gateway API objects are stored beside Istio's (``IstioObject.group`` tells them apart) but reach the checks under
Kiali's names (``K8sGateway``, ``K8sHTTPRoute``, ``K8sGRPCRoute``, ``K8sReferenceGrant``), so that ``Gateway`` in a
``ConfigInventory`` or a ``Finding`` always means Istio's; :func:`stored_kind` maps a finding's kind back. The
mesh config is parsed from the stored ``istio`` ConfigMap; Secret names are given only when the last list of
Secrets succeeded (``secrets`` stays None where mesh-ui may not list them, so the credential checks stay silent).
"""

from __future__ import annotations

import logging

from django.db.models import Case, CharField, F, Value, When

from clients.kubernetes import MESH_CONFIG_MAP_NAME
from inventory.models import (
    Cluster,
    ConfigMap,
    IstioObject,
    Namespace,
    Pod,
    SecretName,
    Service,
    SyncStatus,
    Workload,
)
from istio_config.checks.k8s_gateways import CHECK_KIND_OF_GATEWAY_API_KIND, GATEWAY_API_GROUP
from istio_config.checks.model import (
    ConfigInventory,
    IstioConfig,
    MeshConfig,
    NamespaceInfo,
    PodInfo,
    SecretInfo,
    ServiceInfo,
    WorkloadInfo,
)
from istio_config.mesh_config import MeshConfigError, parse_mesh_config

log = logging.getLogger(__name__)
_GATEWAY_API_KIND_OF_CHECK_KIND = {check: kind for kind, check in CHECK_KIND_OF_GATEWAY_API_KIND.items()}


def check_kind(group: str, kind: str) -> str:
    """The kind the checks know a stored object by: Kiali's ``K8s...`` name for a Gateway API object."""
    if group == GATEWAY_API_GROUP:
        return CHECK_KIND_OF_GATEWAY_API_KIND.get(kind, kind)
    return kind


def check_kind_expression() -> Case:
    """:func:`check_kind` in SQL: annotated as ``check_kind`` on ``IstioObject`` rows, it is the kind the object pages,
    URLs and findings know them by."""
    return Case(
        *(
            When(group=GATEWAY_API_GROUP, kind=kind, then=Value(check))
            for kind, check in CHECK_KIND_OF_GATEWAY_API_KIND.items()
        ),
        default=F("kind"),
        output_field=CharField(),
    )


def stored_kind(kind: str) -> tuple[str | None, str]:
    """(group, kind) of the stored rows a checks' kind names; group None for Istio kinds (unique by kind)."""
    if kind in _GATEWAY_API_KIND_OF_CHECK_KIND:
        return GATEWAY_API_GROUP, _GATEWAY_API_KIND_OF_CHECK_KIND[kind]
    return None, kind


def load_config_inventory(cluster: Cluster) -> ConfigInventory:
    """The namespaces, services, workloads, pods and Istio objects stored for ``cluster``, in a stable order."""
    namespaces = tuple(
        NamespaceInfo(name=name, injection=injection, labels=labels or {})
        for name, injection, labels in Namespace.objects.filter(cluster=cluster)
        .order_by("name")
        .values_list("name", "injection", "labels")
    )
    services = tuple(
        ServiceInfo(namespace=ns, name=name, ports=tuple(ports or ()), selector=selector or {}, labels=labels or {})
        for ns, name, ports, selector, labels in Service.objects.filter(cluster=cluster)
        .order_by("namespace", "name")
        .values_list("namespace", "name", "ports", "selector", "labels")
    )
    workloads = tuple(
        WorkloadInfo(namespace=ns, name=name, template_labels=labels or {}, sidecar_present=sidecar)
        for ns, name, labels, sidecar in Workload.objects.filter(cluster=cluster)
        .order_by("namespace", "kind", "name")
        .values_list("namespace", "name", "template_labels", "sidecar_present")
    )
    istio_objects = tuple(
        IstioConfig(
            kind=check_kind(group, kind),
            namespace=ns,
            name=name,
            spec=spec or {},
            labels=labels or {},
            resource_version=rv,
        )
        for group, kind, ns, name, spec, labels, rv in IstioObject.objects.filter(cluster=cluster)
        .order_by("namespace", "kind", "group", "name")
        .values_list("group", "kind", "namespace", "name", "spec", "labels", "resource_version")
    )
    pods = tuple(
        PodInfo(namespace=ns, name=name, labels=labels or {}, workload_name=workload, sidecar=sidecar)
        for ns, name, labels, workload, sidecar in Pod.objects.filter(cluster=cluster)
        .order_by("namespace", "name")
        .values_list("namespace", "name", "labels", "workload_name", "sidecar")
    )
    return ConfigInventory(
        namespaces=namespaces,
        services=services,
        workloads=workloads,
        istio_objects=istio_objects,
        pods=pods,
        mesh=load_mesh_config(cluster),
        secrets=load_secret_names(cluster),
    )


def load_mesh_config(cluster: Cluster) -> MeshConfig:
    """The mesh config of the stored ``istio`` ConfigMap; Istio's defaults when there is none or it is unreadable
    (the stored ConfigMap is kept as it is; the problem is logged)."""
    namespace = cluster.control_plane_namespace
    data = (
        ConfigMap.objects.filter(cluster=cluster, namespace=namespace, name=MESH_CONFIG_MAP_NAME)
        .values_list("data", flat=True)
        .first()
    )
    try:
        return parse_mesh_config(data, namespace)
    except MeshConfigError as exc:
        log.warning(
            "cluster %s: the %s/%s ConfigMap is unreadable, using Istio's defaults: %s",
            cluster.name,
            namespace,
            MESH_CONFIG_MAP_NAME,
            exc,
        )
        return parse_mesh_config(None, namespace)


def load_secret_names(cluster: Cluster) -> tuple[SecretInfo, ...] | None:
    """The stored Secret names, or None unless the last list of Secrets succeeded (forbidden, failed, never)."""
    if not SyncStatus.objects.filter(cluster=cluster, kind="secrets", state=SyncStatus.State.OK).exists():
        return None
    return tuple(
        SecretInfo(namespace=ns, name=name)
        for ns, name in SecretName.objects.filter(cluster=cluster)
        .order_by("namespace", "name")
        .values_list("namespace", "name")
    )
