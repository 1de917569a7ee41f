"""The direct source (two scrapes, no Prometheus) returns what real Prometheus returns for the same series.

Two proofs: the literal Bookinfo data set read at the two ends of the window, and the simulator's
``TrafficEngine`` scraped over HTTP by a real Prometheus while the test switches between two snapshots.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping

import pytest

from clients.metrics_scrape import CounterSet, fetch_exposition, parse_exposition
from clients.prometheus import PrometheusClient, PrometheusSettings
from devtools.http_stub import Answer, serving
from simulator.traffic import TrafficEngine
from tests.simulator_traffic.bookinfo_objects import NS, FakeCluster, bookinfo
from tests.support.prometheus import RunningPrometheus, require_prometheus, running_prometheus
from tests.topology_prometheus import direction_series
from tests.topology_prometheus.bookinfo_series import AT, WINDOW, WINDOW_SECONDS, build_exposition_at
from tests.topology_prometheus.rows import assert_same_rows, query_rows
from topology.graph import GraphOptions, build_graph, build_graph_queries
from topology.telemetry.direct import build_rows_between
from topology.telemetry.rows import build_graph_inputs, build_graph_query_parts

pytestmark = pytest.mark.prometheus

MARKER = "mesh_ui_test_snapshot"


def test_direct_rows_equal_prometheus_rows_on_the_literal_mesh(prometheus_client: PrometheusClient) -> None:
    queries = build_graph_query_parts(build_graph_queries([NS], WINDOW))
    from_prometheus = prometheus_client.fetch_graph_rows(queries, at=AT)
    older = parse_exposition(build_exposition_at(AT - WINDOW_SECONDS))
    newer = parse_exposition(build_exposition_at(AT))
    direct = build_rows_between(older, newer, WINDOW_SECONDS, [NS], at=AT)
    assert_same_rows(from_prometheus, direct)
    options = GraphOptions(namespaces=frozenset({NS}))
    assert build_graph(build_graph_inputs(direct), options, AT, WINDOW_SECONDS) == build_graph(
        build_graph_inputs(from_prometheus), options, AT, WINDOW_SECONDS
    )


def test_direct_rows_equal_prometheus_rows_without_drop_zero(prometheus_client: PrometheusClient) -> None:
    queries = build_graph_queries([NS], WINDOW, drop_zero=False)
    from_prometheus = prometheus_client.fetch_graph_rows(build_graph_query_parts(queries), at=AT)
    older = parse_exposition(build_exposition_at(AT - WINDOW_SECONDS))
    newer = parse_exposition(build_exposition_at(AT))
    direct = build_rows_between(older, newer, WINDOW_SECONDS, [NS], drop_zero=False, at=AT)
    assert_same_rows(from_prometheus, direct)
    assert any(row["value"][1] == "0" for row in direct.requests)  # the idle series are kept


def test_direct_rows_equal_prometheus_rows_by_direction(direction_prometheus: PrometheusClient) -> None:
    """gRPC messages, HTTP body bytes and TCP bytes by direction (``direction_series``): same rows, same graph."""
    queries = build_graph_query_parts(build_graph_queries([direction_series.NS], WINDOW))
    from_prometheus = direction_prometheus.fetch_graph_rows(queries, at=AT)
    older = parse_exposition(direction_series.build_exposition_at(AT - WINDOW_SECONDS))
    newer = parse_exposition(direction_series.build_exposition_at(AT))
    direct = build_rows_between(older, newer, WINDOW_SECONDS, [direction_series.NS], at=AT)
    assert_same_rows(from_prometheus, direct)
    for name in ("grpc_sent", "grpc_received", "http_request_bytes", "http_response_bytes"):
        assert getattr(direct, name), name  # the rows the comparison covers are there
    options = GraphOptions(namespaces=frozenset({direction_series.NS}))
    assert build_graph(build_graph_inputs(direct), options, AT, WINDOW_SECONDS) == build_graph(
        build_graph_inputs(from_prometheus), options, AT, WINDOW_SECONDS
    )


class _Exposition:
    """What the tiny scrape target serves: the engine's text plus a marker gauge naming the snapshot."""

    def __init__(self) -> None:
        self.text = ""
        self.lock = threading.Lock()

    def publish(self, engine_text: str, snapshot: int) -> None:
        with self.lock:
            self.text = f"{engine_text}# TYPE {MARKER} gauge\n{MARKER} {snapshot}\n"

    def read(self) -> str:
        with self.lock:
            return self.text


@pytest.fixture
def scrape_target() -> Iterator[tuple[str, _Exposition]]:
    exposition = _Exposition()

    def respond(path: str, headers: Mapping[str, str]) -> Answer:
        return 200, "text/plain; version=0.0.4; charset=utf-8", exposition.read().encode()

    with serving(respond) as url:
        yield url.removeprefix("http://"), exposition


def _marker_points(server: RunningPrometheus) -> list[tuple[float, int]]:
    data = server.fetch_api("query", query=f"{MARKER}[5m]", time=f"{time.time():.3f}")
    assert isinstance(data, dict)
    return [(float(ts), int(float(v))) for result in data["result"] for ts, v in result["values"]]


def _wait_for_snapshot(server: RunningPrometheus, snapshot: int, timeout: float = 15.0) -> list[tuple[float, int]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        points = _marker_points(server)
        if any(value == snapshot for _, value in points):
            return points
        time.sleep(0.1)
    raise AssertionError(f"Prometheus never scraped snapshot {snapshot}:\n{server.log_tail()}")


def test_direct_rows_equal_prometheus_scraping_the_traffic_engine(scrape_target) -> None:
    require_prometheus()
    address, exposition = scrape_target
    engine = TrafficEngine(FakeCluster(bookinfo(with_mongodb=True)).read_objects, namespace=NS, seed=7, rps=20.0)
    engine.step(120)  # warm up: every series exists before the first snapshot, as Prometheus needs two samples
    first = engine.render_metrics()
    exposition.publish(first, 1)
    with running_prometheus([address], scrape_interval="1s") as server:
        _wait_for_snapshot(server, 1)
        engine.step(30)
        second = engine.render_metrics()
        exposition.publish(second, 2)
        points = _wait_for_snapshot(server, 2)
        last_first = max(ts for ts, value in points if value == 1)
        first_second = min(ts for ts, value in points if value == 2)
        window_ms = round((first_second - last_first) * 1000)
        # A window of exactly the scrape interval, ending on the second snapshot, holds one sample of each.
        queries = build_graph_queries([NS], f"{window_ms}ms")
        with PrometheusClient(PrometheusSettings(server.url, timeout=5)) as client:
            from_prometheus = client.fetch_graph_rows(build_graph_query_parts(queries), at=first_second)
        served = fetch_exposition(f"http://{address}/metrics", timeout=5)
    older, newer = parse_exposition(first), parse_exposition(second)
    assert _all_series_in(older, newer)
    direct = build_rows_between(older, newer, window_ms / 1000, [NS], at=first_second)
    assert_same_rows(from_prometheus, direct)
    # Requests, TCP, latency and HTTP body byte rows all present (Bookinfo has no gRPC: no message rows).
    assert all(rows for name, rows in query_rows(direct).items() if not name.startswith("grpc_"))
    assert parse_exposition(served).series == newer.series


def _all_series_in(older: CounterSet, newer: CounterSet) -> bool:
    return all(key in older.series.get(name, {}) for name, series in newer.series.items() for key in series)
