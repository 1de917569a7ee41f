"""VirtualService checks: each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from typing import Any

import pytest

from istio_config.checks import IstioConfig, Severity, check_config
from istio_config.checks.hosts import host_matches, resolve_gateway_name, resolve_host
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj, read_sample

DESTINATION_RULES = read_sample("destination-rule-all.yaml")


def findings_for(*objects: IstioConfig) -> list[tuple[str, str, str]]:
    return codes_at(check_config(bookinfo_inventory([*DESTINATION_RULES, *objects])))


def vs(name: str, spec: dict[str, Any], namespace: str = "bookinfo") -> IstioConfig:
    return obj("VirtualService", name, spec, namespace)


def route_to(*destinations: dict[str, Any]) -> dict[str, Any]:
    return {"hosts": ["reviews"], "http": [{"route": list(destinations)}]}


def test_resolve_gateway_name_as_istiod() -> None:
    assert resolve_gateway_name("gw", "bookinfo") == "bookinfo/gw"
    assert resolve_gateway_name("./gw", "bookinfo") == "bookinfo/gw"
    assert resolve_gateway_name("istio-system/gw", "bookinfo") == "istio-system/gw"
    assert resolve_gateway_name("gw.istio-system.svc.cluster.local", "bookinfo") == "istio-system/gw"
    assert resolve_gateway_name("mesh", "bookinfo") == "mesh"


def test_resolve_host_expands_only_short_names() -> None:
    assert resolve_host("reviews", "bookinfo") == "reviews.bookinfo.svc.cluster.local"
    assert resolve_host("reviews.bookinfo", "bookinfo") == "reviews.bookinfo"
    assert resolve_host("*", "bookinfo") == "*"


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "example.com", False),
        ("*", "anything.local", True),
        ("*.bookinfo.svc.cluster.local", "*.svc.cluster.local", True),
        ("www.example.com", "api.example.com", False),
    ],
)
def test_host_matches_wildcards(pattern: str, host: str, expected: bool) -> None:
    assert host_matches(pattern, host) is expected
    assert host_matches(host, pattern) is expected


def test_host_of_another_namespace_needs_its_fqdn() -> None:
    short = vs("x", {"hosts": ["x"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}, "default")
    fqdn = vs(
        "x",
        {"hosts": ["x"], "http": [{"route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local"}}]}]},
        "default",
    )
    assert findings_for(short) == [("KIA1101", "x", "spec.http[0].route[0].destination.host")]
    assert findings_for(fqdn) == []


def test_host_declared_by_a_service_entry_is_found_unless_not_exported() -> None:
    route = vs(
        "g", {"hosts": ["www.googleapis.com"], "tcp": [{"route": [{"destination": {"host": "www.googleapis.com"}}]}]}
    )
    entry = obj("ServiceEntry", "googleapis", {"hosts": ["www.googleapis.com"], "resolution": "DNS"}, "egress")
    private = obj("ServiceEntry", "googleapis", {"hosts": ["www.googleapis.com"], "exportTo": ["."]}, "egress")
    wildcard = obj("ServiceEntry", "google", {"hosts": ["*.googleapis.com"]}, "egress")
    assert findings_for(route, entry) == []
    assert findings_for(route, wildcard) == []
    assert findings_for(route, private) == [("KIA1101", "g", "spec.tcp[0].route[0].destination.host")]


def test_subset_defined_by_no_destination_rule() -> None:
    missing = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v9"}}))
    defined = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v3"}}))
    findings = check_config(bookinfo_inventory([*DESTINATION_RULES, missing]))
    assert codes_at(findings) == [("KIA1107", "reviews", "spec.http[0].route[0].destination.subset")]
    assert findings[0].severity == Severity.WARNING
    assert findings_for(defined) == []


def test_subset_of_a_wildcard_destination_rule_counts() -> None:
    wildcard_dr = obj(
        "DestinationRule",
        "all",
        {"host": "*.bookinfo.svc.cluster.local", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]},
    )
    route = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v1"}}))
    inventory = bookinfo_inventory([wildcard_dr, route])
    assert codes_at(check_config(inventory)) == []
    other = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v2"}}))
    assert codes_at(check_config(bookinfo_inventory([wildcard_dr, other]))) == [
        ("KIA1107", "reviews", "spec.http[0].route[0].destination.subset")
    ]


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        ("bookinfo-gateway", []),
        ("bookinfo/bookinfo-gateway", []),
        ("./bookinfo-gateway", []),
        ("mesh", []),
        ("bookinfo-gateway.bookinfo.svc.cluster.local", [("KIA1108", "bookinfo", "spec.gateways[0]")]),
        ("bookinfo-gateway.bookinfo", [("KIA1108", "bookinfo", "spec.gateways[0]")]),
        (
            "bookinfo-gateway.istio-system",
            [("KIA1102", "bookinfo", "spec.gateways[0]"), ("KIA1108", "bookinfo", "spec.gateways[0]")],
        ),
        ("istio-system/bookinfo-gateway", [("KIA1102", "bookinfo", "spec.gateways[0]")]),
        ("bookinfo-gatewya", [("KIA1102", "bookinfo", "spec.gateways[0]")]),
    ],
)
def test_gateway_reference(gateway: str, expected: list[tuple[str, str, str]]) -> None:
    spec = {"hosts": ["*"], "gateways": [gateway], "http": [{"route": [{"destination": {"host": "productpage"}}]}]}
    gateways = [o for o in read_sample("bookinfo-gateway.yaml") if o.kind == "Gateway"]
    assert findings_for(*gateways, vs("bookinfo", spec)) == expected


def test_gateway_named_in_a_match() -> None:
    spec: dict[str, Any] = {
        "hosts": ["reviews"],
        "http": [{"match": [{"gateways": ["nowhere"]}], "route": [{"destination": {"host": "reviews"}}]}],
    }
    assert findings_for(vs("reviews", spec)) == [("KIA1102", "reviews", "spec.http[0].match[0].gateways[0]")]
    spec["http"][0]["match"][0]["gateways"] = ["mesh"]
    assert findings_for(vs("reviews", spec)) == []


def test_lone_destination_weighted_below_100() -> None:
    below = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v1"}, "weight": 50}))
    full = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v1"}, "weight": 100}))
    findings = check_config(bookinfo_inventory([*DESTINATION_RULES, below]))
    assert codes_at(findings) == [("KIA1104", "reviews", "spec.http[0].route[0].weight")]
    assert findings[0].severity == Severity.WARNING
    assert findings_for(full) == []


def test_weights_that_do_not_sum_to_100() -> None:
    def split(first: int, second: int) -> IstioConfig:
        return vs(
            "reviews",
            route_to(
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": first},
                {"destination": {"host": "reviews", "subset": "v3"}, "weight": second},
            ),
        )

    assert findings_for(split(50, 40)) == [("MUI1101", "reviews", "spec.http[0].route")]
    [finding] = check_config(bookinfo_inventory([*DESTINATION_RULES, split(50, 40)]))
    assert finding.severity == Severity.INFO
    assert "sum is 90" in finding.message
    assert findings_for(split(50, 50)) == []


def test_same_destination_twice_in_one_route() -> None:
    def twice(second_subset: str) -> IstioConfig:
        return vs(
            "reviews",
            route_to(
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                {"destination": {"host": "reviews", "subset": second_subset}, "weight": 50},
            ),
        )

    assert findings_for(twice("v1")) == [("KIA1105", "reviews", "spec.http[0].route[1].destination")]
    assert findings_for(twice("v2")) == []


def test_two_virtual_services_claiming_one_host_on_the_mesh() -> None:
    first = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v1"}}))
    second = vs("reviews-canary", route_to({"destination": {"host": "reviews", "subset": "v2"}}))
    findings = check_config(bookinfo_inventory([*DESTINATION_RULES, first, second]))
    assert codes_at(findings) == [
        ("KIA1106", "reviews", "spec.hosts[0]"),
        ("KIA1106", "reviews-canary", "spec.hosts[0]"),
    ]
    assert {f.istio_code for f in findings} == {"IST0109"}


def test_same_host_on_different_gateways_is_no_conflict() -> None:
    gateways = [o for o in read_sample("bookinfo-gateway.yaml") if o.kind == "Gateway"]
    mesh = vs("reviews", route_to({"destination": {"host": "reviews", "subset": "v1"}}))
    ingress_spec = {**route_to({"destination": {"host": "reviews", "subset": "v2"}}), "gateways": ["bookinfo-gateway"]}
    assert findings_for(*gateways, mesh, vs("reviews-ingress", ingress_spec)) == []


def test_wildcard_host_conflicts_with_a_host_it_covers() -> None:
    gateways = [o for o in read_sample("bookinfo-gateway.yaml") if o.kind == "Gateway"]
    star = vs(
        "all",
        {
            "hosts": ["*"],
            "gateways": ["bookinfo-gateway"],
            "http": [{"route": [{"destination": {"host": "productpage"}}]}],
        },
    )
    named = vs(
        "shop",
        {
            "hosts": ["shop.example.com"],
            "gateways": ["bookinfo-gateway"],
            "http": [{"route": [{"destination": {"host": "productpage"}}]}],
        },
    )
    assert findings_for(*gateways, star, named) == [
        ("KIA1106", "all", "spec.hosts[0]"),
        ("KIA1106", "shop", "spec.hosts[0]"),
    ]
    assert findings_for(*gateways, star) == []


def test_route_after_a_catch_all_route_is_unreachable() -> None:
    catch_all_first: dict[str, Any] = {
        "hosts": ["reviews"],
        "http": [
            {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
            {
                "match": [{"headers": {"end-user": {"exact": "jason"}}}],
                "route": [{"destination": {"host": "reviews", "subset": "v2"}}],
            },
        ],
    }
    catch_all_last = {"hosts": ["reviews"], "http": list(reversed(catch_all_first["http"]))}
    findings = check_config(bookinfo_inventory([*DESTINATION_RULES, vs("reviews", catch_all_first)]))
    assert [(f.code, f.istio_code, f.path) for f in findings] == [("MUI1102", "IST0130", "spec.http[1]")]
    assert findings_for(vs("reviews", catch_all_last)) == []


def test_prefix_slash_matches_everything() -> None:
    def first_match(match: dict[str, Any]) -> IstioConfig:
        return vs(
            "reviews",
            {
                "hosts": ["reviews"],
                "http": [
                    {"match": [match], "route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
                    {"route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
                ],
            },
        )

    assert findings_for(first_match({"uri": {"prefix": "/"}})) == [("MUI1102", "reviews", "spec.http[1]")]
    assert findings_for(first_match({"uri": {"prefix": "/api"}})) == []


def test_route_whose_matches_all_appear_earlier_is_unreachable() -> None:
    jason = {"headers": {"end-user": {"exact": "jason"}}}

    def second_matches(*matches: dict[str, Any]) -> IstioConfig:
        return vs(
            "reviews",
            {
                "hosts": ["reviews"],
                "http": [
                    {"match": [jason], "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
                    {"match": list(matches), "route": [{"destination": {"host": "reviews", "subset": "v3"}}]},
                    {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
                ],
            },
        )

    assert findings_for(second_matches(jason)) == [("MUI1102", "reviews", "spec.http[1]")]
    assert findings_for(second_matches({**jason, "name": "jason-again"})) == [("MUI1102", "reviews", "spec.http[1]")]
    kim = {"headers": {"end-user": {"exact": "kim"}}}
    assert findings_for(second_matches(jason, kim)) == [("MUI1103", "reviews", "spec.http[1].match[0]")]
    assert findings_for(second_matches(kim)) == []


def test_subset_of_a_destination_rule_not_exported_to_the_virtual_service() -> None:
    def rule(export_to: list[str]) -> IstioConfig:
        spec = {
            "host": "reviews.bookinfo.svc.cluster.local",
            "exportTo": export_to,
            "subsets": [{"name": "v1", "labels": {"version": "v1"}}],
        }
        return obj("DestinationRule", "reviews", spec)

    route = vs(
        "reviews",
        {
            "hosts": ["x"],
            "http": [{"route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v1"}}]}],
        },
        "default",
    )
    assert codes_at(check_config(bookinfo_inventory([rule(["."]), route]))) == [
        ("KIA1107", "reviews", "spec.http[0].route[0].destination.subset")
    ]
    assert codes_at(check_config(bookinfo_inventory([rule(["default"]), route]))) == []
    assert codes_at(check_config(bookinfo_inventory([rule(["*"]), route]))) == []


def test_same_host_in_namespaces_that_never_see_each_other_is_no_conflict() -> None:
    def claim(namespace: str, export_to: list[str]) -> IstioConfig:
        spec = {
            "hosts": ["reviews.bookinfo.svc.cluster.local"],
            "exportTo": export_to,
            "http": [{"route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local"}}]}],
        }
        return vs("reviews", spec, namespace)

    assert findings_for(claim("default", ["."]), claim("istio-system", ["."])) == []
    assert findings_for(claim("default", ["."]), claim("istio-system", ["default"])) == [
        ("KIA1106", "reviews", "spec.hosts[0]"),
        ("KIA1106", "reviews", "spec.hosts[0]"),
    ]
    assert len(findings_for(claim("default", ["."]), claim("istio-system", []))) == 2


def test_one_gateway_written_two_ways_is_one_gateway() -> None:
    gateways = [o for o in read_sample("bookinfo-gateway.yaml") if o.kind == "Gateway"]

    def bound(name: str, gateway: str) -> IstioConfig:
        spec = {
            "hosts": ["shop.example.com"],
            "gateways": [gateway],
            "http": [{"route": [{"destination": {"host": "productpage"}}]}],
        }
        return vs(name, spec)

    assert findings_for(*gateways, bound("a", "bookinfo-gateway"), bound("b", "bookinfo/bookinfo-gateway")) == [
        ("KIA1106", "a", "spec.hosts[0]"),
        ("KIA1106", "b", "spec.hosts[0]"),
    ]
