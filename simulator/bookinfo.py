"""Seed topology of the simulator: an Istio control plane plus the Bookinfo sample app.

Objects are built here as dicts (our own data, not Istio's manifests); pods are
created afterwards by the :class:`~simulator.controller.Controller`.
"""

from __future__ import annotations

import base64

import yaml

from simulator.resources import Obj
from simulator.store import ObjectStore

ISTIO_NAMESPACE = "istio-system"
ISTIO_VERSION = "1.24.0"
BOOKINFO_PORT = 9080


def namespace(name: str, labels: dict[str, str] | None = None) -> Obj:
    """A Namespace object."""
    meta: Obj = {"name": name, "labels": {"kubernetes.io/metadata.name": name, **(labels or {})}}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta,
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def deployment(
    name: str,
    ns: str,
    labels: dict[str, str],
    image: str,
    ports: list[Obj],
    service_account: str,
    replicas: int = 1,
    annotations: dict[str, str] | None = None,
    container_name: str | None = None,
) -> Obj:
    """A Deployment whose pods carry ``labels`` and run one container ``image`` (named after ``app``)."""
    container_name = container_name or labels.get("app", name)
    template_meta: Obj = {"labels": dict(labels)}
    if annotations:
        template_meta["annotations"] = dict(annotations)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": template_meta,
                "spec": {
                    "serviceAccountName": service_account,
                    "containers": [
                        {"name": container_name, "image": image, "imagePullPolicy": "IfNotPresent", "ports": ports}
                    ],
                },
            },
        },
    }


def service(
    name: str,
    ns: str,
    selector: dict[str, str],
    ports: list[Obj],
    labels: dict[str, str] | None = None,
    service_type: str = "ClusterIP",
    cluster_ip: str = "",
) -> Obj:
    """A Service selecting pods by ``selector``."""
    spec: Obj = {
        "type": service_type,
        "selector": dict(selector),
        "ports": ports,
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
    }
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
        spec["clusterIPs"] = [cluster_ip]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {"app": name})},
        "spec": spec,
    }


def _port(name: str, port: int, target: int | None = None, protocol: str = "TCP") -> Obj:
    return {"name": name, "port": port, "targetPort": target or port, "protocol": protocol}


def config_map(name: str, ns: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Obj:
    """A ConfigMap."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
        "data": data,
    }


def secret(name: str, ns: str, secret_type: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Obj:
    """A Secret; ``data`` is given as text and stored base64-encoded, as the API server keeps it."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
        "type": secret_type,
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def mesh_config(ns: str = ISTIO_NAMESPACE) -> Obj:
    """The ``istio`` ConfigMap istiod reads its mesh config from, as a default ``istioctl install`` writes it."""
    mesh = {
        "accessLogFile": "/dev/stdout",
        "defaultConfig": {
            "discoveryAddress": f"istiod.{ns}.svc:15012",
            "tracing": {"zipkin": {"address": f"zipkin.{ns}:9411"}},
        },
        "defaultProviders": {"metrics": ["prometheus"]},
        "enablePrometheusMerge": True,
        "rootNamespace": ns,
        "trustDomain": "cluster.local",
    }
    return config_map(
        "istio",
        ns,
        {"mesh": yaml.safe_dump(mesh, sort_keys=True), "meshNetworks": "networks: {}\n"},
        labels={"app": "istiod", "istio.io/rev": "default", "release": "istio"},
    )


_SIMULATED_PEM = (
    "-----BEGIN CERTIFICATE-----\nc2ltdWxhdGVkLCBub3QgYSByZWFsIGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n"
)


def root_cert(ns: str) -> Obj:
    """The ``istio-ca-root-cert`` ConfigMap istiod writes into every namespace (a placeholder certificate)."""
    return config_map("istio-ca-root-cert", ns, {"root-cert.pem": _SIMULATED_PEM}, labels={"istio.io/config": "true"})


def istio_control_plane(ns: str = ISTIO_NAMESPACE) -> list[Obj]:
    """istiod, ingress/egress gateways and Prometheus, with their Services."""
    proxy = f"docker.io/istio/proxyv2:{ISTIO_VERSION}"
    no_inject = {"sidecar.istio.io/inject": "false"}
    gateways = []
    for kind, svc_type, ip in (("ingress", "LoadBalancer", "10.96.10.10"), ("egress", "ClusterIP", "10.96.10.11")):
        app = f"istio-{kind}gateway"
        labels = {"app": app, "istio": f"{kind}gateway"}
        gateways.append(
            deployment(
                app,
                ns,
                labels,
                proxy,
                [
                    {"containerPort": 8080, "protocol": "TCP"},
                    {"containerPort": 8443, "protocol": "TCP"},
                    {"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"},
                ],
                f"{app}-service-account",
                annotations=no_inject,
                container_name="istio-proxy",
            )
        )
        gateways.append(
            service(
                app,
                ns,
                labels,
                [_port("status-port", 15021), _port("http2", 80, 8080), _port("https", 443, 8443)],
                labels=labels,
                service_type=svc_type,
                cluster_ip=ip,
            )
        )
    istiod_labels = {"app": "istiod", "istio": "pilot"}
    prometheus_labels = {"app": "prometheus"}
    return [
        namespace(ns),
        mesh_config(ns),
        root_cert(ns),
        # istiod's self-signed CA (placeholders: the simulator issues no certificates).
        secret(
            "istio-ca-secret",
            ns,
            "istio.io/ca-root",
            {"ca-cert.pem": _SIMULATED_PEM, "ca-key.pem": "simulated, not a real key", "cert-chain.pem": ""},
        ),
        deployment(
            "istiod",
            ns,
            istiod_labels,
            f"docker.io/istio/pilot:{ISTIO_VERSION}",
            [{"containerPort": 15010, "protocol": "TCP"}, {"containerPort": 15017, "protocol": "TCP"}],
            "istiod",
            annotations=no_inject,
        ),
        service(
            "istiod",
            ns,
            istiod_labels,
            [
                _port("grpc-xds", 15010),
                _port("https-dns", 15012),
                _port("https-webhook", 443, 15017),
                _port("http-monitoring", 15014),
            ],
            labels=istiod_labels,
            cluster_ip="10.96.10.2",
        ),
        *gateways,
        deployment(
            "prometheus",
            ns,
            prometheus_labels,
            "prom/prometheus:v2.54.1",
            [{"containerPort": 9090, "protocol": "TCP"}],
            "prometheus",
            annotations=no_inject,
        ),
        service("prometheus", ns, prometheus_labels, [_port("http", 9090)], cluster_ip="10.96.10.3"),
    ]


BOOKINFO_WORKLOADS = (
    ("productpage", "v1"),
    ("details", "v1"),
    ("reviews", "v1"),
    ("reviews", "v2"),
    ("reviews", "v3"),
    ("ratings", "v1"),
)

_BOOKINFO_ROUTES = (
    ("exact", "/productpage"),
    ("prefix", "/static"),
    ("exact", "/login"),
    ("exact", "/logout"),
    ("prefix", "/api/v1/products"),
)


def bookinfo_app(ns: str = "bookinfo") -> list[Obj]:
    """The Bookinfo namespace (sidecar injection on), its workloads, services, gateway and virtual service."""
    objects: list[Obj] = [namespace(ns, {"istio-injection": "enabled"}), root_cert(ns)]
    for index, app in enumerate(("productpage", "details", "reviews", "ratings")):
        objects.append(
            service(
                app,
                ns,
                {"app": app},
                [_port("http", BOOKINFO_PORT)],
                labels={"app": app, "service": app},
                cluster_ip=f"10.96.20.{index + 10}",
            )
        )
    for app, version in BOOKINFO_WORKLOADS:
        labels = {"app": app, "version": version}
        image = f"docker.io/istio/examples-bookinfo-{app}-{version}:1.20.2"
        objects.append(
            deployment(
                f"{app}-{version}",
                ns,
                labels,
                image,
                [{"containerPort": BOOKINFO_PORT, "protocol": "TCP"}],
                f"bookinfo-{app}",
            )
        )
    objects.append(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "bookinfo-gateway", "namespace": ns},
            "spec": {
                "selector": {"istio": "ingressgateway"},
                "servers": [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
            },
        }
    )
    objects.append(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "bookinfo", "namespace": ns},
            "spec": {
                "hosts": ["*"],
                "gateways": ["bookinfo-gateway"],
                "http": [
                    {
                        "match": [{"uri": {kind: path}} for kind, path in _BOOKINFO_ROUTES],
                        "route": [{"destination": {"host": "productpage", "port": {"number": BOOKINFO_PORT}}}],
                    }
                ],
            },
        }
    )
    return objects


def load_bookinfo(store: ObjectStore, ns: str = "bookinfo") -> None:
    """Create the control plane and Bookinfo objects in ``store`` (pods come from the controller)."""
    for obj in (namespace("default"), *istio_control_plane(), *bookinfo_app(ns)):
        store.create(obj)
