"""The graph's latency samples straight from bucket and sum rows equal the PromQL rows joined by the sample parser.

:func:`topology.telemetry.promql_math.derive_latency_samples` replaces formatting :func:`derive_latency_rows`' values to
strings, dropping uncounted rows and parsing the rest back with :func:`build_latency_samples`: the samples, their
float values, their weights and their order must all stay the same (the order decides in which order rows are
merged into edges, which changes the floating-point sums).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from clients.prometheus import GraphRows
from topology.graph.reporters import LATENCY_KEY_LABELS, build_counted_filter
from topology.graph.samples import IstioLabels, LatencySample, build_latency_samples
from topology.telemetry.promql_math import derive_latency_rows, derive_latency_samples
from topology.telemetry.rows import build_counted_latency_samples, build_graph_inputs

Row = dict[str, Any]
AT = 1700000000.0


def joined_rows(bucket_rows: list[Row], sum_rows: list[Row]) -> list[LatencySample]:
    """The former path: PromQL-shaped rows, the uncounted reports dropped, values parsed back and joined."""
    derived = derive_latency_rows(bucket_rows, sum_rows)
    is_counted = counted_filter(bucket_rows)

    def counted(name: str) -> list[Row]:
        return [row for row in derived[name] if is_counted(row.get("metric", {}))]

    return build_latency_samples(
        counted("latency_avg"),
        counted("latency_p50"),
        counted("latency_p95"),
        counted("latency_p99"),
        counted("latency_count"),
    )


def counted_filter(bucket_rows: list[Row]) -> Callable[[Mapping[str, object]], bool]:
    """The reporter rule over these histogram rows (a source report counts unless the destination has the same)."""
    return build_counted_filter([row["metric"] for row in bucket_rows], LATENCY_KEY_LABELS)


def assert_same_samples(bucket_rows: list[Row], sum_rows: list[Row]) -> list[LatencySample]:
    """Both paths give equal samples in the same order, down to label order and the sign of zero."""
    expected = joined_rows(bucket_rows, sum_rows)
    actual = derive_latency_samples(bucket_rows, sum_rows, counted_filter(bucket_rows))
    assert actual == expected
    assert [repr(sample) for sample in actual] == [repr(sample) for sample in expected]
    return actual


def edge(source: str, reporter: str = "destination", destination: str | None = "reviews-v1") -> IstioLabels:
    labels: IstioLabels = {"reporter": reporter, "source_workload": source}
    if destination is not None:
        labels["destination_workload"] = destination
    return labels


def buckets(labels: Mapping[str, object], *pairs: tuple[str, str]) -> list[Row]:
    return [{"metric": {**labels, "le": le}, "value": [AT, value]} for le, value in pairs]


def total(labels: Mapping[str, object], value: str) -> Row:
    return {"metric": dict(labels), "value": [AT, value]}


def test_one_histogram_gives_its_average_quantiles_and_count() -> None:
    labels = edge("productpage-v1")
    [sample] = assert_same_samples(buckets(labels, ("10", "1"), ("100", "3"), ("+Inf", "4")), [total(labels, "40")])
    assert sample == LatencySample(labels=labels, avg=10.0, p50=55.0, p95=100.0, p99=100.0, weight=4.0)


def test_edge_cases_match_the_joined_rows() -> None:
    plain = edge("a")
    uncounted = edge("a", reporter="source")  # the destination proxy reports this edge
    outside = edge("b", reporter="source", destination=None)  # no destination workload: the source counts
    no_reporter = {"source_workload": "c", "destination_workload": "reviews-v1"}  # counted by nobody
    no_inf = edge("d")
    idle = edge("e")
    nan_counts = edge("f")
    duplicates = edge("g")
    infinite = edge("h")
    negative_zero = edge("i")
    tiny = edge("j")
    twice_inf = edge("k")
    no_sum = edge("l")
    p95_only = edge("m")
    bucket_rows = [
        *buckets(plain, ("5", "2"), ("50", "6"), ("+Inf", "8")),
        *buckets(uncounted, ("5", "2"), ("50", "6"), ("+Inf", "8")),
        *buckets(outside, ("1", "0.5"), ("+Inf", "1")),
        *buckets(no_reporter, ("1", "0.5"), ("+Inf", "1")),
        *buckets(no_inf, ("1", "1"), ("5", "2")),  # no +Inf: NaN quantiles, no count, no average
        *buckets(idle, ("10", "0"), ("+Inf", "0")),  # nothing observed: NaN everywhere, count 0
        *buckets(nan_counts, ("1", "NaN"), ("+Inf", "NaN")),
        *buckets(duplicates, ("1", "2"), ("1.0", "3"), ("10", "9"), ("+Inf", "10")),  # "1" and "1.0" merge
        *buckets(infinite, ("1", "+Inf"), ("+Inf", "+Inf")),  # infinite count: weight 0
        *buckets(negative_zero, ("-0", "5"), ("+Inf", "6")),  # quantiles of -0.0 read as 0
        *buckets(tiny, ("1e-9", "1e-7"), ("1", "3e-7"), ("+Inf", "4e-7")),
        *buckets(twice_inf, ("1", "1"), ("+Inf", "2"), ("Inf", "5")),  # the last +Inf row is the count
        *buckets(no_sum, ("1", "1"), ("+Inf", "2")),  # quantiles only
        *buckets(p95_only, ("1", "NaN"), ("2", "5"), ("+Inf", "10")),  # p50 NaN (5 - NaN), p95 the 2nd bound
        {"metric": {**plain, "le": "abc"}, "value": [AT, "7"]},  # not a number: ignored
        {"metric": edge("n"), "value": [AT, "7"]},  # no le at all: ignored
    ]
    sum_rows = [
        total(idle, "0"),
        total(uncounted, "80"),
        total(plain, "80"),
        total(no_reporter, "3"),
        total(outside, "2"),
        total(no_inf, "9"),
        total(nan_counts, "1"),
        total(duplicates, "1e22"),
        total(infinite, "5"),
        total(negative_zero, "-0"),
        total(tiny, "1e-12"),
        total(twice_inf, "10"),
        total(p95_only, "NaN"),
        total(edge("o"), "5"),  # no histogram: no average
    ]
    samples = assert_same_samples(bucket_rows, sum_rows)
    by_source = {sample.labels["source_workload"]: sample for sample in samples}
    # Averages first, in sum-row order, then the label sets with quantiles only, in bucket order.
    assert list(by_source) == ["a", "b", "g", "h", "i", "j", "k", "f", "l", "m"]
    assert by_source["a"] == LatencySample(labels=plain, avg=10.0, p50=27.5, p95=50.0, p99=50.0, weight=8.0)
    assert by_source["g"] == LatencySample(labels=duplicates, avg=1e21, p50=1.0, p95=10.0, p99=10.0, weight=10.0)
    assert by_source["h"] == LatencySample(labels=infinite, avg=0.0, weight=0.0)  # 5 / +Inf; quantiles NaN
    assert [math.copysign(1.0, value or 0.0) for value in (by_source["i"].avg, by_source["i"].p50)] == [1.0, 1.0]
    assert (by_source["k"].avg, by_source["k"].weight) == (2.0, 5.0)
    assert by_source["f"].weight == 0.0  # a NaN count weighs nothing
    assert (by_source["m"].p50, by_source["m"].p95, by_source["m"].avg) == (None, 2.0, None)


def test_label_order_does_not_split_a_sample() -> None:
    """Rows grouped by their labels in the order they come join on the sorted labels, as the parser joins them."""
    forward = edge("p")
    backward = dict(reversed(list(forward.items())))
    bucket_rows = [
        *buckets(forward, ("1", "1"), ("+Inf", "4")),
        *buckets(backward, ("1", "3"), ("+Inf", "3")),
        *buckets(dict(reversed(list(edge("q").items()))), ("1", "1"), ("+Inf", "2")),
    ]
    sum_rows = [total(backward, "6"), total(forward, "8"), total(edge("q"), "1")]
    [sample, only_quantiles] = assert_same_samples(bucket_rows, sum_rows)
    assert (sample.avg, sample.weight) == (2.0, 3.0)  # the later row of the same label set wins, as before
    assert only_quantiles.avg is None  # the sum row's labels come in another order: no count for them


def test_without_keep_every_reporter_is_kept() -> None:
    labels = edge("r", reporter="source")
    rows = buckets(labels, ("1", "1"), ("+Inf", "2"))
    assert derive_latency_samples(rows, [total(labels, "1")], lambda labels: labels.get("reporter") != "source") == []
    [sample] = derive_latency_samples(rows, [total(labels, "1")])
    assert (sample.avg, sample.weight) == (0.5, 2.0)


def test_graph_rows_build_their_latency_samples_from_the_buckets() -> None:
    counted, uncounted = edge("s"), edge("s", reporter="source")  # the source's report of a request to a workload
    rows = GraphRows(
        latency_buckets=buckets(counted, ("1", "1"), ("+Inf", "2")) + buckets(uncounted, ("1", "4"), ("+Inf", "4")),
        latency_sum=[total(counted, "3"), total(uncounted, "2")],
    )
    [sample] = build_counted_latency_samples(rows)
    assert sample.labels == counted and (sample.avg, sample.p50, sample.weight) == (1.5, 1.0, 2.0)
    assert build_graph_inputs(rows).latencies == joined_rows(rows.latency_buckets, rows.latency_sum)
    assert derive_latency_rows(rows.latency_buckets, rows.latency_sum)["latency_avg"] == [
        {"metric": counted, "value": [AT, "1.5"]},
        {"metric": uncounted, "value": [AT, "0.5"]},
    ]


VALUES = ("0", "-0", "1", "2.5", "3", "7", "10", "1e-7", "123.456", "1e22", "NaN", "+Inf", "-Inf", "-1")
BOUNDS = ("-1", "-0", "0", "0.5", "1", "1.0", "2.5", "5", "10", "100", "+Inf", "Inf", "-Inf", "NaN", "x")


@pytest.mark.parametrize("seed", range(40))
def test_random_rows_match_the_joined_rows(seed: int) -> None:
    chooser = random.Random(seed)
    label_sets = []
    for index in range(chooser.randint(1, 12)):
        labels = {
            "reporter": chooser.choice(("source", "destination", "")),
            "source_workload": f"w{index % 5}",
            "destination_workload": chooser.choice(("reviews-v1", "unknown", "")),
        }
        labels = {name: value for name, value in labels.items() if value}
        if chooser.random() < 0.2:
            labels = dict(reversed(list(labels.items())))
        label_sets.append(labels)
    bucket_rows: list[Row] = []
    for labels in label_sets:
        for _ in range(chooser.randint(0, 6)):
            le, value = chooser.choice(BOUNDS), chooser.choice(VALUES)
            bucket_rows.append({"metric": {**labels, "le": le}, "value": [AT, value]})
    if chooser.random() < 0.5:  # Prometheus answers in no particular order
        chooser.shuffle(bucket_rows)
    else:
        bucket_rows.sort(key=lambda row: float(row["value"][1]))
    sum_rows = [total(labels, chooser.choice(VALUES)) for labels in label_sets if chooser.random() < 0.8]
    chooser.shuffle(sum_rows)
    assert_same_samples(bucket_rows, sum_rows)
