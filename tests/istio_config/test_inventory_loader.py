"""istio_config.inventory_loader: one cluster's stored rows become the checks' ConfigInventory."""

from __future__ import annotations

import pytest

from inventory.models import Cluster, IstioObject, Namespace, Pod, Service, Workload
from istio_config.checks import IstioConfig, NamespaceInfo, PodInfo, ServiceInfo, WorkloadInfo, check_config
from istio_config.inventory_loader import load_config_inventory

pytestmark = pytest.mark.django_db


def _store_bookinfo_reviews(cluster: Cluster) -> None:
    Namespace.objects.create(cluster=cluster, name="bookinfo", injection="enabled")
    Service.objects.create(
        cluster=cluster,
        namespace="bookinfo",
        name="reviews",
        ports=[{"name": "http", "port": 9080}],
        selector={"app": "reviews"},
        labels={"app": "reviews"},
    )
    Workload.objects.create(
        cluster=cluster,
        namespace="bookinfo",
        name="reviews-v1",
        kind="Deployment",
        template_labels={"app": "reviews", "version": "v1"},
        sidecar_present=True,
    )
    IstioObject.objects.create(
        cluster=cluster,
        namespace="bookinfo",
        name="reviews",
        group="networking.istio.io",
        version="v1",
        kind="VirtualService",
        resource_version="42",
        spec={"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}]},
    )


def test_loads_one_clusters_rows() -> None:
    cluster = Cluster.objects.create(name="east")
    other = Cluster.objects.create(name="west")
    _store_bookinfo_reviews(cluster)
    Namespace.objects.create(cluster=other, name="elsewhere")

    inventory = load_config_inventory(cluster)

    assert inventory.namespaces == (NamespaceInfo("bookinfo", "enabled"),)
    assert inventory.services == (
        ServiceInfo("bookinfo", "reviews", ({"name": "http", "port": 9080},), {"app": "reviews"}, {"app": "reviews"}),
    )
    assert inventory.workloads == (WorkloadInfo("bookinfo", "reviews-v1", {"app": "reviews", "version": "v1"}, True),)
    [vs] = inventory.istio_objects
    assert isinstance(vs, IstioConfig)
    assert (vs.kind, vs.namespace, vs.name, vs.resource_version) == ("VirtualService", "bookinfo", "reviews", "42")


def test_loaded_inventory_feeds_the_checks() -> None:
    cluster = Cluster.objects.create(name="east")
    _store_bookinfo_reviews(cluster)
    findings = check_config(load_config_inventory(cluster))
    assert [(f.code, f.name, f.path) for f in findings] == [
        ("KIA1107", "reviews", "spec.http[0].route[0].destination.subset")
    ]


def test_loads_pods_for_the_sidecar_check() -> None:
    cluster = Cluster.objects.create(name="east")
    other = Cluster.objects.create(name="west")
    _store_bookinfo_reviews(cluster)
    for target, name in ((cluster, "reviews-v1-abc"), (other, "reviews-v1-zzz")):
        Pod.objects.create(
            cluster=target, namespace="bookinfo", name=name, labels={"app": "reviews"}, workload_name="reviews-v1"
        )

    inventory = load_config_inventory(cluster)

    assert inventory.pods == (PodInfo("bookinfo", "reviews-v1-abc", {"app": "reviews"}, "reviews-v1", False),)
    assert ("MUI1302", "reviews-v1") in [(f.code, f.name) for f in check_config(inventory)]
