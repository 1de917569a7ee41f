"""The routing wizards' generators (``istio_config.wizards``): hand-derived objects for each wizard, the subsets made
from workload versions, what a replaced object keeps, the input checks, and every generated object through the CRD
schema (strict) and the configuration checks on Bookinfo without a finding."""

from __future__ import annotations

from typing import Any

import pytest

from istio_config.checks import IstioConfig, check_config
from istio_config.schema import validate_istio_object
from istio_config.wizards.generate import Replaced, build_wizard_objects, plan_subsets, wizard_of
from istio_config.wizards.inputs import (
    WIZARD_LABEL,
    CircuitBreaking,
    FaultInjection,
    Match,
    Mirroring,
    RequestRouting,
    RouteRule,
    ServiceTarget,
    TimeoutsRetries,
    TrafficShifting,
    WizardInput,
    check_wizard_input,
)
from tests.istio_config.checks_support import bookinfo_inventory

REVIEWS = ServiceTarget("bookinfo", "reviews", plan_subsets(["v2", "v1", "v3", "v1"]))
RATINGS = ServiceTarget("bookinfo", "ratings", plan_subsets(["v1"]))
JASON = Match("header", "exact", "jason", name="end-user")


def rule_of(wizard: str, subsets: tuple[str, ...] = ("v1", "v2", "v3"), host: str = "reviews") -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": host, "namespace": "bookinfo", "labels": {WIZARD_LABEL: wizard}},
        "spec": {"host": host, "subsets": [{"name": s, "labels": {"version": s}} for s in subsets]},
    }


def route_of(wizard: str, http: list | None = None, tcp: list | None = None, host: str = "reviews") -> dict:
    spec: dict = {"hosts": [host]}
    if http is not None:
        spec["http"] = http
    if tcp is not None:
        spec["tcp"] = tcp
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": host, "namespace": "bookinfo", "labels": {WIZARD_LABEL: wizard}},
        "spec": spec,
    }


def to(subset: str = "", host: str = "reviews", **extra: object) -> dict:
    destination = {"host": host, **({"subset": subset} if subset else {})}
    return {"destination": destination, **extra}


def test_subsets_come_from_versions_sorted_once() -> None:
    assert REVIEWS.subsets == (("v1", (("version", "v1"),)), ("v2", (("version", "v2"),)), ("v3", (("version", "v3"),)))
    assert plan_subsets(["", "v1"]) == (("v1", (("version", "v1"),)),)


def test_existing_subsets_are_kept_and_only_missing_versions_added() -> None:
    existing = [
        {"name": "stable", "labels": {"version": "v1"}},
        {"name": "canary", "labels": {"version": "v2", "track": "canary"}},
        {"labels": {"version": "v9"}},  # no name: not a subset
    ]
    assert plan_subsets(["v1", "v2", "v3"], existing) == (
        ("stable", (("version", "v1"),)),
        ("canary", (("track", "canary"), ("version", "v2"))),
        ("v2", (("version", "v2"),)),  # canary selects v2 only with another label: v2 alone has no subset
        ("v3", (("version", "v3"),)),
    )


def test_request_routing_for_jason_then_default() -> None:
    wizard = RequestRouting(rules=(RouteRule((JASON,), "v2"),), default_subset="v1")
    assert build_wizard_objects(wizard, REVIEWS) == [
        rule_of("request-routing"),
        route_of(
            "request-routing",
            http=[
                {"match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": [to("v2")]},
                {"route": [to("v1")]},
            ],
        ),
    ]


def test_request_routing_ands_the_conditions_of_one_rule() -> None:
    rule = RouteRule(
        (
            Match("uri", "prefix", "/api"),
            Match("header", "regex", "ja.*", name="end-user"),
            Match("header", "exact", "1", name="x-beta"),
            Match("query", "exact", "yes", name="debug"),
        ),
        "v3",
    )
    objects = build_wizard_objects(RequestRouting((rule,), "v1"), REVIEWS)
    assert objects[1]["spec"]["http"][0]["match"] == [
        {
            "uri": {"prefix": "/api"},
            "headers": {"end-user": {"regex": "ja.*"}, "x-beta": {"exact": "1"}},
            "queryParams": {"debug": {"exact": "yes"}},
        }
    ]


def test_traffic_shifting_leaves_zero_weights_out() -> None:
    wizard = TrafficShifting((("v1", 50), ("v2", 0), ("v3", 50)))
    assert build_wizard_objects(wizard, REVIEWS)[1] == route_of(
        "traffic-shifting", http=[{"route": [to("v1", weight=50), to("v3", weight=50)]}]
    )


def test_tcp_traffic_shifting_writes_tcp_routes() -> None:
    wizard = TrafficShifting((("v1", 80), ("v2", 20), ("v3", 0)), protocol="tcp")
    assert build_wizard_objects(wizard, REVIEWS)[1] == route_of(
        "traffic-shifting", tcp=[{"route": [to("v1", weight=80), to("v2", weight=20)]}]
    )


def test_fault_injection_for_jason_as_in_istio_delay_task() -> None:
    wizard = FaultInjection(delay_percent=100, delay="7s", match=JASON, route_subset="v1")
    assert build_wizard_objects(wizard, RATINGS) == [
        rule_of("fault-injection", ("v1",), host="ratings"),
        route_of(
            "fault-injection",
            host="ratings",
            http=[
                {
                    "match": [{"headers": {"end-user": {"exact": "jason"}}}],
                    "fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "7s"}},
                    "route": [to("v1", host="ratings")],
                },
                {"route": [to("v1", host="ratings")]},
            ],
        ),
    ]


def test_fault_injection_without_match_delays_and_aborts_everything() -> None:
    wizard = FaultInjection(delay_percent=10.5, delay="2s", abort_percent=50, abort_status=503)
    assert build_wizard_objects(wizard, RATINGS)[1]["spec"]["http"] == [
        {
            "fault": {
                "delay": {"percentage": {"value": 10.5}, "fixedDelay": "2s"},
                "abort": {"percentage": {"value": 50}, "httpStatus": 503},
            },
            "route": [to(host="ratings")],
        }
    ]


def test_timeouts_and_retries() -> None:
    wizard = TimeoutsRetries(timeout="10s", attempts=3, per_try_timeout="2s", retry_on="5xx,reset")
    assert build_wizard_objects(wizard, REVIEWS)[1]["spec"]["http"] == [
        {"route": [to()], "timeout": "10s", "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset"}}
    ]
    only_timeout = TimeoutsRetries(timeout="0.5s", route_subset="v2")
    assert build_wizard_objects(only_timeout, REVIEWS)[1]["spec"]["http"] == [{"route": [to("v2")], "timeout": "0.5s"}]


def test_circuit_breaking_writes_only_the_rule_with_its_policy() -> None:
    wizard = CircuitBreaking(
        max_connections=1,
        http1_max_pending_requests=1,
        max_requests_per_connection=1,
        consecutive_5xx_errors=1,
        interval="1s",
        base_ejection_time="3m",
        max_ejection_percent=100,
    )
    expected = rule_of("circuit-breaking")
    expected["spec"]["trafficPolicy"] = {
        "connectionPool": {
            "tcp": {"maxConnections": 1},
            "http": {"http1MaxPendingRequests": 1, "maxRequestsPerConnection": 1},
        },
        "outlierDetection": {
            "consecutive5xxErrors": 1,
            "interval": "1s",
            "baseEjectionTime": "3m",
            "maxEjectionPercent": 100,
        },
    }
    assert build_wizard_objects(wizard, REVIEWS) == [expected]


def test_mirroring_copies_a_percentage_to_a_subset() -> None:
    wizard = Mirroring(mirror_subset="v2", percent=25, route_subset="v1")
    assert build_wizard_objects(wizard, REVIEWS)[1]["spec"]["http"] == [
        {"route": [to("v1")], "mirror": {"host": "reviews", "subset": "v2"}, "mirrorPercentage": {"value": 25}}
    ]


def test_a_replaced_rule_keeps_its_name_labels_policy_and_subsets() -> None:
    spec: dict[str, Any] = {
        "host": "reviews",
        "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
        "subsets": [{"name": "stable", "labels": {"version": "v1"}}],
    }
    target = ServiceTarget("bookinfo", "reviews", plan_subsets(["v1", "v2"], spec["subsets"]))
    replaced_rule = Replaced("reviews-rule", {"team": "books"}, spec)
    replaced_route = Replaced("reviews-route", {"team": "books", WIZARD_LABEL: "mirroring"})
    wizard = CircuitBreaking(max_connections=10)
    rule = build_wizard_objects(wizard, target, replaced_rule, replaced_route)[0]
    assert rule["metadata"] == {
        "name": "reviews-rule",
        "namespace": "bookinfo",
        "labels": {"team": "books", WIZARD_LABEL: "circuit-breaking"},
    }
    assert rule["spec"] == {
        "host": "reviews",
        "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "connectionPool": {"tcp": {"maxConnections": 10}}},
        "subsets": [{"name": "stable", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}],
    }
    assert spec["trafficPolicy"] == {"tls": {"mode": "ISTIO_MUTUAL"}}, "the replaced spec is not changed"
    routed = build_wizard_objects(RequestRouting((), "stable"), target, replaced_rule, replaced_route)
    assert routed[1]["metadata"]["name"] == "reviews-route"
    assert routed[1]["metadata"]["labels"] == {"team": "books", WIZARD_LABEL: "request-routing"}
    assert routed[0]["spec"]["trafficPolicy"] == {"tls": {"mode": "ISTIO_MUTUAL"}}


def test_wizard_of_reads_the_label() -> None:
    assert wizard_of({WIZARD_LABEL: "mirroring", "app": "x"}) == "mirroring"
    assert wizard_of({"app": "x"}) == "" and wizard_of(None) == ""


@pytest.mark.parametrize(
    ("wizard", "fields"),
    [
        (RequestRouting((RouteRule((JASON,), "v9"),), "v1"), {"rule0"}),
        (RequestRouting((RouteRule((), "v2"),), "v1"), {"rule0"}),
        (
            RequestRouting((RouteRule((Match("header", "exact", "x", name="bad name"),), "v2"),), ""),
            {"rule0", "default_subset"},
        ),
        (RequestRouting((RouteRule((Match("query", "prefix", "x", name="q"),), "v2"),), "v1"), {"rule0"}),
        (RequestRouting((RouteRule((Match("uri", "regex", "("),), "v2"),), "v1"), {"rule0"}),
        (RequestRouting((RouteRule((JASON, JASON), "v2"),), "v1"), {"rule0"}),
        (TrafficShifting((("v1", 50), ("v2", 40))), {""}),
        (TrafficShifting((("v1", 150), ("v2", -50))), {"weight_v1", "weight_v2"}),
        (FaultInjection(), {""}),
        (FaultInjection(delay_percent=50, delay="7"), {"delay"}),
        (FaultInjection(abort_percent=101, abort_status=99), {"abort_percent", "abort_status"}),
        (TimeoutsRetries(), {""}),
        (TimeoutsRetries(timeout="1s", per_try_timeout="1s"), {"attempts"}),
        (TimeoutsRetries(attempts=2, retry_on="5xx; reset"), {"retry_on"}),
        (CircuitBreaking(), {""}),
        (CircuitBreaking(max_connections=0, interval="1s"), {"max_connections", "consecutive_5xx_errors"}),
        (Mirroring(mirror_subset="v1", route_subset="v1"), {"mirror_subset"}),
        (Mirroring(mirror_subset="v4", percent=200), {"mirror_subset", "percent"}),
    ],
)
def test_input_checks_name_the_wrong_fields(wizard: WizardInput, fields: set[str]) -> None:
    assert set(check_wizard_input(wizard, REVIEWS).by_field) == fields


VALID_WIZARDS: list[tuple[WizardInput, ServiceTarget]] = [
    (RequestRouting((RouteRule((JASON,), "v2"), RouteRule((Match("uri", "prefix", "/beta"),), "v3")), "v1"), REVIEWS),
    (TrafficShifting((("v1", 50), ("v2", 0), ("v3", 50))), REVIEWS),
    (TrafficShifting((("v1", 100), ("v2", 0), ("v3", 0))), REVIEWS),
    (TrafficShifting((("v1", 34), ("v2", 33), ("v3", 33)), protocol="tcp"), REVIEWS),
    (FaultInjection(delay_percent=100, delay="7s", match=JASON, route_subset="v1"), RATINGS),
    (FaultInjection(abort_percent=100, abort_status=500, match=JASON, route_subset="v1"), RATINGS),
    (FaultInjection(delay_percent=10, delay="100ms", abort_percent=5, abort_status=503), RATINGS),
    (TimeoutsRetries(timeout="10s", attempts=3, per_try_timeout="2s", retry_on="5xx,connect-failure"), REVIEWS),
    (CircuitBreaking(1, 1, 1, 1, "1s", "3m", 100), REVIEWS),
    (Mirroring(mirror_subset="v2", percent=100, route_subset="v1"), REVIEWS),
]


@pytest.mark.parametrize(("wizard", "target"), VALID_WIZARDS)
def test_generated_objects_pass_the_schema_and_the_checks_on_bookinfo(
    wizard: WizardInput, target: ServiceTarget
) -> None:
    assert not check_wizard_input(wizard, target)
    objects = build_wizard_objects(wizard, target)
    for document in objects:
        assert validate_istio_object(document, strict=True) == [], document
    configs = [
        IstioConfig(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"], d["spec"], d["metadata"]["labels"])
        for d in objects
    ]
    assert check_config(bookinfo_inventory(configs)) == []
