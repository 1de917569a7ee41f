"""GET /api/v1/metrics: time series of one entity from the snapshots' stored metrics."""

from __future__ import annotations

import pytest

from tests.dashboard.factories import make_cluster, make_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    cluster = make_cluster("bookinfo")
    entry = {"inHttp": 10.0, "in5xx": 1.0, "in4xx": 0.5, "p50": 3.0, "p95": 9.0, "p99": 12.0, "outHttp": 4.0}
    make_snapshot(cluster, metrics={"workload": {"shop/cart-v1": {"inHttp": 8.0}}}, age_seconds=120)
    make_snapshot(cluster, metrics={"workload": {}}, age_seconds=60)  # no traffic then
    make_snapshot(cluster, metrics={"workload": {"shop/cart-v1": entry}, "namespace": {"shop": {"inHttp": 10.0}}})
    make_snapshot(cluster, metrics={"workload": {"shop/cart-v1": entry}}, age_seconds=7200)  # outside the hour
    return cluster


def test_it_returns_one_point_per_snapshot_in_the_range(client, cluster):
    response = client.get("/api/v1/metrics", {"kind": "workload", "namespace": "shop", "name": "cart-v1"})
    assert response.status_code == 200
    points = response.json()["points"]
    assert [p["inRate"] for p in points] == [8.0, 0.0, 10.0]
    last = points[-1]
    assert last["errorRate5xx"] == 10.0 and last["errorRate4xx"] == 5.0 and last["errorRateGrpc"] is None
    assert (last["p50"], last["p95"], last["p99"]) == (3.0, 9.0, 12.0)
    assert last["outRate"] == 4.0
    assert points[1]["p95"] is None  # not measured: a gap, not a zero


def test_duration_and_points_narrow_the_series(client, cluster):
    params = {"kind": "workload", "namespace": "shop", "name": "cart-v1"}
    assert len(client.get("/api/v1/metrics", {**params, "duration": "90s"}).json()["points"]) == 2
    assert len(client.get("/api/v1/metrics", {**params, "duration": "1d"}).json()["points"]) == 4
    averaged = client.get("/api/v1/metrics", {**params, "duration": "1d", "points": "2"}).json()["points"]
    assert len(averaged) == 2


def test_namespace_series_needs_no_name(client, cluster):
    points = client.get("/api/v1/metrics", {"kind": "namespace", "namespace": "shop"}).json()["points"]
    assert points[-1]["inRate"] == 10.0


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "pod", "namespace": "shop", "name": "x"},
        {"kind": "workload", "namespace": "shop"},
        {"kind": "workload", "namespace": "shop", "name": "x", "since": "yesterday"},
        {"kind": "workload", "namespace": "shop", "name": "x", "cluster": "nope"},
        {"kind": "workload", "namespace": "shop", "name": "x", "points": "0"},
    ],
)
def test_bad_requests_are_400(client, cluster, params):
    assert client.get("/api/v1/metrics", params).status_code == 400


def test_it_is_documented_in_the_openapi_schema(client, db):
    schema = client.get("/api/v1/schema", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/metrics"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"kind", "namespace", "name", "since", "until", "cluster"}


def test_a_bad_request_names_each_invalid_parameter(client, cluster):
    body = client.get("/api/v1/metrics", {"kind": "pod", "namespace": "shop", "points": "0"}).json()
    assert body["code"] == "invalid" and set(body["details"]) == {"kind", "points"}
    assert body["error"].startswith("kind: ") and "points: " in body["error"]
