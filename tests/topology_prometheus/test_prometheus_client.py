"""PrometheusClient: errors become PrometheusError, calls time out, a window's graph queries run concurrently."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from urllib.parse import parse_qs, urlsplit

import pytest

from clients.prometheus import GRAPH_QUERY_WORKERS, PrometheusClient, PrometheusError, PrometheusSettings
from devtools.http_stub import Answer, serving
from tests.support.prometheus import find_free_port
from tests.topology_prometheus.bookinfo_series import AT, NS
from tests.topology_prometheus.rows import ROW_FIELDS, query_rows
from topology.graph import build_graph_queries
from topology.graph.queries import split_sum_rate_query
from topology.telemetry.promql_math import derive_latency_samples
from topology.telemetry.rows import build_graph_query_parts

# (status, content type, body) for one request to /api/v1/query; the handler also sees the request headers.
Reply = tuple[int, str, bytes]
Behaviour = Callable[[str, dict[str, str]], Reply]


def vector(*values: str) -> Reply:
    result = [{"metric": {"reporter": "destination"}, "value": [AT, value]} for value in values]
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
    return 200, "application/json", body.encode()


@pytest.fixture
def fake_prometheus() -> Iterator[Callable[[Behaviour], str]]:
    """A stand-in HTTP server whose ``/api/v1/query`` answers with a test-supplied behaviour."""
    with ExitStack() as servers:

        def start(behaviour: Behaviour) -> str:
            def respond(path: str, headers: Mapping[str, str]) -> Answer:
                parts = urlsplit(path)
                if parts.path == "/-/ready":
                    return 200, "text/plain", b"Prometheus Server is Ready.\n"
                return behaviour(parse_qs(parts.query).get("query", [""])[0], dict(headers))

            return servers.enter_context(serving(respond))

        yield start


def client_for(url: str, **settings: object) -> PrometheusClient:
    return PrometheusClient(PrometheusSettings(url, **settings))  # type: ignore[arg-type]


def test_closed_port_is_a_prometheus_error_quickly() -> None:
    client = client_for(f"http://127.0.0.1:{find_free_port()}", timeout=2)
    started = time.monotonic()
    with pytest.raises(PrometheusError, match="cannot reach Prometheus"):
        client.fetch_instant("up")
    assert time.monotonic() - started < 2


@pytest.mark.prometheus
def test_bad_query_carries_prometheus_message(prometheus_client: PrometheusClient) -> None:
    with pytest.raises(PrometheusError, match=r"refused the query: HTTP Status Code 400") as caught:
        prometheus_client.fetch_instant("sum(rate(istio_requests_total[5m]", at=AT)
    assert "bad_data" in str(caught.value) and "unclosed left parenthesis" in str(caught.value)


@pytest.mark.prometheus
def test_instant_query_on_a_real_prometheus(prometheus_client: PrometheusClient) -> None:
    assert prometheus_client.fetch_instant("vector(1)", at=AT) == [{"metric": {}, "value": [AT, "1"]}]


def test_server_errors_and_unreadable_answers_are_prometheus_errors(fake_prometheus) -> None:
    def behaviour(query: str, headers: dict[str, str]) -> Reply:
        if query == "html":
            return 200, "text/html", b"<html>login</html>"
        if query == "scalar":
            body = {"status": "success", "data": {"resultType": "scalar", "result": [AT, "1"]}}
            return 200, "application/json", json.dumps(body).encode()
        if query == "shape":
            return 200, "application/json", b'{"status": "success"}'
        return 503, "application/json", b'{"status":"error","errorType":"unavailable","error":"TSDB not ready"}'

    client = client_for(fake_prometheus(behaviour), timeout=2)
    with pytest.raises(PrometheusError, match="unreadable"):
        client.fetch_instant("html")
    with pytest.raises(PrometheusError, match="expected an instant vector"):
        client.fetch_instant("scalar")
    with pytest.raises(PrometheusError, match="unreadable"):
        client.fetch_instant("shape")
    with pytest.raises(PrometheusError, match="refused the query: HTTP Status Code 503") as caught:
        client.fetch_instant("down")
    assert "TSDB not ready" in str(caught.value)


def test_slow_prometheus_times_out(fake_prometheus) -> None:
    def slow(query: str, headers: dict[str, str]) -> Reply:
        time.sleep(1.5)
        return vector("1")

    client = client_for(fake_prometheus(slow), timeout=0.3)
    started = time.monotonic()
    with pytest.raises(PrometheusError, match=r"did not answer within 0.3s"):
        client.fetch_instant("up")
    assert time.monotonic() - started < 1.4  # one quick retry at most, never the full delay twice


def test_bearer_token_is_sent_and_never_printed(fake_prometheus) -> None:
    seen: list[str] = []

    def record(query: str, headers: dict[str, str]) -> Reply:
        seen.append(headers.get("Authorization", ""))
        return vector("2.5")

    settings = PrometheusSettings(fake_prometheus(record), bearer_token="s3cret")
    rows = PrometheusClient(settings).fetch_instant("up", at=AT)
    assert rows == [{"metric": {"reporter": "destination"}, "value": [AT, "2.5"]}]
    assert seen == ["Bearer s3cret"]
    assert "s3cret" not in repr(settings)


def test_answers_are_not_gzipped_unless_asked(fake_prometheus) -> None:
    seen: list[str] = []

    def record(query: str, headers: dict[str, str]) -> Reply:
        seen.append(headers.get("Accept-Encoding", ""))
        return vector("1")

    url = fake_prometheus(record)
    client_for(url).fetch_instant("up", at=AT)
    client_for(url, gzip=True).fetch_instant("up", at=AT)
    assert seen == ["identity", "gzip, deflate"]


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="http"):
        PrometheusSettings("prometheus:9090")
    with pytest.raises(ValueError, match="timeout"):
        PrometheusSettings("http://prometheus:9090", timeout=0)


def buckets(*pairs: tuple[str, str]) -> Reply:
    result = [{"metric": {"le": le, "reporter": "destination"}, "value": [AT, value]} for le, value in pairs]
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
    return 200, "application/json", body.encode()


def test_graph_queries_run_concurrently_and_land_in_their_fields(fake_prometheus) -> None:
    queries = build_graph_queries([NS], "5m")
    answers = {
        queries.requests: vector("1"),
        queries.tcp.sent: vector("2"),
        queries.tcp.received: vector("3"),
        queries.latency.buckets: buckets(("10", "1"), ("100", "3"), ("+Inf", "4")),
        queries.latency.sum: vector("40"),
        queries.grpc_messages.request: vector("5"),
        queries.grpc_messages.response: vector("6"),
        queries.http_bytes.request: vector("7"),
        queries.http_bytes.response: vector("8"),
    }

    # Each query runs as its disjoint parts (one per selector): the first part answers, the others are empty.
    first_parts = {split_sum_rate_query(query)[0]: reply for query, reply in answers.items()}
    # 6 parts; the TCP queries 8 (ztunnel's source reports apart from the others).
    assert [len(split_sum_rate_query(query)) for query in answers] == [6, 8, 8, 6, 6, 6, 6, 6, 6]
    # The first GRAPH_QUERY_WORKERS parts answer only once that many are in flight together (else the barrier
    # breaks after 10 s and they fail).
    together = threading.Barrier(GRAPH_QUERY_WORKERS, timeout=10)
    arrived = iter(range(10**6))
    lock = threading.Lock()

    def concurrent(query: str, headers: dict[str, str]) -> Reply:
        with lock:
            position = next(arrived)
        if position < GRAPH_QUERY_WORKERS:
            try:
                together.wait()
            except threading.BrokenBarrierError:
                return 500, "text/plain", b"the first parts were not sent together"
        return first_parts.get(query) or vector()

    client = client_for(fake_prometheus(concurrent), timeout=15)
    started = time.monotonic()
    rows = client.fetch_graph_rows(build_graph_query_parts(queries), at=AT)
    assert 0 < rows.elapsed_seconds <= time.monotonic() - started
    every = query_rows(rows)
    got = {name: every[name][0]["value"][1] for name in ROW_FIELDS if name != "latency_buckets"}
    # count = the +Inf bucket; avg = sum / count; p50: rank 2 in (10, 100] -> 10 + 90 * (2 - 1) / 2;
    # p95/p99 fall into +Inf -> 100.
    assert got == {
        "requests": "1",
        "tcp_sent": "2",
        "tcp_received": "3",
        "latency_sum": "40",
        "latency_avg": "10",
        "latency_p50": "55",
        "latency_p95": "100",
        "latency_p99": "100",
        "latency_count": "4",
        "grpc_sent": "5",
        "grpc_received": "6",
        "http_request_bytes": "7",
        "http_response_bytes": "8",
    }
    assert [row["value"][1] for row in rows.latency_buckets] == ["1", "3", "4"]
    assert all(row["metric"] == {"reporter": "destination"} for row in every["latency_p50"] + every["latency_avg"])
    [sample] = derive_latency_samples(rows.latency_buckets, rows.latency_sum)  # the graph's sample: same numbers
    assert (sample.avg, sample.p50, sample.p95, sample.p99, sample.weight) == (10.0, 55.0, 100.0, 100.0, 4.0)
    with pytest.raises(ValueError, match="keyed by"):
        client.start_graph_rows({"requests": (queries.requests,)}, at=AT)
    client.close()


def test_one_failing_graph_query_fails_the_fetch(fake_prometheus) -> None:
    queries = build_graph_queries([NS], "5m")

    def p99_broken(query: str, headers: dict[str, str]) -> Reply:
        if query == split_sum_rate_query(queries.latency.buckets)[2]:
            return 422, "application/json", b'{"status":"error","errorType":"execution","error":"too many samples"}'
        return vector("1")

    client = client_for(fake_prometheus(p99_broken))
    with pytest.raises(PrometheusError, match=r"HTTP Status Code 422.*too many samples"):
        client.fetch_graph_rows(build_graph_query_parts(queries), at=AT)
    # Read in two phases, the traffic rows still arrive; the failure comes with the latency rows.
    pending = client.start_graph_rows(build_graph_query_parts(queries), at=AT)
    assert len(pending.traffic().requests) == 6
    with pytest.raises(PrometheusError, match="HTTP Status Code 422"):
        pending.complete()
    client.close()


def test_traffic_rows_are_read_while_the_latency_histogram_is_still_computed(fake_prometheus) -> None:
    queries = build_graph_queries([NS], "5m")
    release = threading.Event()
    latency_parts = set(split_sum_rate_query(queries.latency.buckets) + split_sum_rate_query(queries.latency.sum))
    released: list[bool] = []  # per latency answer: whether the test had released it (False: waited out 10 s)

    def slow_histogram(query: str, headers: dict[str, str]) -> Reply:
        if query in latency_parts:
            released.append(release.wait(10))
        return vector("1")

    client = client_for(fake_prometheus(slow_histogram), timeout=15)
    try:
        pending = client.start_graph_rows(build_graph_query_parts(queries), at=AT)
        traffic = pending.traffic()
        assert released == []  # no latency query has answered yet
        # 6 parts, 8 for TCP (ztunnel's source reports apart).
        assert [len(traffic.requests), len(traffic.tcp_sent), len(traffic.tcp_received)] == [6, 8, 8]
        assert traffic.latency_buckets == [] and traffic.latency_sum == []
        release.set()
        rows = pending.complete()
        assert len(rows.latency_buckets) == 6 and rows.requests == traffic.requests
        assert len(released) == 12 and all(released)
    finally:
        release.set()
        client.close()


def test_a_window_whose_histogram_fails_raises_after_building_its_traffic(fake_prometheus, monkeypatch) -> None:
    import topology.window_build as window_build
    from topology.graph import GraphHealthInputs, MeshContext

    queries = build_graph_queries([NS], "300s")
    bucket_parts = set(split_sum_rate_query(queries.latency.buckets))
    traffic_built = threading.Event()
    built_before_the_histogram_answered: list[bool] = []
    seen: list[str] = []

    class TrafficBuiltBuilder(window_build.WindowGraphBuilder):
        """The window's graph builder, which builds the traffic maps when made, saying when it is done."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            traffic_built.set()

    monkeypatch.setattr(window_build, "WindowGraphBuilder", TrafficBuiltBuilder)

    def histogram_broken(query: str, headers: dict[str, str]) -> Reply:
        seen.append(query)
        if query in bucket_parts:
            # Held until the traffic maps are built: a window waiting for this answer first would never build them,
            # and the wait would end false after 10 s.
            built_before_the_histogram_answered.append(traffic_built.wait(10))
            return 503, "text/plain", b"overloaded"
        return vector("1")

    url = fake_prometheus(histogram_broken)
    job = window_build.WindowJob(PrometheusSettings(url), (NS,), 300, AT, MeshContext(), GraphHealthInputs())
    with pytest.raises(PrometheusError, match="503"):
        window_build.build_window(job)
    assert built_before_the_histogram_answered and all(built_before_the_histogram_answered)
    assert set(split_sum_rate_query(queries.requests)) <= set(seen)
