"""Literal Bookinfo objects and a tiny in-memory ``read_objects`` for the traffic engine tests."""

from __future__ import annotations

import copy
from typing import Any

NS = "bookinfo"
Obj = dict[str, Any]


def deployment(app: str, version: str, ns: str = NS, extra_labels: dict[str, str] | None = None) -> Obj:
    labels = {"app": app, "version": version, **(extra_labels or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{app}-{version}", "namespace": ns, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}},
        },
    }


def pod(
    app: str,
    version: str,
    ns: str = NS,
    *,
    suffix: str = "abcde",
    ready: bool = True,
    sidecar: bool = True,
    service_account: str | None = None,
) -> Obj:
    containers = [{"name": app, "image": f"bookinfo-{app}-{version}"}]
    if sidecar:
        containers.append({"name": "istio-proxy", "image": "istio/proxyv2"})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-{version}-5b86b5f4c7-{suffix}",
            "namespace": ns,
            "labels": {"app": app, "version": version, "pod-template-hash": "5b86b5f4c7"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"{app}-{version}-5b86b5f4c7"}],
        },
        "spec": {"serviceAccountName": service_account or f"bookinfo-{app}", "containers": containers},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def service(name: str, port: int = 9080, ns: str = NS, port_name: str = "http") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": {"selector": {"app": name}, "ports": [{"name": port_name, "port": port}]},
    }


BOOKINFO_WORKLOADS = (
    ("productpage", "v1"),
    ("details", "v1"),
    ("reviews", "v1"),
    ("reviews", "v2"),
    ("reviews", "v3"),
    ("ratings", "v1"),
)


def bookinfo(ns: str = NS, with_gateway: bool = True, with_mongodb: bool = False) -> dict[str, list[Obj]]:
    """Objects by plural: Bookinfo workloads/pods/services (+ the ingress gateway, + mongodb)."""
    objects: dict[str, list[Obj]] = {
        plural: []
        for plural in (
            "deployments",
            "pods",
            "services",
            "virtualservices",
            "destinationrules",
            "namespaces",
            "serviceentries",
            "peerauthentications",
        )
    }
    objects["namespaces"] = [{"metadata": {"name": ns}}, {"metadata": {"name": "istio-system"}}]
    workloads = list(BOOKINFO_WORKLOADS) + ([("mongodb", "v1")] if with_mongodb else [])
    for app, version in workloads:
        objects["deployments"].append(deployment(app, version, ns))
        objects["pods"].append(pod(app, version, ns))
    for name in ("productpage", "details", "reviews", "ratings"):
        objects["services"].append(service(name, ns=ns))
    if with_mongodb:
        objects["services"].append(service("mongodb", 27017, ns, port_name="tcp-mongo"))
    if with_gateway:
        gateway_labels = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
        objects["deployments"].append(
            {
                "metadata": {
                    "name": "istio-ingressgateway",
                    "namespace": "istio-system",
                    "labels": gateway_labels,
                },
                "spec": {"selector": {"matchLabels": gateway_labels}},
            }
        )
        objects["pods"].append(
            {
                "metadata": {
                    "name": "istio-ingressgateway-7d4f8c9b5-x2x2x",
                    "namespace": "istio-system",
                    "labels": dict(gateway_labels),
                },
                "spec": {
                    "serviceAccountName": "istio-ingressgateway-service-account",
                    "containers": [{"name": "istio-proxy", "image": "istio/proxyv2"}],
                },
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            }
        )
    return objects


def virtual_service(
    host: str, http: list[Obj], name: str | None = None, ns: str = NS, created: str = "2024-01-01T00:00:00Z"
) -> Obj:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name or host, "namespace": ns, "creationTimestamp": created},
        "spec": {"hosts": [host], "http": http},
    }


def destination_rule(
    host: str, versions: tuple[str, ...] = ("v1", "v2", "v3"), ns: str = NS, traffic_policy: Obj | None = None
) -> Obj:
    spec: Obj = {"host": host, "subsets": [{"name": v, "labels": {"version": v}} for v in versions]}
    if traffic_policy:
        spec["trafficPolicy"] = traffic_policy
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": host, "namespace": ns},
        "spec": spec,
    }


def all_destination_rules(ns: str = NS) -> list[Obj]:
    """``destination-rule-all.yaml``: subsets for every Bookinfo service."""
    return [
        destination_rule("productpage", ("v1",), ns),
        destination_rule("reviews", ns=ns),
        destination_rule("ratings", ("v1", "v2", "v2-mysql", "v2-mysql-vm"), ns),
        destination_rule("details", ("v1", "v2"), ns),
    ]


def route_to(host: str, subset: str | None = None, weight: int | None = None) -> Obj:
    destination: Obj = {"host": host}
    if subset:
        destination["subset"] = subset
    entry: Obj = {"destination": destination}
    if weight is not None:
        entry["weight"] = weight
    return entry


class FakeCluster:
    """In-memory objects by plural; ``read_objects`` returns deep copies like an API client would."""

    def __init__(self, objects: dict[str, list[Obj]]) -> None:
        self.objects = objects
        self.reads: list[str] = []

    def read_objects(self, plural: str) -> list[Obj]:
        self.reads.append(plural)
        return copy.deepcopy(self.objects.get(plural, []))

    def apply(self, plural: str, obj: Obj) -> None:
        name, ns = obj["metadata"]["name"], obj["metadata"].get("namespace")
        self.objects[plural] = [
            o for o in self.objects[plural] if (o["metadata"]["name"], o["metadata"].get("namespace")) != (name, ns)
        ]
        self.objects[plural].append(obj)
