"""The admin forms' split of a spec into fields and kept YAML, and the way back: pure, no database."""

from __future__ import annotations

import pytest

from istio_config import admin_spec
from istio_config.admin_spec import (
    DESTINATION_RULE_LEAVES,
    SUBSET_LEAVES,
    VIRTUAL_SERVICE_LEAVES,
    ErrorPlace,
    http_route_leaves,
    join,
    join_spec,
    locate_error,
    split,
    split_spec,
)

ROUTE_LEAVES = http_route_leaves(3)

ROUTE = {
    "name": "jason",
    "match": [
        {"uri": {"prefix": "/api"}, "headers": {"end-user": {"exact": "jason"}}, "method": {"exact": "GET"}},
        {"uri": {"regex": "^/v[0-9]"}},
    ],
    "route": [
        {"destination": {"host": "reviews", "subset": "v2", "port": {"number": 9080}}, "weight": 75, "headers": {}},
        {"destination": {"host": "reviews", "subset": "v1"}, "weight": 25},
    ],
    "fault": {"delay": {"percentage": {"value": 12.5}, "fixedDelay": "5s"}, "abort": {"grpcStatus": "UNAVAILABLE"}},
    "corsPolicy": {"allowOrigins": [{"exact": "https://example.com"}]},
    "retries": {"attempts": 3, "retryRemoteLocalities": True},
    "timeout": "",
}


def test_a_route_splits_into_its_fields_and_the_rest_and_joins_back_equal():
    fields, rest = split(ROUTE, ROUTE_LEAVES)

    assert fields["name"] == "jason" and fields["uri"] == {"prefix": "/api"}
    assert fields["dest0_port"] == 9080 and fields["dest1_weight"] == 25 and fields["delay_percent"] == 12.5
    assert "timeout" not in fields  # empty: it stays in the rest, so it is not lost
    assert rest["match"] == [{"method": {"exact": "GET"}}, {"uri": {"regex": "^/v[0-9]"}}]
    assert rest["route"] == [{"headers": {}}]  # a destination's unmodelled field stays at its position
    assert rest["fault"] == {"abort": {"grpcStatus": "UNAVAILABLE"}}
    assert join(fields, ROUTE_LEAVES, rest) == ROUTE


def test_a_value_of_an_odd_shape_stays_in_the_rest():
    route = {"match": [{"uri": {"prefix": "/a", "exact": "/b"}}], "route": [{"destination": {"host": 7}}]}
    fields, rest = split(route, ROUTE_LEAVES)
    assert fields == {} and rest == route


def test_an_emptied_first_item_keeps_its_place_for_the_later_ones():
    fields, rest = split(
        {"route": [{"destination": {"host": "a"}}, {"destination": {"host": "b"}, "x": 1}]}, ROUTE_LEAVES
    )
    assert rest == {"route": [{}, {"x": 1}]}
    assert join(fields, ROUTE_LEAVES, rest) == {
        "route": [{"destination": {"host": "a"}}, {"destination": {"host": "b"}, "x": 1}]
    }


def test_a_virtual_service_spec_keeps_tcp_tls_and_unknown_fields():
    spec = {"hosts": ["reviews"], "gateways": ["mesh"], "http": [ROUTE], "tcp": [{"route": []}], "exportTo": ["."]}
    parts = split_spec(spec, VIRTUAL_SERVICE_LEAVES, "http", http_route_leaves(50))
    assert parts.fields == {"hosts": ["reviews"], "gateways": ["mesh"]}
    assert parts.rest == {"tcp": [{"route": []}], "exportTo": ["."]}
    routes = [join(fields, http_route_leaves(50), rest) for fields, rest in parts.items]
    assert join_spec(parts.fields, VIRTUAL_SERVICE_LEAVES, "http", routes, parts.rest) == spec
    assert admin_spec.destination_slots(parts.items) == 3  # two used, one free


def test_a_destination_rule_spec_round_trips():
    spec = {
        "host": "reviews",
        "trafficPolicy": {
            "tls": {"mode": "ISTIO_MUTUAL", "sni": "x"},
            "connectionPool": {"tcp": {"maxConnections": 9}},
        },
        "subsets": [
            {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}}}
        ],
    }
    parts = split_spec(spec, DESTINATION_RULE_LEAVES, "subsets", SUBSET_LEAVES)
    assert parts.fields == {"host": "reviews", "tls_mode": "ISTIO_MUTUAL", "max_connections": 9}
    assert parts.rest == {"trafficPolicy": {"tls": {"sni": "x"}}}
    subsets = [join(fields, SUBSET_LEAVES, rest) for fields, rest in parts.items]
    assert join_spec(parts.fields, DESTINATION_RULE_LEAVES, "subsets", subsets, parts.rest) == spec


@pytest.mark.parametrize(
    ("path", "place"),
    [
        ("spec.http[0].route[1].weight", ErrorPlace(0, "dest1_weight")),
        ("spec.http[2].route[0].destination", ErrorPlace(2, "dest0_host")),
        ("spec.http[1].match[0].headers.end-user", ErrorPlace(1, "headers")),
        ("spec.http[0].corsPolicy.allowOrigins[0]", ErrorPlace(0, "other")),
        ("spec.http[0]", ErrorPlace(0, None)),
        ("spec.hosts[0]", ErrorPlace(None, "hosts")),
        ("spec.tcp[0].route", ErrorPlace(None, "other")),
        ("metadata.name", ErrorPlace(None, "name")),
        ("kind", ErrorPlace(None, None)),
        ("", ErrorPlace(None, None)),
    ],
)
def test_an_error_path_names_the_form_field_it_concerns(path, place):
    assert locate_error(path, VIRTUAL_SERVICE_LEAVES, "http", ROUTE_LEAVES) == place


def test_text_fields_read_back_what_they_show_and_name_a_bad_line():
    assert admin_spec.parse_match_map("end-user exact jason\n\nx-v prefix a b") == {
        "end-user": {"exact": "jason"},
        "x-v": {"prefix": "a b"},
    }
    assert admin_spec.parse_string_map(admin_spec.string_map_text({"a": "1", "b": "2"})) == {"a": "1", "b": "2"}
    assert admin_spec.parse_string_list("a, b\nc\n") == ["a", "b", "c"]
    with pytest.raises(ValueError, match="line 2"):
        admin_spec.parse_match_map("a exact b\nbroken")
    with pytest.raises(ValueError, match="line 1"):
        admin_spec.parse_string_map("no equals sign")
    with pytest.raises(ValueError, match="prefix /reviews"):
        admin_spec.parse_string_match("startswith /x")
