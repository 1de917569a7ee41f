"""Bad input to the API answers 400 naming the parameter: the 23 requests that answered 500, and their kin."""

from __future__ import annotations

import pytest

from inventory.models import Cluster

TIME_PARAMETERS = [
    ("/api/v1/graph", "at", {}),
    ("/api/v1/health", "at", {}),
    ("/api/v1/snapshots", "since", {}),
    ("/api/v1/snapshots", "until", {}),
    ("/api/v1/graph/diff", "from", {}),
    ("/api/v1/graph/diff", "to", {"from": "0"}),
    ("/api/v1/metrics", "since", {"kind": "app", "namespace": "bookinfo", "name": "reviews"}),
    ("/api/v1/metrics", "until", {"kind": "app", "namespace": "bookinfo", "name": "reviews"}),
]
BAD_TIMES = ["1e20", "inf", "-inf", "nan", "1e308", "-1", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]


@pytest.fixture
def configured(db):
    return Cluster.objects.create(name="bookinfo")


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize(("path", "parameter", "others"), TIME_PARAMETERS)
def test_a_time_out_of_range_is_a_400_naming_the_parameter(client, configured, path, parameter, others, value):
    response = client.get(path, {**others, parameter: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["details"]) == [parameter]
    assert body["message"].startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("duration", "99999999999"),
        ("duration", "²"),
        ("duration", "١٢"),  # Arabic-Indic digits: int() reads them, a duration does not
        ("duration", "0"),
        ("duration", "99999999999d"),
        ("points", "²"),
        ("points", "99999999999999999999999"),
        ("namespace", "x" * 64),
    ],
)
def test_metrics_parameters_are_bounded(client, configured, parameter, value):
    query = {"kind": "app", "namespace": "bookinfo", "name": "reviews", parameter: value}
    response = client.get("/api/v1/metrics", query)
    assert response.status_code == 400
    assert list(response.json()["details"]) == [parameter]


def test_graph_duration_and_namespaces_are_bounded(client, configured):
    assert list(client.get("/api/v1/graph", {"duration": "1e400"}).json()["details"]) == ["duration"]
    many = ",".join(f"ns{i}" for i in range(101))
    assert list(client.get("/api/v1/graph", {"namespaces": many}).json()["details"]) == ["namespaces"]


def test_edge_times_inside_the_range_are_accepted(client, configured):
    for value in ["0", "1970-01-01T00:00:00Z", "2999-12-31T23:59:59Z", "2026-01-01T12:00:00+14:00"]:
        assert client.get("/api/v1/snapshots", {"until": value, "since": "0"}).status_code == 200, value
