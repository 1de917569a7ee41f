"""Which services and workloads an Istio object routes to or selects."""

from __future__ import annotations

from istio_config.checks import ConfigInventory, IstioConfig, ServiceInfo, WorkloadInfo
from istio_config.targets import TargetIndex

INVENTORY = ConfigInventory(
    services=(
        ServiceInfo("bookinfo", "reviews", selector={"app": "reviews"}),
        ServiceInfo("bookinfo", "ratings", selector={"app": "ratings"}),
        ServiceInfo("shop", "cart", selector={}),
    ),
    workloads=(
        WorkloadInfo("bookinfo", "reviews-v1", {"app": "reviews", "version": "v1"}),
        WorkloadInfo("bookinfo", "ratings-v1", {"app": "ratings", "version": "v1"}),
        WorkloadInfo("istio-system", "ingress", {"istio": "ingressgateway"}),
        WorkloadInfo("shop", "ingress", {"istio": "ingressgateway"}),
    ),
)


def test_a_virtual_service_concerns_its_hosts_destinations_and_their_workloads() -> None:
    routes = IstioConfig(
        "VirtualService",
        "bookinfo",
        "reviews",
        {
            "hosts": ["reviews"],
            "http": [{"route": [{"destination": {"host": "ratings.bookinfo.svc.cluster.local"}}]}],
            "tcp": [{"route": [{"destination": {"host": "cart.shop"}}]}],
        },
    )
    targets = TargetIndex(INVENTORY).compute_targets(routes)
    assert targets.services == {("bookinfo", "reviews"), ("bookinfo", "ratings")}  # cart.shop is not an FQDN
    assert targets.workloads == {("bookinfo", "reviews-v1"), ("bookinfo", "ratings-v1")}


def test_wildcards_and_unknown_hosts_concern_nothing() -> None:
    routes = IstioConfig(
        "VirtualService",
        "bookinfo",
        "any",
        {"hosts": ["*"], "http": [{"route": [{"destination": {"host": "reveiws"}}]}]},
    )
    targets = TargetIndex(INVENTORY).compute_targets(routes)
    assert targets.services == frozenset() and targets.workloads == frozenset()


def test_a_gateway_selects_workloads_in_every_namespace_a_sidecar_only_in_its_own() -> None:
    index = TargetIndex(INVENTORY)
    gateway = IstioConfig("Gateway", "bookinfo", "gw", {"selector": {"istio": "ingressgateway"}})
    assert index.compute_targets(gateway).workloads == {("istio-system", "ingress"), ("shop", "ingress")}
    sidecar = IstioConfig("Sidecar", "shop", "s", {"workloadSelector": {"labels": {"istio": "ingressgateway"}}})
    assert index.compute_targets(sidecar).workloads == {("shop", "ingress")}
    policy = IstioConfig("AuthorizationPolicy", "bookinfo", "p", {"selector": {"matchLabels": {"app": "ratings"}}})
    assert index.compute_targets(policy).workloads == {("bookinfo", "ratings-v1")}
    namespace_wide = IstioConfig("PeerAuthentication", "bookinfo", "default", {"mtls": {"mode": "STRICT"}})
    assert index.compute_targets(namespace_wide).workloads == frozenset()


def test_findings_on_workloads_services_and_pods_concern_themselves() -> None:
    from istio_config.checks.model import PodInfo

    inventory = ConfigInventory(
        services=INVENTORY.services,
        workloads=INVENTORY.workloads,
        pods=(PodInfo("bookinfo", "ratings-v1-abc", {"app": "ratings"}, "ratings-v1", True),),
    )
    index = TargetIndex(inventory)
    service = index.compute_inventory_targets("Service", "bookinfo", "ratings")
    assert service.services == {("bookinfo", "ratings")} and service.workloads == {("bookinfo", "ratings-v1")}
    assert index.compute_inventory_targets("Workload", "shop", "ingress").workloads == {("shop", "ingress")}
    assert index.compute_inventory_targets("Pod", "bookinfo", "ratings-v1-abc").workloads == {
        ("bookinfo", "ratings-v1")
    }
    assert index.compute_inventory_targets("Pod", "bookinfo", "orphan") == index.compute_inventory_targets(
        "Service", "bookinfo", "nothing"
    )
