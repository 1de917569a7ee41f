"""The direct source's arithmetic without Prometheus: counter resets, scope filters, sums, quantiles, values."""

from __future__ import annotations

import math
import re

import pytest

from clients.metrics_scrape import CounterSet, parse_exposition
from tests.topology_prometheus.rows import rows_by_labels
from topology.graph.queries import (
    ALL_REPORTERS,
    LATENCY_LABELS,
    REQUEST_LABELS,
    TCP_LABELS,
    build_graph_queries,
    build_scope_selectors,
)
from topology.telemetry.direct import build_rows_between, build_scope_matchers, compute_increase, parse_selector
from topology.telemetry.promql_math import compute_histogram_quantile, derive_latency_rows, format_sample_value
from topology.telemetry.rows import build_graph_inputs

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
    # The counted query reads each side five times: the destination rows three times (their own part and the
    # waypoint and source parts' `unless`), the waypoint rows once, the source rows once (a source report a waypoint
    # outranks is fetched: ambientTraffic=none counts it).
    assert counted.count("rate(") == 10 and counted.count(f"{outgoing.removeprefix(ALL_REPORTERS + ',')}}}") == 5
    parsed_out, parsed_in = build_scope_matchers(["bookinfo", "a.b"], ["east"])
    assert [(m.name, m.op, m.value) for m in parsed_out] == [
        ("reporter", "=~", "source|destination|waypoint"),
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
        request_line(0, source_workload="client", reporter="client"),
    ]
    older = scrape(*lines)
    newer = scrape(*(line.replace("} 0", "} 10") for line in lines))
    got = rates(build_rows_between(older, newer, 10, ["bookinfo"]).requests)
    # "prefix" is incoming too: bookinfo2 is another namespace, sending into bookinfo (regexes are anchored). An
    # ambient waypoint's report is read; a reporter Istio does not have is not.
    assert got == {"inside/200": 1.0, "incoming/200": 1.0, "outgoing/200": 1.0, "prefix/200": 1.0, "waypoint/200": 1.0}


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
    derived = derive_latency_rows(rows.latency_buckets, rows.latency_sum)

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
    [busy] = build_graph_inputs(rows).latencies
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
