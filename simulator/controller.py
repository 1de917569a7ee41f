"""Reconcile loop of the simulator: the kube controller-manager and kubelet in one.

Deployments get a ReplicaSet ``{deployment}-{template-hash}``; ReplicaSets and
StatefulSets get their pods (instantly Running and Ready, with an ``istio-proxy``
sidecar in injection-enabled namespaces); Services get Endpoints from their ready
pods; statuses are kept current.  Every change goes through the
:class:`~simulator.store.ObjectStore` so watchers see ADDED/MODIFIED/DELETED events.

The objects themselves come from the pure builders of :mod:`simulator.replicas`
(re-exported here for existing imports).
"""

from __future__ import annotations

import contextlib
import random
import string
import threading
from collections.abc import Iterable
from typing import Any

from simulator.errors import Expired, StoreError
from simulator.replicas import (
    NODES,
    PROXY_IMAGE,
    build_endpoints,
    build_pod,
    build_replicaset,
    controller_uid,
    deployment_status,
    owner_reference,
    pod_is_ready,
    proxy_container,
    replicaset_status,
    should_inject,
    template_hash,
    without_zeros,
)
from simulator.resources import Obj
from simulator.store import ObjectStore

# Re-exported: these builders lived here before simulator.replicas existed.
__all__ = [
    "NODES",
    "PROXY_IMAGE",
    "Controller",
    "build_endpoints",
    "build_pod",
    "build_replicaset",
    "controller_uid",
    "deployment_status",
    "owner_reference",
    "pod_is_ready",
    "proxy_container",
    "replicaset_status",
    "should_inject",
    "template_hash",
]

_POD_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


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
                without_zeros(
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
