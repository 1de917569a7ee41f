"""MUI1104 (IST0149): routing on a JWT claim at a gateway whose pods no RequestAuthentication covers."""

from __future__ import annotations

from typing import Any

import pytest

from istio_config.checks import ConfigInventory, IstioConfig, check_config
from istio_config.checks.model import NamespaceInfo, PodInfo, WorkloadInfo

GATEWAY_LABELS = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
CLAIM = "@request.auth.claims.groups"


def claim_route(
    field: str = "headers", header: str = CLAIM, gateways: tuple[str, ...] = ("bookinfo-gateway",)
) -> IstioConfig:
    spec: dict[str, Any] = {
        "hosts": ["*"],
        "gateways": list(gateways),
        "http": [
            {
                "match": [{"uri": {"prefix": "/headers"}, field: {header: {"exact": "group1"}}}],
                "route": [{"destination": {"host": "httpbin"}}],
            }
        ],
    }
    return IstioConfig("VirtualService", "foo", "httpbin", spec)


def request_authn(namespace: str, selector: dict[str, str] | None) -> IstioConfig:
    spec: dict[str, Any] = {"jwtRules": [{"issuer": "testing@secure.istio.io"}]}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    return IstioConfig("RequestAuthentication", namespace, "ingress-jwt", spec)


def inventory(*objects: IstioConfig) -> ConfigInventory:
    gateway = IstioConfig(
        "Gateway", "foo", "bookinfo-gateway", {"selector": {"istio": "ingressgateway"}, "servers": []}
    )
    return ConfigInventory(
        namespaces=(NamespaceInfo("foo"), NamespaceInfo("istio-system"), NamespaceInfo("bar")),
        workloads=(WorkloadInfo("istio-system", "istio-ingressgateway", GATEWAY_LABELS),),
        pods=(PodInfo("istio-system", "istio-ingressgateway-7d4f", GATEWAY_LABELS, "istio-ingressgateway"),),
        istio_objects=(gateway, *objects),
    )


def claim_findings(*objects: IstioConfig) -> list[Any]:
    return [f for f in check_config(inventory(*objects)) if f.code == "MUI1104"]


def test_a_claim_route_at_a_gateway_without_request_authentication_is_an_error() -> None:
    (finding,) = claim_findings(claim_route())
    assert (finding.istio_code, finding.severity, finding.path) == ("IST0149", "error", "spec.http[0].match[0].headers")
    assert "at gateway bookinfo-gateway: pod istio-system/istio-ingressgateway-7d4f" in finding.message


def test_without_headers_on_a_claim_count_too() -> None:
    assert [f.path for f in claim_findings(claim_route(field="withoutHeaders"))] == [
        "spec.http[0].match[0].withoutHeaders"
    ]


@pytest.mark.parametrize(
    "authn",
    [
        request_authn("istio-system", {"istio": "ingressgateway"}),  # Istio's claim-based routing task
        request_authn("istio-system", None),  # the root namespace's, for every pod of it
    ],
)
def test_a_request_authentication_covering_the_gateway_pods_clears_it(authn: IstioConfig) -> None:
    assert claim_findings(claim_route(), authn) == []


def test_a_request_authentication_elsewhere_does_not_cover_the_gateway() -> None:
    assert len(claim_findings(claim_route(), request_authn("bar", {"istio": "ingressgateway"}))) == 1
    assert len(claim_findings(claim_route(), request_authn("istio-system", {"istio": "egressgateway"}))) == 1


@pytest.mark.parametrize(
    "route",
    [
        claim_route(header="end-user"),  # an ordinary header
        claim_route(gateways=("mesh",)),  # sidecars are not checked, as in istioctl
        claim_route(gateways=("missing-gateway",)),  # KIA1102's finding, not this one
    ],
)
def test_routes_that_are_not_claim_routes_at_a_gateway_are_not_flagged(route: IstioConfig) -> None:
    assert claim_findings(route) == []
