"""Reconcile loop of the simulator: the kube controller-manager and kubelet in one.

Deployments get a ReplicaSet ``{deployment}-{template-hash}``; ReplicaSets and
StatefulSets get their pods (instantly Running and Ready, with an ``istio-proxy``
sidecar in injection-enabled namespaces); Services get Endpoints from their ready
pods; statuses are kept current.  Every change goes through the
:class:`~simulator.store.ObjectStore` so watchers see ADDED/MODIFIED/DELETED events.

The pure builders (:func:`build_pod`, :func:`build_replicaset`, ...) are reused by
:mod:`simulator.synthetic` to produce identical object shapes without the loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import string
import threading
from collections.abc import Iterable
from typing import Any

from simulator.errors import Expired, StoreError
from simulator.resources import Obj
from simulator.selectors import labels_of, parse_label_selector
from simulator.store import ObjectStore, now_rfc3339

PROXY_IMAGE = "docker.io/istio/proxyv2:1.24.0"
NODES = ("sim-node-1", "sim-node-2", "sim-node-3")
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_POD_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


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


def _without_zeros(values: dict[str, int]) -> Obj:
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
        _without_zeros(
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
    status.update(
        _without_zeros({"fullyLabeledReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready})
    )
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


class Controller:
    """Keeps workloads, pods, statuses and endpoints converged with the desired state."""

    def __init__(self, store: ObjectStore, seed: int = 1) -> None:
        self.store = store
        self._random = random.Random(seed)
        self._lock = threading.RLock()
        self._ip_counter = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Run the reconcile loop in a daemon thread."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="simulator-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background loop."""
        self._stopping.set()
        self.store.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        last_rv = self.store.current_rv
        while not self._stopping.is_set():
            self.store.wait_for_change(last_rv, timeout=1.0)
            if self._stopping.is_set():
                return
            try:
                events = self.store.events_since(last_rv)
                namespaces: set[str] | None = set()
                for event in events:
                    group, plural, namespace, name = event.key
                    assert namespaces is not None
                    namespaces.add(name if plural == "namespaces" and not group else namespace)
                if events:
                    last_rv = events[-1].rv
            except Expired:
                namespaces, last_rv = None, self.store.current_rv
            if namespaces is None or namespaces:
                try:
                    self.reconcile(namespaces)
                except Exception:  # pragma: no cover - keep the loop alive whatever happens
                    continue

    # ------------------------------------------------------------------ reconcile
    def reconcile(self, namespaces: Iterable[str] | None = None) -> None:
        """Converge the given namespaces (all namespaces when None), synchronously."""
        with self._lock:
            if namespaces is None:
                namespaces = [ns["metadata"]["name"] for ns in self.store.list_refs("", "namespaces")[0]]
            for namespace in sorted(set(namespaces)):
                if namespace:
                    self._reconcile_namespace(namespace)

    def _next_ip(self) -> str:
        self._ip_counter += 1
        n = self._ip_counter
        return f"10.244.{(n // 250) % 256}.{n % 250 + 2}"

    def _pod_name(self, prefix: str) -> str:
        while True:
            name = prefix + "-" + "".join(self._random.choice(_POD_SUFFIX_ALPHABET) for _ in range(5))
            if self.store.find("", "pods", None, name) is None:
                return name

    def _safe(self, action: str, *args: Any) -> None:
        """Run a store write, ignoring races with concurrent API writes (next pass fixes them)."""
        with contextlib.suppress(StoreError):
            getattr(self.store, action)(*args)

    def _reconcile_namespace(self, namespace: str) -> None:
        store = self.store
        ns_obj = store.find("", "namespaces", None, namespace)
        if ns_obj is None:
            return
        deployments = store.list("apps", "deployments", namespace)
        deployment_uids = {d["metadata"]["uid"] for d in deployments}
        current_rs: dict[str, str] = {}
        for deployment in deployments:
            current_rs[deployment["metadata"]["uid"]] = self._sync_deployment_replicasets(deployment)
        replicasets = store.list("apps", "replicasets", namespace)
        statefulsets = store.list("apps", "statefulsets", namespace)
        owners = {o["metadata"]["uid"] for o in replicasets + statefulsets}
        # Garbage-collect orphans, like the garbage collector does for dependents.
        for rs in replicasets:
            owner = controller_uid(rs)
            if owner is not None and owner not in deployment_uids:
                self._safe("delete", "apps", "replicasets", namespace, rs["metadata"]["name"])
                owners.discard(rs["metadata"]["uid"])
        for pod in store.list("", "pods", namespace):
            owner = controller_uid(pod)
            if owner is not None and owner not in owners:
                self._safe("delete", "", "pods", namespace, pod["metadata"]["name"])
        pods_by_owner: dict[str, list[Obj]] = {}
        for pod in store.list("", "pods", namespace):
            pods_by_owner.setdefault(controller_uid(pod) or "", []).append(pod)
        for rs in store.list("apps", "replicasets", namespace):
            self._sync_replicaset(rs, ns_obj, pods_by_owner.get(rs["metadata"]["uid"], []))
        for sts in statefulsets:
            self._sync_statefulset(sts, ns_obj, pods_by_owner.get(sts["metadata"]["uid"], []))
        pods = store.list("", "pods", namespace)
        for deployment in deployments:
            self._update_deployment_status(deployment, current_rs[deployment["metadata"]["uid"]], pods)
        self._sync_endpoints(namespace, pods)

    def _sync_deployment_replicasets(self, deployment: Obj) -> str:
        """Ensure the ReplicaSet for the current template exists with the desired replicas; scale old ones to 0."""
        namespace = deployment["metadata"]["namespace"]
        pod_hash = template_hash((deployment.get("spec") or {}).get("template") or {})
        wanted = build_replicaset(deployment, pod_hash)
        name = wanted["metadata"]["name"]
        uid = deployment["metadata"]["uid"]
        for rs in self.store.list("apps", "replicasets", namespace):
            if controller_uid(rs) != uid:
                continue
            if rs["metadata"]["name"] == name:
                if rs["spec"].get("replicas") != wanted["spec"]["replicas"]:
                    rs["spec"]["replicas"] = wanted["spec"]["replicas"]
                    rs["metadata"].setdefault("annotations", {}).update(wanted["metadata"]["annotations"])
                    self._safe("update", rs)
            elif rs["spec"].get("replicas"):
                rs["spec"]["replicas"] = 0
                self._safe("update", rs)
        if self.store.find("apps", "replicasets", namespace, name) is None:
            self._safe("create", wanted)
        return name

    def _sync_replicaset(self, rs: Obj, ns_obj: Obj, pods: list[Obj]) -> None:
        desired = int(rs["spec"].get("replicas", 1))
        namespace = rs["metadata"]["namespace"]
        template = rs["spec"].get("template") or {}
        pods = sorted(pods, key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]))
        for _ in range(desired - len(pods)):
            pod = build_pod(
                name=self._pod_name(rs["metadata"]["name"]),
                namespace=namespace,
                template=template,
                owner=rs,
                extra_labels={},
                inject=should_inject(ns_obj, template),
                pod_ip=self._next_ip(),
                node=self._random.choice(NODES),
            )
            self._safe("create", pod)
        for pod in reversed(pods[desired:] if desired < len(pods) else []):
            self._safe("delete", "", "pods", namespace, pod["metadata"]["name"])
        ready = min(desired, sum(1 for p in pods if pod_is_ready(p)) + max(desired - len(pods), 0))
        fresh = self.store.find("apps", "replicasets", namespace, rs["metadata"]["name"])
        if fresh is not None:
            fresh["status"] = replicaset_status(fresh, desired, ready)
            self._safe("update", fresh)

    def _sync_statefulset(self, sts: Obj, ns_obj: Obj, pods: list[Obj]) -> None:
        desired = int((sts.get("spec") or {}).get("replicas", 1))
        meta = sts["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        template = sts["spec"].get("template") or {}
        revision = f"{name}-{template_hash(template)}"
        existing = {p["metadata"]["name"] for p in pods}
        for index in range(desired):
            pod_name = f"{name}-{index}"
            if pod_name not in existing:
                pod = build_pod(
                    name=pod_name,
                    namespace=namespace,
                    template=template,
                    owner=sts,
                    extra_labels={
                        "controller-revision-hash": revision,
                        "statefulset.kubernetes.io/pod-name": pod_name,
                        "apps.kubernetes.io/pod-index": str(index),
                    },
                    inject=should_inject(ns_obj, template),
                    pod_ip=self._next_ip(),
                    node=self._random.choice(NODES),
                )
                pod["spec"]["hostname"] = pod_name
                self._safe("create", pod)
        for pod in pods:
            suffix = pod["metadata"]["name"].rpartition("-")[2]
            if not suffix.isdigit() or int(suffix) >= desired:
                self._safe("delete", "", "pods", namespace, pod["metadata"]["name"])
        fresh = self.store.find("apps", "statefulsets", namespace, name)
        if fresh is not None:
            status: Obj = {"observedGeneration": int(fresh["metadata"].get("generation", 1)), "replicas": desired}
            status.update(
                _without_zeros(
                    {
                        "readyReplicas": desired,
                        "currentReplicas": desired,
                        "updatedReplicas": desired,
                        "availableReplicas": desired,
                    }
                )
            )
            status.update({"currentRevision": revision, "updateRevision": revision, "collisionCount": 0})
            fresh["status"] = status
            self._safe("update", fresh)

    def _update_deployment_status(self, deployment: Obj, rs_name: str, pods: list[Obj]) -> None:
        meta = deployment["metadata"]
        fresh = self.store.find("apps", "deployments", meta["namespace"], meta["name"])
        if fresh is None:
            return
        rs_uids = {
            rs["metadata"]["uid"]: rs["metadata"]["name"]
            for rs in self.store.list("apps", "replicasets", meta["namespace"])
            if controller_uid(rs) == meta["uid"]
        }
        owned = [p for p in pods if controller_uid(p) in rs_uids]
        updated = [p for p in owned if rs_uids[controller_uid(p) or ""] == rs_name]
        ready = sum(1 for p in owned if pod_is_ready(p))
        fresh["status"] = deployment_status(fresh, rs_name, len(owned), ready, len(updated))
        self._safe("update", fresh)

    def _sync_endpoints(self, namespace: str, pods: list[Obj]) -> None:
        services = self.store.list("", "services", namespace)
        names = set()
        for service in services:
            names.add(service["metadata"]["name"])
            if not (service.get("spec") or {}).get("selector"):
                continue
            wanted = build_endpoints(service, pods)
            current = self.store.find("", "endpoints", namespace, service["metadata"]["name"])
            if current is None:
                self._safe("create", wanted)
            elif current.get("subsets") != wanted.get("subsets") or current["metadata"].get("labels") != wanted[
                "metadata"
            ].get("labels"):
                current["subsets"] = wanted.get("subsets")
                if current["subsets"] is None:
                    del current["subsets"]
                if wanted["metadata"].get("labels"):
                    current["metadata"]["labels"] = wanted["metadata"]["labels"]
                self._safe("update", current)
        for endpoints in self.store.list("", "endpoints", namespace):
            if endpoints["metadata"]["name"] not in names:
                self._safe("delete", "", "endpoints", namespace, endpoints["metadata"]["name"])
