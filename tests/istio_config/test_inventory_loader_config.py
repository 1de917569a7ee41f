"""istio_config.inventory_loader: the mesh config, Secret names, namespace labels and Gateway API objects a
cluster's stored rows give the checks."""

from __future__ import annotations

import logging

import pytest
from django.utils import timezone

from inventory.models import Cluster, ConfigMap, IstioObject, Namespace, SecretName, SyncStatus
from istio_config.checks import check_config
from istio_config.checks.model import MeshConfig, SecretInfo
from istio_config.inventory_loader import load_config_inventory, stored_kind

pytestmark = pytest.mark.django_db
GATEWAY_API = "gateway.networking.k8s.io"


def _secrets_listed(cluster: Cluster, state: str = SyncStatus.State.OK) -> None:
    SyncStatus.objects.create(cluster=cluster, kind="secrets", state=state, last_success=timezone.now())


def test_mesh_config_of_the_clusters_control_plane() -> None:
    cluster = Cluster.objects.create(name="east", control_plane_namespace="istio-prod")
    other = Cluster.objects.create(name="west")
    ConfigMap.objects.create(
        cluster=cluster, namespace="istio-prod", name="istio", data={"mesh": "enableAutoMtls: false\n"}
    )
    ConfigMap.objects.create(cluster=other, namespace="istio-system", name="istio", data={"mesh": "rootNamespace: x"})

    assert load_config_inventory(cluster).mesh == MeshConfig(root_namespace="istio-prod", enable_auto_mtls=False)
    assert load_config_inventory(other).mesh.root_namespace == "x"


def test_an_unreadable_mesh_config_gives_the_defaults_and_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    cluster = Cluster.objects.create(name="east")
    ConfigMap.objects.create(cluster=cluster, namespace="istio-system", name="istio", data={"mesh": "a: [unclosed"})
    with caplog.at_level(logging.WARNING, logger="istio_config.inventory_loader"):
        assert load_config_inventory(cluster).mesh == MeshConfig()
    assert "not valid YAML" in caplog.text
    assert ConfigMap.objects.get(cluster=cluster).data == {"mesh": "a: [unclosed"}


def test_secret_names_only_when_the_last_list_succeeded() -> None:
    cluster = Cluster.objects.create(name="east")
    SecretName.objects.create(cluster=cluster, namespace="istio-system", name="bookinfo-credential")
    assert load_config_inventory(cluster).secrets is None  # never listed
    _secrets_listed(cluster, SyncStatus.State.FAILED)
    assert load_config_inventory(cluster).secrets is None  # e.g. forbidden: the stored rows may be stale
    SyncStatus.objects.filter(cluster=cluster, kind="secrets").update(state=SyncStatus.State.OK)
    assert load_config_inventory(cluster).secrets == (SecretInfo("istio-system", "bookinfo-credential"),)


def test_gateway_api_objects_reach_the_checks_under_kialis_names() -> None:
    cluster = Cluster.objects.create(name="east")
    Namespace.objects.create(cluster=cluster, name="bookinfo", labels={"team": "books"})
    for group, kind in (("networking.istio.io", "Gateway"), (GATEWAY_API, "Gateway"), (GATEWAY_API, "HTTPRoute")):
        IstioObject.objects.create(
            cluster=cluster, namespace="bookinfo", name="bookinfo", group=group, version="v1", kind=kind, spec={}
        )
    inventory = load_config_inventory(cluster)
    assert {o.kind: stored_kind(o.kind) for o in inventory.istio_objects} == {
        "Gateway": (None, "Gateway"),
        "K8sGateway": (GATEWAY_API, "Gateway"),
        "K8sHTTPRoute": (GATEWAY_API, "HTTPRoute"),
    }
    assert inventory.namespaces[0].labels == {"team": "books"}


def test_loaded_secrets_feed_the_credential_check() -> None:
    cluster = Cluster.objects.create(name="east")
    Namespace.objects.create(cluster=cluster, name="bookinfo")
    IstioObject.objects.create(
        cluster=cluster,
        namespace="bookinfo",
        name="shop",
        group=GATEWAY_API,
        version="v1",
        kind="Gateway",
        spec={
            "gatewayClassName": "istio",
            "listeners": [
                {"name": "https", "port": 443, "protocol": "HTTPS", "tls": {"certificateRefs": [{"name": "shop-cert"}]}}
            ],
        },
    )
    _secrets_listed(cluster)
    findings = check_config(load_config_inventory(cluster))
    assert [(f.code, f.kind, f.path) for f in findings] == [
        ("MUI1501", "K8sGateway", "spec.listeners[0].tls.certificateRefs[0].name")
    ]
    SecretName.objects.create(cluster=cluster, namespace="bookinfo", name="shop-cert")
    assert check_config(load_config_inventory(cluster)) == []
