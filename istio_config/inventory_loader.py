"""Read one cluster's stored inventory into the plain ``ConfigInventory`` snapshot the pure checks take."""

from __future__ import annotations

from inventory.models import Cluster, IstioObject, Namespace, Pod, Service, Workload
from istio_config.checks.model import ConfigInventory, IstioConfig, NamespaceInfo, PodInfo, ServiceInfo, WorkloadInfo


def load_config_inventory(cluster: Cluster) -> ConfigInventory:
    """The namespaces, services, workloads, pods and Istio objects stored for ``cluster``, in a stable order."""
    namespaces = tuple(
        NamespaceInfo(name=name, injection=injection)
        for name, injection in Namespace.objects.filter(cluster=cluster)
        .order_by("name")
        .values_list("name", "injection")
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
        IstioConfig(kind=kind, namespace=ns, name=name, spec=spec or {}, labels=labels or {}, resource_version=rv)
        for kind, ns, name, spec, labels, rv in IstioObject.objects.filter(cluster=cluster)
        .order_by("namespace", "kind", "name")
        .values_list("kind", "namespace", "name", "spec", "labels", "resource_version")
    )
    pods = tuple(
        PodInfo(namespace=ns, name=name, labels=labels or {}, workload_name=workload, sidecar=sidecar)
        for ns, name, labels, workload, sidecar in Pod.objects.filter(cluster=cluster)
        .order_by("namespace", "name")
        .values_list("namespace", "name", "labels", "workload_name", "sidecar")
    )
    return ConfigInventory(
        namespaces=namespaces, services=services, workloads=workloads, istio_objects=istio_objects, pods=pods
    )
