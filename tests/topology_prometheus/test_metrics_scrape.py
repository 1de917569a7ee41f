"""The direct source without Prometheus: parsing, counter resets, scope filters, quantiles, storage."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client.parser import text_string_to_metric_families

from clients.metrics_scrape import (
    GRAPH_SERIES,
    CounterSet,
    ScrapeError,
    build_rows_between,
    build_scope_matchers,
    compute_histogram_quantile,
    compute_increase,
    counterset_from_json,
    counterset_to_json,
    fetch_exposition,
    format_sample_value,
    parse_exposition,
    parse_labels,
    parse_selector,
)
from simulator.traffic import TrafficEngine
from tests.simulator_traffic.bookinfo_objects import FakeCluster, bookinfo
from tests.support.prometheus import find_free_port
from tests.topology_prometheus.rows import rows_by_labels
from topology.graph.queries import (
    LATENCY_LABELS,
    REQUEST_LABELS,
    TCP_LABELS,
    build_graph_queries,
    build_scope_selectors,
)

INF = math.inf


def request_line(value: float, **labels: str) -> str:
    base = {
        "reporter": "destination",
        "source_workload_namespace": "bookinfo",
        "source_workload": "productpage-v1",
        "destination_service_namespace": "bookinfo",
        "destination_service_name": "reviews",
        "destination_workload": "reviews-v1",
        "response_code": "200",
    }
    base.update(labels)
    text = ",".join(f'{k}="{v}"' for k, v in base.items())
    return f"istio_requests_total{{{text}}} {value}"


def scrape(*lines: str, at: float = 0.0) -> CounterSet:
    return parse_exposition("\n".join(lines) + "\n", scraped_at=at)


def rates(rows: list[dict]) -> dict[str, float]:
    """Request rows keyed by ``source_workload/response_code``."""
    return {f"{r['metric']['source_workload']}/{r['metric'].get('response_code')}": float(r["value"][1]) for r in rows}


# ------------------------------------------------------------------------------------------------ parsing


def test_parse_keeps_graph_series_and_unescapes_labels() -> None:
    text = (
        "# HELP istio_requests_total Total requests.\n"
        "# TYPE istio_requests_total counter\n"
        'istio_requests_total{a="x\\"y",b="line\\nbreak",c="back\\\\slash",d="{},= "} 12 1700000000000\n'
        "process_cpu_seconds_total 3\n"
        "# EOF\n"
    )
    parsed = parse_exposition(text)
    assert list(parsed.series) == ["istio_requests_total"]
    assert parsed.series["istio_requests_total"] == {
        (("a", 'x"y'), ("b", "line\nbreak"), ("c", "back\\slash"), ("d", "{},= ")): 12.0
    }


def test_parse_drops_empty_label_values_like_prometheus() -> None:
    assert parse_labels('grpc_response_status="",reporter="source"') == (("reporter", "source"),)


def test_parse_rejects_garbage_with_the_line_number() -> None:
    with pytest.raises(ScrapeError, match="line 2"):
        parse_exposition('istio_requests_total{a="1"} 1\nistio_requests_total{a="1" 2\n')
    with pytest.raises(ScrapeError, match="bad value"):
        parse_exposition("istio_requests_total 1x\n")


def test_parse_agrees_with_prometheus_client_on_the_simulator_exposition() -> None:
    engine = TrafficEngine(FakeCluster(bookinfo(with_mongodb=True)).read_objects, seed=3, rps=20.0)
    engine.step(10)
    text = engine.render_metrics()
    expected: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in GRAPH_SERIES:
                key = tuple(sorted((k, v) for k, v in sample.labels.items() if v))
                expected.setdefault(sample.name, {})[key] = sample.value
    assert parse_exposition(text).series == expected


# ------------------------------------------------------------------------------------------------ PromQL mirror


def test_the_label_lists_are_the_ones_the_queries_group_by() -> None:
    queries = build_graph_queries(["bookinfo"], "5m")

    def by(query: str) -> tuple[str, ...]:
        match = re.search(r"sum by \(([^)]*)\)", query)
        assert match is not None
        return tuple(match.group(1).split(","))

    assert by(queries.requests) == REQUEST_LABELS
    assert by(queries.tcp.sent) == by(queries.tcp.received) == TCP_LABELS
    assert by(queries.latency.sum) == LATENCY_LABELS
    assert by(queries.latency.buckets) == (*LATENCY_LABELS, "le")


def test_the_scope_matchers_are_parsed_from_the_query_selectors() -> None:
    outgoing, incoming = build_scope_selectors(["bookinfo", "a.b"], ["east"])
    queries = build_graph_queries(["bookinfo", "a.b"], "5m", ["east"], counted_only=False)
    assert f"{{{outgoing}}}" in queries.requests and f"{{{incoming}}}" in queries.requests
    counted = build_graph_queries(["bookinfo", "a.b"], "5m", ["east"]).requests
    counted_matchers = build_scope_matchers(["bookinfo", "a.b"], ["east"], counted_only=True)
    assert len(counted_matchers) == 4 and counted.count("rate(") == 4
    assert [(m.name, m.op, m.value) for m in counted_matchers[1][:2]] == [
        ("reporter", "=", "source"),
        ("destination_workload", "=~", "unknown|"),
    ]
    parsed_out, parsed_in = build_scope_matchers(["bookinfo", "a.b"], ["east"])
    assert [(m.name, m.op, m.value) for m in parsed_out] == [
        ("reporter", "=~", "source|destination"),
        ("source_workload_namespace", "=~", "a\\.b|bookinfo"),
        ("source_cluster", "=~", "east"),
    ]
    assert [m.op for m in parsed_in] == ["=~", "=~", "!~", "=~"]
    with pytest.raises(ValueError, match="unsupported"):
        parse_selector('reporter=~"x",oops')


def test_counter_reset_counts_the_new_value() -> None:
    assert compute_increase(100.0, 130.0) == 30.0
    assert compute_increase(100.0, 20.0) == 20.0  # the proxy restarted and counted 20 since
    assert compute_increase(None, 7.0) == 7.0  # born during the interval
    older = scrape(request_line(600), request_line(90, source_workload="a"))
    newer = scrape(request_line(60), request_line(120, source_workload="a"))
    assert rates(build_rows_between(older, newer, 30, ["bookinfo"]).requests) == {
        "productpage-v1/200": 2.0,
        "a/200": 1.0,
    }


def test_new_series_count_from_zero_and_vanished_series_disappear() -> None:
    older = scrape(request_line(10, source_workload="gone"))
    newer = scrape(request_line(30, source_workload="new"))
    assert rates(build_rows_between(older, newer, 10, ["bookinfo"]).requests) == {"new/200": 3.0}


def test_zero_rate_rows_are_dropped_only_with_drop_zero() -> None:
    older = scrape(request_line(10), request_line(5, response_code="503"))
    newer = scrape(request_line(20), request_line(5, response_code="503"))
    assert rates(build_rows_between(older, newer, 10, ["bookinfo"]).requests) == {"productpage-v1/200": 1.0}
    kept = build_rows_between(older, newer, 10, ["bookinfo"], drop_zero=False).requests
    assert rates(kept) == {"productpage-v1/200": 1.0, "productpage-v1/503": 0.0}
    assert sorted(r["value"][1] for r in kept) == ["0", "1"]


def test_rows_are_summed_by_the_query_labels_only() -> None:
    # Two pods of the same workload (a label the query does not group by) add up into one row.
    older = scrape(request_line(0, pod="a"), request_line(0, pod="b"))
    newer = scrape(request_line(10, pod="a"), request_line(20, pod="b"))
    rows = build_rows_between(older, newer, 10, ["bookinfo"]).requests
    assert len(rows) == 1 and rows[0]["value"][1] == "3"
    assert "pod" not in rows[0]["metric"] and set(rows[0]["metric"]) <= set(REQUEST_LABELS)


def test_scope_filters_mirror_the_query_selectors() -> None:
    lines = [
        request_line(0, source_workload="inside"),
        request_line(0, source_workload="incoming", source_workload_namespace="istio-system"),
        request_line(
            0,
            source_workload="outgoing",
            destination_service_namespace="other",
            destination_workload="x",
        ),
        request_line(
            0,
            source_workload="unrelated",
            source_workload_namespace="other",
            destination_service_namespace="other",
        ),
        request_line(0, source_workload="prefix", source_workload_namespace="bookinfo2"),
        request_line(0, source_workload="waypoint", reporter="waypoint"),
    ]
    older = scrape(*lines)
    newer = scrape(*(line.replace("} 0", "} 10") for line in lines))
    got = rates(build_rows_between(older, newer, 10, ["bookinfo"]).requests)
    # "prefix" is incoming too: bookinfo2 is another namespace, sending into bookinfo (regexes are anchored).
    assert got == {"inside/200": 1.0, "incoming/200": 1.0, "outgoing/200": 1.0, "prefix/200": 1.0}


def test_namespace_dots_are_literal_and_clusters_filter() -> None:
    lines = [
        request_line(0, source_workload="dotted", source_workload_namespace="a.b", destination_service_namespace="a.b"),
        request_line(0, source_workload="axb", source_workload_namespace="axb", destination_service_namespace="axb"),
        request_line(0, source_workload="east", source_cluster="east", destination_cluster="east"),
        request_line(0, source_workload="west", source_cluster="west", destination_cluster="west"),
    ]
    older = scrape(*lines)
    newer = scrape(*(line.replace("} 0", "} 10") for line in lines))
    assert set(rates(build_rows_between(older, newer, 10, ["a.b"]).requests)) == {"dotted/200"}
    assert set(rates(build_rows_between(older, newer, 10, ["bookinfo"], ["east"]).requests)) == {"east/200"}


def test_histogram_quantile_interpolates_linearly_inside_the_bucket() -> None:
    buckets = [(1.0, 0.0), (5.0, 10.0), (10.0, 30.0), (INF, 40.0)]
    assert compute_histogram_quantile(0.5, buckets) == 5 + 5 * (20 - 10) / 20  # rank 20 in (5, 10]
    assert compute_histogram_quantile(0.1, buckets) == 1 + 4 * (4 - 0) / 10  # rank 4 in (1, 5]
    assert math.isnan(compute_histogram_quantile(0.0, buckets))  # rank 0 in the empty (0, 1]: 0/0 as in Go
    assert compute_histogram_quantile(0.01, [(2.0, 10.0), (INF, 10.0)]) == pytest.approx(0.02)  # from 0
    assert compute_histogram_quantile(0.5, list(reversed(buckets))) == 7.5  # order does not matter


def test_histogram_quantile_edge_rules() -> None:
    buckets = [(1.0, 0.0), (5.0, 10.0), (10.0, 30.0), (INF, 40.0)]
    assert compute_histogram_quantile(0.9, buckets) == 10.0  # rank 36 > 30: in +Inf -> highest finite bound
    assert math.isnan(compute_histogram_quantile(0.5, [(1.0, 1.0), (5.0, 2.0)]))  # no +Inf bucket
    assert math.isnan(compute_histogram_quantile(0.5, [(1.0, 0.0), (INF, 0.0)]))  # no observations
    assert math.isnan(compute_histogram_quantile(0.5, [(INF, 3.0)]))  # fewer than two buckets
    assert compute_histogram_quantile(-0.1, buckets) == -INF
    assert compute_histogram_quantile(1.1, buckets) == INF
    assert compute_histogram_quantile(0.5, [(-1.0, 5.0), (INF, 6.0)]) == -1.0  # first bound <= 0 is returned
    # Non-monotonic counts (rounding across series) are forced up; equal bounds merge.
    assert compute_histogram_quantile(0.75, [(5.0, 4.0), (10.0, 2.0), (20.0, 8.0), (INF, 8.0)]) == 15.0
    assert compute_histogram_quantile(0.5, [(5.0, 5.0), (5.0, 5.0), (10.0, 20.0), (INF, 20.0)]) == 5.0


def test_latency_rows_quantiles_average_and_idle_nan() -> None:
    def histogram(value_at: dict[str, float], total: float, count: float, workload: str) -> list[str]:
        labels = (
            f'reporter="destination",source_workload_namespace="bookinfo",source_workload="{workload}",'
            'destination_service_namespace="bookinfo",destination_workload="r",response_code="200"'
        )
        lines = [f'istio_request_duration_milliseconds_bucket{{{labels},le="{le}"}} {v}' for le, v in value_at.items()]
        lines.append(f"istio_request_duration_milliseconds_sum{{{labels}}} {total}")
        lines.append(f"istio_request_duration_milliseconds_count{{{labels}}} {count}")
        return lines

    idle = histogram({"10": 3, "+Inf": 3}, 9, 3, "idle")
    older = scrape(*histogram({"10": 0, "100": 0, "+Inf": 0}, 0, 0, "busy"), *idle)
    newer = scrape(*histogram({"10": 10, "100": 30, "+Inf": 40}, 4000, 40, "busy"), *idle)
    rows = build_rows_between(older, newer, 10, ["bookinfo"])
    derived = rows.latency_rows()

    def value(name: str, workload: str) -> str:
        [row] = [r for r in derived[name] if r["metric"]["source_workload"] == workload]
        assert "le" not in row["metric"] and "response_code" not in row["metric"]
        return str(row["value"][1])

    assert value("latency_p50", "busy") == "55"  # rank 2/s in (10, 100]: 10 + 90 * (2 - 1) / 2
    assert value("latency_p99", "busy") == "100"  # rank 3.96 > 3 falls into +Inf
    assert value("latency_avg", "busy") == "100"
    assert value("latency_count", "busy") == "4"
    assert [value(name, "idle") for name in ("latency_p50", "latency_avg", "latency_count")] == ["NaN", "NaN", "0"]
    # The graph's samples: the same numbers as floats; the idle histogram has none.
    [busy] = rows.build_inputs().latencies
    assert busy.labels["source_workload"] == "busy"
    assert (busy.avg, busy.p50, busy.p99, busy.weight) == (100.0, 55.0, 100.0, 4.0)


def test_tcp_rows_use_the_tcp_labels() -> None:
    line = (
        'istio_tcp_sent_bytes_total{reporter="source",source_workload_namespace="bookinfo",source_workload="ratings-v1",'
        'destination_service_namespace="bookinfo",request_protocol="tcp",response_code="x"} '
    )
    rows = build_rows_between(scrape(line + "0"), scrape(line + "4200", at=99.0), 2, ["bookinfo"])
    assert rows.tcp_received == []
    assert rows.tcp_sent == [
        {
            "metric": {
                "reporter": "source",
                "source_workload_namespace": "bookinfo",
                "source_workload": "ratings-v1",
                "destination_service_namespace": "bookinfo",
            },
            "value": [99.0, "2100"],
        }
    ]
    assert set(rows_by_labels(rows.tcp_sent).popitem()[0]) <= {(k, v) for k, v in rows.tcp_sent[0]["metric"].items()}
    assert set(rows.tcp_sent[0]["metric"]) <= set(TCP_LABELS)


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="seconds"):
        build_rows_between(CounterSet(), CounterSet(), 0, ["bookinfo"])


def test_sample_values_are_formatted_like_the_prometheus_api() -> None:
    assert [format_sample_value(v) for v in (2.0, 0.5, 1e-7, 1e22, math.nan, INF, -INF)] == [
        "2",
        "0.5",
        "0.0000001",
        "10000000000000000000000",
        "NaN",
        "+Inf",
        "-Inf",
    ]


# ------------------------------------------------------------------------------------------------ storage


def test_counterset_json_round_trip_is_compact_and_strict() -> None:
    engine = TrafficEngine(FakeCluster(bookinfo(with_mongodb=True)).read_objects, seed=5, rps=20.0)
    engine.step(10)
    text = engine.render_metrics()
    counters = parse_exposition(text, scraped_at=1700000000.5)
    counters.series.setdefault("istio_requests_total", {})[(("odd", "nan"),)] = math.nan
    encoded = json.dumps(counterset_to_json(counters), allow_nan=False, separators=(",", ":"))
    decoded = counterset_from_json(json.loads(encoded))
    assert decoded.scraped_at == 1700000000.5
    nan_key = (("odd", "nan"),)
    assert math.isnan(decoded.series["istio_requests_total"].pop(nan_key))
    counters.series["istio_requests_total"].pop(nan_key)
    assert decoded.series == counters.series
    graph_text = "\n".join(line for line in text.splitlines() if line.split("{")[0] in GRAPH_SERIES)
    assert len(encoded) < len(graph_text) / 5


def test_counterset_from_json_rejects_other_versions_and_garbage() -> None:
    with pytest.raises(ValueError, match="version"):
        counterset_from_json({"version": 99})
    with pytest.raises(ValueError, match="malformed"):
        counterset_from_json({"version": 1, "strings": [], "series": [[0, [], 1]]})


# ------------------------------------------------------------------------------------------------ fetch


@pytest.fixture
def exposition_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = request_line(5).encode() + b"\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_exposition_reads_the_text(exposition_server: str) -> None:
    text = fetch_exposition(f"{exposition_server}/metrics", timeout=2)
    assert parse_exposition(text).series["istio_requests_total"]


def test_fetch_exposition_errors_become_scrape_errors(exposition_server: str) -> None:
    with pytest.raises(ScrapeError, match="HTTP 404"):
        fetch_exposition(f"{exposition_server}/nope", timeout=2)
    with pytest.raises(ScrapeError, match="scraping"):
        fetch_exposition(f"http://127.0.0.1:{find_free_port()}/metrics", timeout=2)
