"""Sync of what the configuration checks read, through the real ``kubernetes`` client against the simulator: the
mesh config (the ``istio`` ConfigMap only), Secret names (metadata only), RequestAuthentication and the Gateway API
kinds, with a forbidden or not-installed kind recorded and nothing stored lost."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

import inventory.sync
from inventory.models import Cluster, ConfigMap, IstioObject, SecretName, SyncStatus
from inventory.sync import follow_watches, sync_cluster
from istio_config.inventory_loader import load_config_inventory
from simulator import Simulator

pytestmark = pytest.mark.django_db

#: Seconds a sync follows its watches in the tests that change objects while it does.
WATCH_SECONDS = 6

GATEWAY_API = "gateway.networking.k8s.io"
HTTP_ROUTE = {
    "apiVersion": f"{GATEWAY_API}/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "bookinfo", "namespace": "bookinfo"},
    "spec": {
        "parentRefs": [{"name": "bookinfo-gateway"}],
        "rules": [{"backendRefs": [{"name": "productpage", "port": 9080}]}],
    },
}
K8S_GATEWAY = {
    "apiVersion": f"{GATEWAY_API}/v1",
    "kind": "Gateway",
    "metadata": {"name": "bookinfo-gateway", "namespace": "bookinfo"},
    "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
}


def _api(simulator: Any) -> k8s.ApiClient:
    return k8s_config.new_client_from_config(config_file=str(simulator.kubeconfig_path))


def _secret(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "labels": {"app": "shop"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"tls.key":"c2VjcmV0"}}'},
        },
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA==", "tls.key": "c2VjcmV0"},
    }


def test_the_mesh_config_and_nothing_but_it_is_synced(cluster: Cluster, simulator: Any) -> None:
    k8s.CoreV1Api(_api(simulator)).create_namespaced_config_map(
        "istio-system", {"metadata": {"name": "unrelated"}, "data": {"key": "value"}}
    )
    outcome = sync_cluster(cluster.pk)

    assert "meshconfig" in outcome.listed
    [stored] = ConfigMap.objects.filter(cluster=cluster)
    assert (stored.namespace, stored.name) == ("istio-system", "istio")
    assert "rootNamespace: istio-system" in stored.data["mesh"]
    mesh = load_config_inventory(cluster).mesh
    assert (mesh.root_namespace, mesh.enable_auto_mtls) == ("istio-system", True)


def test_a_changed_mesh_config_is_followed_by_the_watch(
    cluster: Cluster, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = k8s.CoreV1Api(_api(simulator))

    def change_then_follow(*args: Any, **kwargs: Any) -> None:
        mesh = core.read_namespaced_config_map("istio", "istio-system")
        mesh.data["mesh"] += "enableAutoMtls: false\ndefaultVirtualServiceExportTo: ['.']\n"
        core.replace_namespaced_config_map("istio", "istio-system", mesh)
        # Another ConfigMap changing in the same namespace is not the mesh config: the watch's field selector
        # keeps it out.
        core.create_namespaced_config_map("istio-system", {"metadata": {"name": "other"}, "data": {}})
        follow_watches(*args, **kwargs)

    monkeypatch.setattr(inventory.sync, "follow_watches", change_then_follow)
    # The watches run for the whole time given: long enough for 15 watch threads to connect on a busy machine.
    outcome = sync_cluster(cluster.pk, watch_seconds=WATCH_SECONDS)

    assert outcome.events_applied >= 1
    assert list(ConfigMap.objects.filter(cluster=cluster).values_list("name", flat=True)) == ["istio"]
    mesh = load_config_inventory(cluster).mesh
    assert mesh.enable_auto_mtls is False
    assert mesh.default_virtual_service_export_to == (".",)


def test_mesh_config_is_read_from_the_clusters_control_plane_namespace(cluster: Cluster) -> None:
    cluster.control_plane_namespace = "istio-prod"
    cluster.save()
    outcome = sync_cluster(cluster.pk)
    assert "meshconfig" in outcome.listed
    assert not ConfigMap.objects.filter(cluster=cluster).exists()
    # Without a mesh config, Istio's defaults, rooted in the control-plane namespace.
    assert load_config_inventory(cluster).mesh.root_namespace == "istio-prod"


def test_secret_names_are_synced_without_data_or_annotations(cluster: Cluster, simulator: Any) -> None:
    core = k8s.CoreV1Api(_api(simulator))
    core.create_namespaced_secret("bookinfo", _secret("shop-cert"))
    sync_cluster(cluster.pk)

    rows = {(s.namespace, s.name): s for s in SecretName.objects.filter(cluster=cluster)}
    assert set(rows) == {("istio-system", "istio-ca-secret"), ("bookinfo", "shop-cert")}
    shop = rows[("bookinfo", "shop-cert")]
    assert (shop.labels, shop.annotations) == ({"app": "shop"}, {})
    assert "c2VjcmV0" not in str(SecretName.objects.filter(cluster=cluster).values())
    secrets = load_config_inventory(cluster).secrets
    assert secrets is not None and {(s.namespace, s.name) for s in secrets} == set(rows)


def test_a_secret_deleted_while_watching_is_removed(
    cluster: Cluster, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = k8s.CoreV1Api(_api(simulator))
    core.create_namespaced_secret("bookinfo", _secret("shop-cert"))

    def change_then_follow(*args: Any, **kwargs: Any) -> None:
        core.delete_namespaced_secret("shop-cert", "bookinfo")
        core.create_namespaced_secret("bookinfo", _secret("shop-cert-2"))
        follow_watches(*args, **kwargs)

    monkeypatch.setattr(inventory.sync, "follow_watches", change_then_follow)
    sync_cluster(cluster.pk, watch_seconds=WATCH_SECONDS)

    names = set(SecretName.objects.filter(cluster=cluster, namespace="bookinfo").values_list("name", flat=True))
    assert names == {"shop-cert-2"}
    assert SecretName.objects.get(cluster=cluster, name="shop-cert-2").annotations == {}


def test_forbidden_secrets_keep_the_rows_and_leave_the_checks_without_secrets(cluster: Cluster, simulator: Any) -> None:
    sync_cluster(cluster.pk)
    assert load_config_inventory(cluster).secrets is not None

    simulator.faults.forbid("secrets")
    outcome = sync_cluster(cluster.pk)

    assert "403" in outcome.failed["secrets"]
    assert SecretName.objects.filter(cluster=cluster, name="istio-ca-secret").exists()
    assert SyncStatus.objects.get(cluster=cluster, kind="secrets").state == "failed"
    assert load_config_inventory(cluster).secrets is None


def test_request_authentication_and_gateway_api_objects_are_stored(cluster: Cluster, simulator: Any) -> None:
    custom = k8s.CustomObjectsApi(_api(simulator))
    custom.create_namespaced_custom_object(
        "security.istio.io",
        "v1",
        "bookinfo",
        "requestauthentications",
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "RequestAuthentication",
            "metadata": {"name": "jwt"},
            "spec": {"jwtRules": [{"issuer": "testing@secure.istio.io"}]},
        },
    )
    custom.create_namespaced_custom_object(GATEWAY_API, "v1", "bookinfo", "gateways", K8S_GATEWAY)
    custom.create_namespaced_custom_object(GATEWAY_API, "v1", "bookinfo", "httproutes", HTTP_ROUTE)
    sync_cluster(cluster.pk)

    stored = set(IstioObject.objects.filter(cluster=cluster).values_list("group", "kind", "name"))
    assert {
        ("security.istio.io", "RequestAuthentication", "jwt"),
        ("networking.istio.io", "Gateway", "bookinfo-gateway"),
        (GATEWAY_API, "Gateway", "bookinfo-gateway"),
        (GATEWAY_API, "HTTPRoute", "bookinfo"),
    } <= stored
    kinds = {(o.kind, o.name) for o in load_config_inventory(cluster).istio_objects}
    assert {("Gateway", "bookinfo-gateway"), ("K8sGateway", "bookinfo-gateway"), ("K8sHTTPRoute", "bookinfo")} <= kinds
    assert {s.kind: s.state for s in SyncStatus.objects.filter(cluster=cluster)}["httproutes"] == "ok"


def test_a_cluster_without_the_gateway_api_records_not_installed_and_loses_nothing(
    db: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    simulator = Simulator().start(port=0)
    try:
        kubeconfig = simulator.write_kubeconfig(tmp_path / "kubeconfig")
        cluster = Cluster.objects.create(name="sim", kubeconfig_path=str(kubeconfig))
        k8s.CustomObjectsApi(
            k8s_config.new_client_from_config(config_file=str(kubeconfig))
        ).create_namespaced_custom_object(GATEWAY_API, "v1", "bookinfo", "httproutes", HTTP_ROUTE)
        sync_cluster(cluster.pk)
        assert IstioObject.objects.filter(cluster=cluster, group=GATEWAY_API, kind="HTTPRoute").exists()

        simulator.remove_crds(GATEWAY_API)
        with caplog.at_level(logging.INFO, logger="inventory.sync"):
            first = sync_cluster(cluster.pk, watch_seconds=1)
            second = sync_cluster(cluster.pk)

        gateway_api_keys = {"k8sgateways", "httproutes", "grpcroutes", "referencegrants"}
        assert set(first.not_installed) == set(second.not_installed) == gateway_api_keys
        assert not gateway_api_keys & (set(first.failed) | set(first.listed))
        statuses = {s.kind: s for s in SyncStatus.objects.filter(cluster=cluster, kind__in=gateway_api_keys)}
        assert {s.state for s in statuses.values()} == {"absent"}
        assert all(s.last_error == "" and not s.watching for s in statuses.values())
        # Recorded, not a failure that deletes: the stored route stays.
        assert IstioObject.objects.filter(cluster=cluster, group=GATEWAY_API, kind="HTTPRoute").exists()
        # Said once, when the kinds went missing, and never as a warning.
        notes = [r for r in caplog.records if "not installed" in r.getMessage()]
        assert len(notes) == len(gateway_api_keys)
        assert all(r.levelno == logging.INFO for r in notes)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "httproutes" in r.getMessage()]

        simulator.install_crds(GATEWAY_API)
        third = sync_cluster(cluster.pk)
        assert gateway_api_keys <= set(third.listed)
        # Installed again, empty: the complete list now says the route is gone.
        assert not IstioObject.objects.filter(cluster=cluster, group=GATEWAY_API).exists()
    finally:
        simulator.stop()


def test_gateway_api_removed_while_watching_is_recorded_not_installed(
    cluster: Cluster, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def remove_then_follow(*args: Any, **kwargs: Any) -> None:
        simulator.remove_crds(GATEWAY_API)
        follow_watches(*args, **kwargs)

    monkeypatch.setattr(inventory.sync, "follow_watches", remove_then_follow)
    outcome = sync_cluster(cluster.pk, watch_seconds=WATCH_SECONDS)

    gateway_api_keys = {"k8sgateways", "httproutes", "grpcroutes", "referencegrants"}
    assert gateway_api_keys <= set(outcome.listed)  # listed before the CRDs went
    assert set(outcome.not_installed) == gateway_api_keys  # then their watches ended
    statuses = SyncStatus.objects.filter(cluster=cluster, kind__in=gateway_api_keys)
    assert {s.state for s in statuses} == {"absent"}
    assert SyncStatus.objects.get(cluster=cluster, kind="virtualservices").state == "ok"
