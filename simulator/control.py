"""Operator actions against a running simulator, through the real Kubernetes API.

Everything goes through the official ``kubernetes`` client and a kubeconfig, so
watchers (mesh-ui) see the changes exactly as they would on a real cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from simulator.resources import resource_type_for


def api_client(kubeconfig: str | os.PathLike[str], context: str | None = None) -> client.ApiClient:
    """An ApiClient configured from ``kubeconfig``."""
    return config.new_client_from_config(config_file=str(kubeconfig), context=context)


def scale_deployment(api: client.ApiClient, namespace: str, deployment: str, replicas: int) -> int:
    """Set a Deployment's replicas via the ``scale`` subresource; returns the new spec.replicas."""
    scale = client.AppsV1Api(api).patch_namespaced_deployment_scale(
        deployment, namespace, {"spec": {"replicas": replicas}}
    )
    return int(scale.spec.replicas)


def kill_pod(api: client.ApiClient, namespace: str, pod: str | None = None, workload: str | None = None) -> str:
    """Delete ``pod``, or one pod of Deployment ``workload``; returns the deleted pod's name."""
    core = client.CoreV1Api(api)
    if pod is None:
        if workload is None:
            raise ValueError("give a pod name or a workload")
        selector = client.AppsV1Api(api).read_namespaced_deployment(workload, namespace).spec.selector
        label_selector = ",".join(f"{k}={v}" for k, v in sorted((selector.match_labels or {}).items()))
        pods = core.list_namespaced_pod(namespace, label_selector=label_selector).items
        if not pods:
            raise LookupError(f"deployment {namespace}/{workload} has no pods")
        pod = str(pods[0].metadata.name)
    core.delete_namespaced_pod(pod, namespace)
    return pod


def add_namespace(api: client.ApiClient, name: str, inject: bool = False) -> str:
    """Create a Namespace, labelled ``istio-injection=enabled`` when ``inject``."""
    labels = {"istio-injection": "enabled"} if inject else {}
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    client.CoreV1Api(api).create_namespace(body)
    return name


def _object_path(obj: dict[str, Any], default_namespace: str) -> tuple[str, str]:
    """(collection path, item path) of a manifest on the API server."""
    rt = resource_type_for(obj)
    prefix = f"/apis/{obj['apiVersion']}" if rt.group else f"/api/{obj['apiVersion']}"
    meta = obj.setdefault("metadata", {})
    if rt.namespaced:
        meta.setdefault("namespace", default_namespace)
        prefix += f"/namespaces/{meta['namespace']}"
    collection = f"{prefix}/{rt.plural}"
    return collection, f"{collection}/{meta.get('name', '')}"


def apply_manifests(
    api: client.ApiClient, source: str | os.PathLike[str], default_namespace: str = "default", text: str | None = None
) -> list[str]:
    """Create or replace every document of a (multi-document) YAML file; returns ``kind/namespace/name`` lines.

    ``text`` may be given instead of reading ``source``.
    """
    documents = yaml.safe_load_all(text if text is not None else Path(source).read_text())
    applied = []
    for obj in documents:
        if not obj:
            continue
        collection, item = _object_path(obj, default_namespace)
        action = "created"
        try:
            current = api.call_api(
                item, "GET", response_type="object", auth_settings=["BearerToken"], _return_http_data_only=True
            )
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            api.call_api(
                item,
                "PUT",
                body=obj,
                response_type="object",
                auth_settings=["BearerToken"],
                header_params={"Content-Type": "application/json"},
                _return_http_data_only=True,
            )
            action = "configured"
        except ApiException as error:
            if error.status != 404:
                raise
            api.call_api(
                collection,
                "POST",
                body=obj,
                response_type="object",
                auth_settings=["BearerToken"],
                header_params={"Content-Type": "application/json"},
                _return_http_data_only=True,
            )
        meta = obj["metadata"]
        applied.append(f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']} {action}".replace("//", "/"))
    return applied
