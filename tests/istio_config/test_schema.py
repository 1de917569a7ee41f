"""Tests of istio_config.schema: Istio objects validated against the shipped CRD schemas."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from istio_config.schema import (
    format_cause,
    format_status_message,
    known_istio_kinds,
    prune_unknown_fields,
    schema_for,
    unsupported_cel_rules,
    validate_istio_object,
)
from istio_config.schema_cel import compile_rule

DATA = Path(__file__).resolve().parent.parent / "data" / "istio"


def _docs(*patterns: str) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for pattern in patterns:
        for path in sorted(DATA.glob(pattern)):
            with path.open(encoding="utf-8") as fh:
                for i, doc in enumerate(yaml.safe_load_all(fh)):
                    if doc:
                        out.append((f"{path.parent.name}/{path.name}#{i}", doc))
    return out


VALID = _docs("dataset/*.yaml", "bookinfo/*.yaml", "crds/destinationrule-valid.yaml")
INVALID = _docs("crds/destinationrule-invalid.yaml")


def _vs(**route_extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {
            "hosts": ["reviews"],
            "http": [
                {
                    "match": [{"uri": {"prefix": "/api"}}],
                    "route": [{"destination": {"host": "reviews", "subset": "v1"}, **route_extra}],
                    "timeout": "10s",
                }
            ],
        },
    }


def _dr(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews"},
        "spec": spec,
    }


def test_inputs_present() -> None:
    assert len(VALID) >= 50
    assert len(INVALID) == 3


@pytest.mark.parametrize("name,obj", VALID, ids=[n for n, _ in VALID])
def test_upstream_valid_objects(name: str, obj: dict[str, Any]) -> None:
    assert validate_istio_object(obj, strict=True) == []


@pytest.mark.parametrize("name,obj", INVALID, ids=[n for n, _ in INVALID])
def test_upstream_invalid_destination_rules(name: str, obj: dict[str, Any]) -> None:
    obj = copy.deepcopy(obj)
    expected = obj.pop("_err")
    causes = validate_istio_object(obj)
    assert causes, f"{name} should be rejected"
    # The expected texts are prefixes of the API server's lines ("<field>: <type>"); ours extend
    # them with the bad value and the detail, e.g. "...minimumPercent: Invalid value: 150: ...
    # should be less than or equal to 100".  No mismatches to accept.
    assert any(format_cause(c).startswith(expected) for c in causes), [format_cause(c) for c in causes]
    assert len(causes) == 1


def test_weight_as_string() -> None:
    causes = validate_istio_object(_vs(weight="string"))
    field = "spec.http[0].route[0].weight"
    assert causes[0] == {
        "reason": "FieldValueTypeInvalid",
        "field": field,
        "message": f'Invalid value: "string": {field} in body must be of type integer: "string"',
    }
    # CEL rules are not evaluated once type errors exist, as upstream.
    assert causes[1]["field"] == "<nil>"
    assert len(causes) == 2


def test_missing_destination_rule_host() -> None:
    causes = validate_istio_object(_dr({"subsets": [{"name": "v1", "labels": {"version": "v1"}}]}))
    assert causes == [{"reason": "FieldValueRequired", "field": "spec.host", "message": "Required value"}]


def test_null_for_non_nullable_field_is_pruned_then_required() -> None:
    causes = validate_istio_object(_dr({"host": None}))
    assert [(c["reason"], c["field"]) for c in causes] == [("FieldValueRequired", "spec.host")]


def test_uri_exact_and_prefix() -> None:
    obj = _vs()
    obj["spec"]["http"][0]["match"][0]["uri"] = {"exact": "/a", "prefix": "/b"}
    causes = validate_istio_object(obj)
    assert [(c["reason"], c["field"]) for c in causes] == [("FieldValueInvalid", "spec.http[0].match[0].uri")]
    assert "must validate one and only one schema (oneOf). Found 2 valid alternatives" in causes[0]["message"]


def test_bad_enum() -> None:
    causes = validate_istio_object(_dr({"host": "reviews", "trafficPolicy": {"tls": {"mode": "BOGUS"}}}))
    assert causes[0]["field"] == "spec.trafficPolicy.tls.mode"
    assert causes[0]["reason"] == "FieldValueNotSupported"
    assert causes[0]["message"] == (
        'Unsupported value: "BOGUS": supported values: "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"'
    )


def test_unknown_field_strict_and_pruned() -> None:
    obj = _vs()
    obj["spec"]["http"][0]["route"][0]["destination"]["bogus"] = 1
    obj["spec"]["extra"] = {"x": 1}
    assert validate_istio_object(obj) == []
    causes = validate_istio_object(obj, strict=True)
    assert [(c["reason"], c["field"]) for c in causes] == [
        ("FieldValueInvalid", "spec.http[0].route[0].destination.bogus"),
        ("FieldValueInvalid", "spec.extra"),
    ]
    assert causes[1]["message"] == 'unknown field "spec.extra"'
    pruned, unknown = prune_unknown_fields(obj)
    assert unknown == ["spec.http[0].route[0].destination.bogus", "spec.extra"]
    assert "extra" not in pruned["spec"] and "extra" in obj["spec"]
    assert pruned["metadata"] == obj["metadata"]


def test_preserve_unknown_fields_kept() -> None:
    obj = _dr({"host": "reviews"})
    obj["status"] = {"anything": {"goes": True}}
    pruned, unknown = prune_unknown_fields(obj)
    assert unknown == [] and pruned["status"] == obj["status"]


def test_bounds_and_int_or_string() -> None:
    causes = validate_istio_object(
        _dr({"host": "r", "trafficPolicy": {"loadBalancer": {"warmup": {"duration": "1s", "aggression": -1}}}})
    )
    assert causes[0]["message"].startswith("Invalid value: -1: ")
    se = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "db"},
        "spec": {"hosts": ["db.example.com"], "ports": [{"number": 80, "name": "http", "targetPort": 8080}]},
    }
    assert validate_istio_object(se) == []


@pytest.mark.parametrize(
    "timeout,ok",
    [("10s", True), ("1h30m", True), ("100ms", True), ("0.5ms", False), ("1d", False), ("bogus", False)],
)
def test_cel_duration_rule(timeout: str, ok: bool) -> None:
    obj = _vs()
    obj["spec"]["http"][0]["timeout"] = timeout
    causes = validate_istio_object(obj)
    if ok:
        assert causes == []
    else:
        assert [(c["reason"], c["field"]) for c in causes] == [("FieldValueInvalid", "spec.http[0].timeout")]
        assert "must be a valid duration greater than 1ms" in causes[0]["message"]


def test_cel_rules_on_lists_and_objects() -> None:
    se = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "x"},
        "spec": {
            "hosts": ["*"],
            "ports": [{"number": 80, "name": "http"}, {"number": 80, "name": "http2"}],
            "resolution": "DNS_ROUND_ROBIN",
            "endpoints": [{"address": "a.example.com"}, {"address": "b.example.com"}],
        },
    }
    lines = sorted(format_cause(c) for c in validate_istio_object(se))
    assert lines == [
        'spec.hosts[0]: Invalid value: "string": hostname cannot be wildcard',
        'spec.ports: Invalid value: "array": port number cannot be duplicated',
        'spec: Invalid value: "object": DNS_ROUND_ROBIN mode cannot have multiple endpoints',
    ]


def test_cel_label_map_keys_use_bracket_paths() -> None:
    obj = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"selector": {"matchLabels": {"app": "re*"}}, "mtls": {"mode": "STRICT"}},
    }
    causes = validate_istio_object(obj)
    assert [c["field"] for c in causes] == ["spec.selector.matchLabels[app]"]


def test_unknown_kind_and_version() -> None:
    causes = validate_istio_object({"apiVersion": "networking.istio.io/v9", "kind": "VirtualService"})
    assert len(causes) == 1 and causes[0]["field"] == "apiVersion"
    causes = validate_istio_object({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert len(causes) == 1 and causes[0]["field"] == "kind"
    assert prune_unknown_fields({"apiVersion": "v1", "kind": "Pod", "x": 1}) == (
        {"apiVersion": "v1", "kind": "Pod", "x": 1},
        [],
    )


def test_metadata_name() -> None:
    obj = _vs()
    obj["metadata"]["name"] = "Bad_Name"
    assert [c["field"] for c in validate_istio_object(obj)] == ["metadata.name"]
    assert validate_istio_object(obj, check_metadata=False) == []
    del obj["metadata"]["name"]
    assert validate_istio_object(obj)[0]["reason"] == "FieldValueRequired"


def test_catalogue_and_schema_for() -> None:
    kinds = {(k["group"], k["version"], k["kind"]) for k in known_istio_kinds()}
    assert ("networking.istio.io", "v1", "VirtualService") in kinds
    assert ("security.istio.io", "v1", "AuthorizationPolicy") in kinds
    vs_v1 = next(k for k in known_istio_kinds() if k["kind"] == "VirtualService" and k["version"] == "v1")
    assert vs_v1["plural"] == "virtualservices" and vs_v1["scope"] == "Namespaced" and vs_v1["storage"]
    schema = schema_for("networking.istio.io", "v1beta1", "DestinationRule")
    assert schema is not None and "spec" in schema["properties"]
    assert "description" not in schema["properties"]["spec"]
    assert schema_for("networking.istio.io", "v9", "DestinationRule") is None


def test_cel_rules_supported_and_failures_contained() -> None:
    assert unsupported_cel_rules() == []
    assert compile_rule("self.(").program is None
    assert compile_rule("oldSelf == self").skip_reason is not None


def test_status_message() -> None:
    causes = validate_istio_object(_dr({}))
    text = format_status_message("DestinationRule", "networking.istio.io", "reviews", causes)
    assert text == 'DestinationRule.networking.istio.io "reviews" is invalid: spec.host: Required value'


def test_performance() -> None:
    obj = _vs(weight=100)
    validate_istio_object(obj)
    start = time.perf_counter()
    for _ in range(100):
        assert validate_istio_object(obj) == []
    assert (time.perf_counter() - start) / 100 < 0.005
