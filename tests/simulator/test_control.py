"""The operator CLI (simulator.control / python -m simulator) against a running simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from simulator import Simulator, control
from simulator.__main__ import main

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-v1
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop, version: v1}
  template:
    metadata:
      labels: {app: shop, version: v1}
    spec:
      containers:
      - name: shop
        image: registry.local/shop:1
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: shop
spec:
  selector: {app: shop}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: shop
  namespace: shop
spec:
  host: shop
  subsets: [{name: v1, labels: {version: v1}}]
"""


def test_control_functions(api: client.ApiClient, tmp_path: Path, sim: Simulator):
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    control.add_namespace(api, "shop", inject=True)
    assert core.read_namespace("shop").metadata.labels["istio-injection"] == "enabled"
    manifest = tmp_path / "shop.yaml"
    manifest.write_text(MANIFEST)
    assert control.apply_manifests(api, manifest) == [
        "Deployment/shop/shop-v1 created",
        "Service/shop/shop created",
        "DestinationRule/shop/shop created",
    ]
    pods = core.list_namespaced_pod("shop").items
    assert len(pods) == 2 and all(len(p.spec.containers) == 2 for p in pods)
    assert core.read_namespaced_service("shop", "shop").spec.cluster_ip
    assert len(core.read_namespaced_endpoints("shop", "shop").subsets[0].addresses) == 2
    assert control.apply_manifests(api, manifest)[0] == "Deployment/shop/shop-v1 configured"
    assert control.scale_deployment(api, "shop", "shop-v1", 3) == 3
    assert len(core.list_namespaced_pod("shop").items) == 3
    killed = control.kill_pod(api, "shop", workload="shop-v1")
    names = {p.metadata.name for p in core.list_namespaced_pod("shop").items}
    assert killed not in names and len(names) == 3
    victim = sorted(names)[0]
    assert control.kill_pod(api, "shop", victim) == victim
    assert apps.read_namespaced_deployment("shop-v1", "shop").status.ready_replicas == 3


def test_cli_commands(kubeconfig: Path, core: client.CoreV1Api, capsys: pytest.CaptureFixture[str]):
    assert main(["--kubeconfig", str(kubeconfig), "scale", "bookinfo", "reviews-v3", "2"]) == 0
    assert "scaled to 2" in capsys.readouterr().out
    assert len(core.list_namespaced_pod("bookinfo", label_selector="version=v3").items) == 2
    assert main(["--kubeconfig", str(kubeconfig), "kill-pod", "bookinfo", "--workload", "reviews-v3"]) == 0
    assert len(core.list_namespaced_pod("bookinfo", label_selector="version=v3").items) == 2
    assert main(["--kubeconfig", str(kubeconfig), "add-namespace", "plain"]) == 0
    assert "istio-injection" not in (core.read_namespace("plain").metadata.labels or {})
