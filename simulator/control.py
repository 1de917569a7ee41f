"""Operator actions against a running simulator, through HTTP.

Cluster changes go through the official ``kubernetes`` client and a kubeconfig, so
watchers (mesh-ui) see them exactly as they would on a real cluster.  Traffic changes
(workload profiles, load) go to the simulator-only endpoints of :mod:`simulator.traffic_api`,
so a separately running ``python -m simulator serve`` can be driven too.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from simulator.resources import resource_type_for
from simulator.traffic_api import SIMULATOR_API_PREFIX


class SimulatorControlError(RuntimeError):
    """The simulator refused a control request (``status`` is the HTTP status, 0 when unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


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


def _send_object(api: client.ApiClient, path: str, method: str, obj: dict[str, Any]) -> None:
    api.call_api(
        path,
        method,
        body=obj,
        response_type="object",
        auth_settings=["BearerToken"],
        header_params={"Content-Type": "application/json"},
        _return_http_data_only=True,
    )


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
            _send_object(api, item, "PUT", obj)
            action = "configured"
        except ApiException as error:
            if error.status != 404:
                raise
            _send_object(api, collection, "POST", obj)
        meta = obj["metadata"]
        applied.append(f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']} {action}".replace("//", "/"))
    return applied


# --------------------------------------------------------------------------- traffic control surface


def base_url_from_kubeconfig(kubeconfig: str | os.PathLike[str], context: str | None = None) -> str:
    """The simulator's base URL: the server of the kubeconfig's (current) context."""
    with api_client(kubeconfig, context) as api:
        return str(api.configuration.host).rstrip("/")


def _call_simulator(
    base_url: str, method: str, path: str, payload: dict[str, Any] | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """One JSON request to ``/simulator/v1{path}``; raises :class:`SimulatorControlError` on any failure."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        base_url.rstrip("/") + SIMULATOR_API_PREFIX + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        try:
            message = str(json.loads(error.read()).get("error") or error.reason)
        except ValueError:
            message = str(error.reason)
        raise SimulatorControlError(error.code, message) from error
    except (urllib.error.URLError, OSError) as error:
        raise SimulatorControlError(0, f"simulator at {base_url} unreachable: {error}") from error


def _profile_path(namespace: str, workload: str) -> str:
    return f"/profiles/{quote(namespace, safe='')}/{quote(workload, safe='')}"


def get_profile(base_url: str, namespace: str, workload: str) -> dict[str, Any]:
    """The effective profile of one workload."""
    return _call_simulator(base_url, "GET", _profile_path(namespace, workload))


def set_profile(base_url: str, namespace: str, workload: str, **fields: float | int | None) -> dict[str, Any]:
    """Change the given profile fields of one workload (``None`` values are left out); returns the new profile.

    Fields: ``error_rate`` (0-1), ``error_code``, ``latency_ms``, ``latency_jitter``, ``response_bytes``.
    """
    changes = {name: value for name, value in fields.items() if value is not None}
    return _call_simulator(base_url, "PUT", _profile_path(namespace, workload), changes)


def reset_profile(base_url: str, namespace: str, workload: str) -> dict[str, Any]:
    """Return one workload to its default profile; returns it."""
    return _call_simulator(base_url, "DELETE", _profile_path(namespace, workload))


def list_profiles(base_url: str) -> list[dict[str, Any]]:
    """The effective profile of every deployed (or configured) workload."""
    return list(_call_simulator(base_url, "GET", "/profiles")["profiles"])


def get_traffic(base_url: str) -> dict[str, Any]:
    """The load settings and counters of the traffic engine."""
    return _call_simulator(base_url, "GET", "/traffic")


def set_traffic(base_url: str, rps: float | None = None, jason_share: float | None = None) -> dict[str, Any]:
    """Change the user request rate and/or the share of ``end-user: jason`` requests; returns the new state."""
    changes = {name: value for name, value in (("rps", rps), ("jason_share", jason_share)) if value is not None}
    return _call_simulator(base_url, "PUT", "/traffic", changes)


# --------------------------------------------------------------------------- fault control surface


def get_faults(base_url: str) -> dict[str, Any]:
    """The injected faults: ``forbidden`` plurals, ``latency_seconds`` and ``metrics_down``."""
    return _call_simulator(base_url, "GET", "/faults")


def set_faults(
    base_url: str,
    forbidden: list[str] | None = None,
    latency_seconds: float | None = None,
    metrics_down: bool | None = None,
) -> dict[str, Any]:
    """Replace the forbidden plurals, the latency of every request and/or whether the metrics endpoint is down
    (``None`` leaves it); returns the state."""
    changes: dict[str, Any] = {}
    if forbidden is not None:
        changes["forbidden"] = forbidden
    if latency_seconds is not None:
        changes["latency_seconds"] = latency_seconds
    if metrics_down is not None:
        changes["metrics_down"] = metrics_down
    return _call_simulator(base_url, "PUT", "/faults", changes)


def clear_faults(base_url: str) -> dict[str, Any]:
    """Remove every injected fault; returns the (empty) state."""
    return _call_simulator(base_url, "DELETE", "/faults")


def expire_watches(base_url: str, plural: str) -> None:
    """End every open watch of ``plural`` with 410 Gone (as after a compaction)."""
    _call_simulator(base_url, "POST", "/faults/expire-watches", {"plural": plural})


def drop_watches(base_url: str) -> None:
    """Close every open watch stream (clients reconnect)."""
    _call_simulator(base_url, "POST", "/faults/drop-watches", {})


def start_outage(base_url: str, seconds: float) -> None:
    """Take the API server down for ``seconds``; it comes back on the same port with the same objects."""
    _call_simulator(base_url, "POST", "/faults/outage", {"seconds": seconds})
