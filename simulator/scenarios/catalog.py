"""The demo scenarios: the messy traffic of real meshes, each opt-in next to the Bookinfo default.

Each scenario adds its Kubernetes and Istio objects to the store (so the inventory sees them) and its
:class:`~simulator.scenarios.flows.Flow` list (what the proxies report, at fixed rates).  The rates are small next to
Bookinfo's and exact, so the tests and ``devtools/scenario_graph.py`` know every number of the graph.
"""

from __future__ import annotations

from simulator.bookinfo import BOOKINFO_PORT, ISTIO_NAMESPACE, deployment, namespace, service
from simulator.metrics import UNKNOWN, PeerLabels, ServiceLabels
from simulator.resources import Obj
from simulator.scenarios.flows import (
    HOME_CLUSTER,
    TRUST_DOMAIN,
    UNKNOWN_CALLER,
    Flow,
    Report,
    no_workload,
    peer,
)
from simulator.scenarios.flows import service as service_labels

MTLS = "mutual_tls"
WEST = "west"
AMBIENT_NAMESPACE = "ambient-shop"
WAYPOINT = "waypoint"
EXTERNAL_HOST = "api.weather.example.com"
UNKNOWN_HOST = "nosuch.example.com"
EGRESS = "istio-egressgateway"
INGRESS = "istio-ingressgateway"
#: Istio's `reporter` of an ambient waypoint proxy, and the pods standing for the proxies that report.
WAYPOINT_REPORTER = "waypoint"
ZTUNNEL_POD = "ztunnel-sim"
#: The scrape target label of the ztunnel pod (its pod label ``app``, as Prometheus' relabelling copies it).
ZTUNNEL_TARGET = (("app", "ztunnel"),)


def _bookinfo(app: str, ns: str, version: str = "v1", cluster: str = HOME_CLUSTER) -> PeerLabels:
    return peer(f"{app}-{version}", ns, app, version, cluster, account=f"bookinfo-{app}")


def _gateway(name: str) -> PeerLabels:
    """An Istio gateway as its proxy names itself: no version label, canonical revision ``latest``."""
    principal = f"spiffe://{TRUST_DOMAIN}/ns/{ISTIO_NAMESPACE}/sa/{name}-service-account"
    return PeerLabels(name, ISTIO_NAMESPACE, principal, name, UNKNOWN, name, "latest", HOME_CLUSTER)


def _pod(workload: str) -> str:
    return f"{workload}-scenario"


def _app(name: str, ns: str, port: int = 8080, extra: dict[str, str] | None = None) -> list[Obj]:
    """A Deployment ``<name>-v1`` and its Service ``<name>``."""
    version = "v1"
    labels = {"app": name, "version": version, **(extra or {})}
    port_spec = {"containerPort": port, "protocol": "TCP"}
    return [
        deployment(f"{name}-{version}", ns, labels, f"example.com/{name}:1.0", [port_spec], name),
        service(name, ns, {"app": name}, [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}]),
    ]


def no_sidecar(ns: str) -> tuple[list[Obj], list[Flow]]:
    """Workloads without a sidecar: productpage calls ``legacy-reports`` (only productpage's proxy reports it) and
    ``legacy-cron`` calls details (only details' proxy reports it, with an ``unknown`` caller)."""
    opt_out = {"sidecar.istio.io/inject": "false"}
    objects = [*_app("legacy-reports", ns, extra=opt_out)]
    cron_labels = {"app": "legacy-cron", "version": "v1", **opt_out}
    objects.append(deployment("legacy-cron-v1", ns, cron_labels, "example.com/cron:1", [], "cron"))
    productpage, details = _bookinfo("productpage", ns), _bookinfo("details", ns)
    reports = peer("legacy-reports-v1", ns, "legacy-reports")
    flows = [
        Flow(productpage, reports, service_labels("legacy-reports", ns), 1.0, (Report("source", _pod("productpage")),)),
        Flow(
            UNKNOWN_CALLER,
            details,
            service_labels("details", ns),
            0.5,
            (Report("destination", _pod("details"), "none"),),
        ),
    ]
    return objects, flows


def egress(ns: str) -> tuple[list[Obj], list[Flow]]:
    """An external API declared by a ServiceEntry and reached through the egress gateway (reviews-v3 -> egress
    gateway -> ``api.weather.example.com``), plus ratings calling the egress gateway's host with telemetry that names
    that host as the service and no workload (Kiali's egress-gateway heuristic puts it on the gateway)."""
    objects: list[Obj] = [
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": "weather-api", "namespace": ns},
            "spec": {
                "hosts": [EXTERNAL_HOST],
                "location": "MESH_EXTERNAL",
                "resolution": "DNS",
                "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            },
        },
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "weather-egress", "namespace": ns},
            "spec": {
                "selector": {"istio": "egressgateway"},
                "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [EXTERNAL_HOST]}],
            },
        },
    ]
    gateway = _gateway(EGRESS)
    egress_service = service_labels(EGRESS, ISTIO_NAMESPACE)
    external = ServiceLabels(EXTERNAL_HOST, EXTERNAL_HOST, ns)
    quirk = ServiceLabels(egress_service.fqdn, egress_service.fqdn, UNKNOWN)
    reviews = _bookinfo("reviews", ns, "v3")
    flows = [
        Flow(reviews, gateway, egress_service, 0.5, (Report("source", _pod("reviews-v3"), UNKNOWN),)),
        Flow(gateway, no_workload(), external, 0.5, (Report("source", _pod(EGRESS)),)),
        Flow(_bookinfo("ratings", ns), no_workload(), quirk, 0.25, (Report("source", _pod("ratings-v1")),)),
    ]
    return objects, flows


def unknown_host(ns: str) -> tuple[list[Obj], list[Flow]]:
    """Requests Envoy could not route: a ``404 NR`` to an unknown host, requests to a raw IP let through by
    ``PassthroughCluster``, and a burst of telemetry naming a pod's IP as the service (pod lifecycle; dropped)."""
    unknown_service = ServiceLabels(UNKNOWN_HOST, UNKNOWN, UNKNOWN)
    passthrough = ServiceLabels("203.0.113.7:80", "PassthroughCluster", UNKNOWN)
    raw_ip = ServiceLabels("10.244.1.17:9080", "10.244.1.17:9080", UNKNOWN)
    productpage, details = _bookinfo("productpage", ns), _bookinfo("details", ns)
    flows = [
        Flow(productpage, no_workload(), unknown_service, 0.5, (Report("source", _pod("productpage")),), "404", "NR"),
        Flow(details, no_workload(), passthrough, 0.3, (Report("source", _pod("details")),)),
        Flow(details, no_workload(), raw_ip, 0.1, (Report("source", _pod("details")),)),
    ]
    return [], flows


def aborted(ns: str) -> tuple[list[Obj], list[Flow]]:
    """Requests that ended before a response (``response_code="0"``): productpage's calls to details the client gave
    up on (``DC``, both proxies report), and reviews-v2's calls to ratings whose upstream reset (``URX``, only the
    caller's proxy reports)."""
    productpage, details = _bookinfo("productpage", ns), _bookinfo("details", ns)
    reviews, ratings = _bookinfo("reviews", ns, "v2"), _bookinfo("ratings", ns)
    flows = [
        Flow(
            productpage,
            details,
            service_labels("details", ns),
            0.5,
            (Report("source", _pod("productpage")), Report("destination", _pod("details"), MTLS)),
            "0",
            "DC",
        ),
        Flow(reviews, ratings, service_labels("ratings", ns), 0.3, (Report("source", _pod("reviews-v2")),), "0", "URX"),
    ]
    return [], flows


def ambient(ns: str) -> tuple[list[Obj], list[Flow]]:
    """An ambient namespace (no sidecars) with ztunnel and a waypoint: the ingress gateway calls web, web calls cart
    through the waypoint (L7 reported by the waypoint, L4 by ztunnel: web -> waypoint -> cart), cart talks TCP to db
    (no waypoint: ztunnel reports it from both ends)."""
    amb = AMBIENT_NAMESPACE
    objects: list[Obj] = [
        namespace(amb, {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": WAYPOINT}),
        *_app("web", amb),
        *_app("cart", amb),
        *_app("db", amb, port=5432),
        deployment(
            WAYPOINT,
            amb,
            {
                "gateway.istio.io/managed": "istio.io-mesh-controller",
                "gateway.networking.k8s.io/gateway-name": WAYPOINT,
            },
            "docker.io/istio/proxyv2:1.24.0",
            [{"containerPort": 15008, "protocol": "TCP"}],
            WAYPOINT,
            container_name="istio-proxy",
        ),
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": WAYPOINT, "namespace": amb, "labels": {"istio.io/waypoint-for": "service"}},
            "spec": {
                "gatewayClassName": "istio-waypoint",
                "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
            },
        },
    ]
    web, cart, db = peer("web-v1", amb, "web"), peer("cart-v1", amb, "cart"), peer("db-v1", amb, "db")
    principal = f"spiffe://{TRUST_DOMAIN}/ns/{amb}/sa/{WAYPOINT}"
    waypoint = PeerLabels(WAYPOINT, amb, principal, UNKNOWN, UNKNOWN, WAYPOINT, "latest", HOME_CLUSTER)
    ingress = _gateway(INGRESS)
    web_service, cart_service = service_labels("web", amb), service_labels("cart", amb)
    at_waypoint = Report(WAYPOINT_REPORTER, _pod(WAYPOINT), MTLS)
    # ztunnel's series carry its pod's app="ztunnel" as Prometheus stores them (Kiali's ambientTraffic marker).
    ztunnel_source = Report("source", ZTUNNEL_POD, MTLS, ZTUNNEL_TARGET)
    ztunnel_destination = Report("destination", ZTUNNEL_POD, MTLS, ZTUNNEL_TARGET)
    flows = [
        # The ingress gateway's own report and the waypoint's: one request, counted once (the waypoint's).
        Flow(ingress, web, web_service, 2.0, (Report("source", _pod(INGRESS), UNKNOWN), at_waypoint)),
        Flow(web, cart, cart_service, 3.0, (at_waypoint,)),
        Flow(web, cart, cart_service, 0.3, (at_waypoint,), "503", "UF"),
        # L4 through the waypoint, as ztunnel reports it: web's ztunnel sends to the waypoint, cart's receives from it.
        Flow(web, waypoint, cart_service, 3.3, (ztunnel_source,), None, sent=4000, received=900),
        Flow(waypoint, cart, cart_service, 3.3, (ztunnel_destination,), None, sent=4000, received=900),
        # cart -> db without a waypoint: both ztunnels report the connection.
        Flow(
            cart,
            db,
            service_labels("db", amb),
            1.0,
            (ztunnel_source, ztunnel_destination),
            None,
            sent=6000,
            received=2000,
        ),
    ]
    return objects, flows


def east_west(ns: str) -> tuple[list[Obj], list[Flow]]:
    """A second cluster of the same mesh (``west``, reached through the east-west gateway): reviews-v3 calls the
    ratings of west, reported by both sidecars into one Prometheus; and a proxy of the home cluster that reports
    ``destination_cluster="unknown"`` (Istio#29373) for its calls to details."""
    objects = [
        deployment(
            "istio-eastwestgateway",
            ISTIO_NAMESPACE,
            {"app": "istio-eastwestgateway", "istio": "eastwestgateway", "topology.istio.io/network": "network1"},
            "docker.io/istio/proxyv2:1.24.0",
            [{"containerPort": 15443, "protocol": "TCP"}],
            "istio-eastwestgateway-service-account",
            annotations={"sidecar.istio.io/inject": "false"},
            container_name="istio-proxy",
        ),
        service(
            "istio-eastwestgateway",
            ISTIO_NAMESPACE,
            {"istio": "eastwestgateway"},
            [{"name": "tls", "port": 15443, "targetPort": 15443, "protocol": "TCP"}],
            service_type="LoadBalancer",
        ),
    ]
    reviews, ratings_west = _bookinfo("reviews", ns, "v3"), _bookinfo("ratings", ns, cluster=WEST)
    productpage = _bookinfo("productpage", ns)
    details_unknown_cluster = _bookinfo("details", ns, cluster=UNKNOWN)
    ratings_service = ServiceLabels(f"ratings.{ns}.svc.cluster.local", "ratings", ns)
    flows = [
        Flow(
            reviews,
            ratings_west,
            ratings_service,
            1.0,
            (Report("source", _pod("reviews-v3")), Report("destination", "ratings-v1-west", MTLS)),
        ),
        Flow(productpage, details_unknown_cluster, service_labels("details", ns), 0.2, (Report("source", _pod("pp")),)),
    ]
    return objects, flows


#: Every scenario by name, in the order ``--scenario all`` installs them.
CATALOG = {
    "no-sidecar": no_sidecar,
    "egress": egress,
    "unknown-host": unknown_host,
    "aborted": aborted,
    "ambient": ambient,
    "east-west": east_west,
}

__all__ = ["AMBIENT_NAMESPACE", "BOOKINFO_PORT", "CATALOG", "WEST"]
