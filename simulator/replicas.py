"""Pure builders of the objects the controller and kubelet create: pods, ReplicaSets, statuses, Endpoints.

No store and no loop: every function takes plain Kubernetes dicts and returns new ones, so
:mod:`simulator.controller` (the reconcile loop) and :mod:`simulator.synthetic` (bulk
generation) produce identical object shapes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from simulator.resources import Obj
from simulator.selectors import labels_of, parse_label_selector
from simulator.store import now_rfc3339

PROXY_IMAGE = "docker.io/istio/proxyv2:1.24.0"
NODES = ("sim-node-1", "sim-node-2", "sim-node-3")
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Obj) -> str:
    """A stable 10-character hash of a pod template (like ``pod-template-hash``)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in digest[:10])


def owner_reference(owner: Obj) -> Obj:
    """A controller ownerReference pointing at ``owner``."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Obj) -> str | None:
    """uid of the controlling owner of ``obj``, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def should_inject(namespace: Obj | None, template: Obj) -> bool:
    """Istio's injection decision: namespace label ``istio-injection=enabled`` or pod label opt-in."""
    meta = template.get("metadata") or {}
    pod_flag = (meta.get("labels") or {}).get("sidecar.istio.io/inject") or (meta.get("annotations") or {}).get(
        "sidecar.istio.io/inject"
    )
    if pod_flag is not None and str(pod_flag).lower() == "false":
        return False
    if pod_flag is not None and str(pod_flag).lower() == "true":
        return True
    ns_labels = labels_of(namespace) if namespace else {}
    return ns_labels.get("istio-injection") == "enabled"


def proxy_container() -> Obj:
    """The ``istio-proxy`` sidecar container spec."""
    return {
        "name": "istio-proxy",
        "image": PROXY_IMAGE,
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        "imagePullPolicy": "IfNotPresent",
    }


def _container_status(container: Obj, started_at: str, seed: str) -> Obj:
    image = container.get("image", "")
    digest = hashlib.sha256(image.encode()).hexdigest()
    return {
        "name": container["name"],
        "image": image,
        "imageID": f"{image.split(':')[0]}@sha256:{digest}",
        "containerID": "containerd://" + hashlib.sha256((seed + container["name"]).encode()).hexdigest(),
        "ready": True,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": started_at}},
    }


def build_pod(
    *,
    name: str,
    namespace: str,
    template: Obj,
    owner: Obj,
    extra_labels: dict[str, str],
    inject: bool,
    pod_ip: str,
    node: str,
    now: str | None = None,
) -> Obj:
    """A Running, Ready pod created from ``template`` and controlled by ``owner``."""
    now = now or now_rfc3339()
    tmeta = template.get("metadata") or {}
    labels = {**(tmeta.get("labels") or {}), **extra_labels}
    annotations = dict(tmeta.get("annotations") or {})
    spec = json.loads(json.dumps(template.get("spec") or {}))
    spec.setdefault("containers", [])
    if inject:
        spec["containers"].append(proxy_container())
        labels.setdefault("security.istio.io/tlsMode", "istio")
        labels.setdefault("service.istio.io/canonical-name", labels.get("app", owner["metadata"]["name"]))
        labels.setdefault("service.istio.io/canonical-revision", labels.get("version", "latest"))
        annotations["sidecar.istio.io/status"] = json.dumps(
            {
                "initContainers": ["istio-init"],
                "containers": ["istio-proxy"],
                "volumes": ["istio-envoy", "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"],
                "imagePullSecrets": None,
                "revision": "default",
            },
            separators=(",", ":"),
        )
        annotations.setdefault("prometheus.io/scrape", "true")
        annotations.setdefault("prometheus.io/port", "15020")
        annotations.setdefault("prometheus.io/path", "/stats/prometheus")
        annotations.setdefault("kubectl.kubernetes.io/default-container", spec["containers"][0]["name"])
    spec["nodeName"] = node
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    meta: Obj = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
        "creationTimestamp": now,
    }
    if owner["kind"] == "ReplicaSet":
        meta["generateName"] = owner["metadata"]["name"] + "-"
    if annotations:
        meta["annotations"] = annotations
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    status = {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": _node_ip(node),
        "hostIPs": [{"ip": _node_ip(node)}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "qosClass": "Burstable",
        "containerStatuses": [_container_status(c, now, name) for c in spec["containers"]],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _node_ip(node: str) -> str:
    return f"172.18.0.{NODES.index(node) + 2 if node in NODES else 9}"


def build_replicaset(deployment: Obj, pod_hash: str) -> Obj:
    """The ReplicaSet a Deployment owns for its current template."""
    dmeta, dspec = deployment["metadata"], deployment.get("spec") or {}
    template = json.loads(json.dumps(dspec.get("template") or {}))
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), "pod-template-hash": pod_hash}
    selector = json.loads(json.dumps(dspec.get("selector") or {"matchLabels": {}}))
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{dmeta['name']}-{pod_hash}",
            "namespace": dmeta["namespace"],
            "labels": dict(tmeta["labels"]),
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": str(dspec.get("replicas", 1)),
                "deployment.kubernetes.io/revision": "1",
            },
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {"replicas": int(dspec.get("replicas", 1)), "selector": selector, "template": template},
    }


def without_zeros(values: dict[str, int]) -> Obj:
    """Kubernetes omits zero-valued replica counters (``omitempty``)."""
    return {k: v for k, v in values.items() if v}


def _merge_conditions(old: list[Obj], new: list[Obj], now: str) -> list[Obj]:
    """Keep transition timestamps of conditions whose status/reason did not change."""
    by_type = {c.get("type"): c for c in old or []}
    merged = []
    for cond in new:
        prev = by_type.get(cond["type"])
        if (
            prev
            and prev.get("status") == cond["status"]
            and prev.get("reason") == cond.get("reason")
            and prev.get("message") == cond.get("message")
        ):
            merged.append(prev)
        else:
            merged.append({**cond, "lastUpdateTime": now, "lastTransitionTime": now})
    return merged


def deployment_status(
    deployment: Obj, rs_name: str, replicas: int, ready: int, updated: int, now: str | None = None
) -> Obj:
    """The status block of a Deployment whose pods are all counted by the arguments."""
    now = now or now_rfc3339()
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    available = "True" if ready >= desired else "False"
    conditions = [
        {
            "type": "Available",
            "status": available,
            "reason": "MinimumReplicasAvailable" if available == "True" else "MinimumReplicasUnavailable",
            "message": "Deployment has minimum availability."
            if available == "True"
            else "Deployment does not have minimum availability.",
        },
        {
            "type": "Progressing",
            "status": "True",
            "reason": "NewReplicaSetAvailable",
            "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
        },
    ]
    old = (deployment.get("status") or {}).get("conditions") or []
    status: Obj = {"observedGeneration": int(deployment["metadata"].get("generation", 1))}
    status.update(
        without_zeros(
            {
                "replicas": replicas,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": max(desired - ready, 0),
            }
        )
    )
    status["conditions"] = _merge_conditions(old, conditions, now)
    return status


def replicaset_status(rs: Obj, replicas: int, ready: int) -> Obj:
    """The status block of a ReplicaSet."""
    status: Obj = {"replicas": replicas}
    status.update(without_zeros({"fullyLabeledReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready}))
    status["observedGeneration"] = int(rs["metadata"].get("generation", 1))
    return status


def pod_is_ready(pod: Obj) -> bool:
    """True when the pod's Ready condition is True and it is not terminating."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def build_endpoints(service: Obj, pods: Iterable[Obj]) -> Obj:
    """The Endpoints object of a selector-based Service, from the given pods."""
    smeta, sspec = service["metadata"], service.get("spec") or {}
    selector = parse_label_selector(sspec.get("selector") or {})
    ready = sorted((p for p in pods if selector(labels_of(p)) and pod_is_ready(p)), key=lambda p: p["metadata"]["name"])
    endpoints: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": smeta["name"], "namespace": smeta["namespace"]},
    }
    if smeta.get("labels"):
        endpoints["metadata"]["labels"] = dict(smeta["labels"])
    if ready:
        ports = []
        for port in sspec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            entry = {
                "port": target if isinstance(target, int) else _named_port(ready[0], target, port["port"]),
                "protocol": port.get("protocol", "TCP"),
            }
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        addresses = [
            {
                "ip": p["status"]["podIP"],
                "nodeName": p["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": p["metadata"]["namespace"],
                    "name": p["metadata"]["name"],
                    "uid": p["metadata"]["uid"],
                },
            }
            for p in ready
        ]
        endpoints["subsets"] = [{"addresses": addresses, "ports": ports}]
    return endpoints


def _named_port(pod: Obj, name: Any, default: int) -> int:
    for container in pod.get("spec", {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port["containerPort"])
    return default


def build_scale(deployment: Obj) -> Obj:
    """The ``autoscaling/v1`` Scale subresource view of a Deployment."""
    meta = deployment["metadata"]
    selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": int((deployment.get("spec") or {}).get("replicas", 1))},
        "status": {
            "replicas": int((deployment.get("status") or {}).get("replicas", 0)),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items())),
        },
    }
