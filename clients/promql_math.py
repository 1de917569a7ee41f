"""PromQL arithmetic mesh-ui evaluates itself, shared by both telemetry sources.

The graph fetches one ``sum by (<latency labels>, le) (rate(..._bucket[w]))`` query per window instead of three
``histogram_quantile`` queries over it (each of which re-reads every bucket series in Prometheus), and derives the
average and the p50/p95/p99 rows here with Prometheus' own algorithms, so the rows are the ones
``sum / count`` and ``histogram_quantile(q, ...)`` would return.  The direct-scrape source
(:mod:`clients.metrics_scrape`) builds the same bucket, sum and count rows and derives through the same code.
No I/O and no Django here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

Row = dict[str, Any]

#: The quantiles the graph shows, keyed by the :class:`~clients.prometheus.GraphRows` field that holds their rows.
LATENCY_QUANTILES: tuple[tuple[str, float], ...] = (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99))


def compute_histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """Prometheus' ``histogram_quantile`` over ``(upper bound, cumulative count)`` pairs.

    Linear interpolation inside the bucket holding the rank (from 0 for the first bucket when its bound is
    positive); the second-highest bound when the rank falls into ``+Inf``; NaN without a ``+Inf`` bucket, with
    fewer than two buckets or without observations.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    return _quantile_of_sorted(q, _prepare_buckets(buckets))


def _prepare_buckets(buckets: Iterable[tuple[float, float]]) -> list[list[float]] | None:
    """Sorted buckets with equal bounds merged and counts forced monotonic; None when no quantile exists."""
    ordered = sorted(buckets, key=lambda bucket: bucket[0])
    if not ordered or not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return None
    merged: list[list[float]] = []
    for bound, count in ordered:  # merge equal bounds (e.g. "1" and "1.0")
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    highest = math.nan
    for bucket in merged:  # a bucket never counts less than the one below it
        if math.isnan(highest) or bucket[1] > highest:
            highest = bucket[1]
        else:
            bucket[1] = highest
    if len(merged) < 2 or merged[-1][1] == 0:
        return None
    return merged


def _quantile_of_sorted(q: float, merged: list[list[float]] | None) -> float:
    """The quantile of buckets prepared by :func:`_prepare_buckets` (``0 <= q <= 1``)."""
    if merged is None:
        return math.nan
    rank = q * merged[-1][1]
    last = len(merged) - 1
    b = last
    for i in range(last):
        if merged[i][1] >= rank:
            b = i
            break
    if b == last:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    return start + (end - start) * divide(rank, count)  # q=0 over an empty first bucket is NaN, as in Go


def divide(numerator: float, denominator: float) -> float:
    """IEEE division as PromQL does it: x/0 is ±Inf, 0/0 is NaN."""
    if denominator == 0:
        if numerator == 0 or math.isnan(numerator):
            return math.nan
        return math.copysign(math.inf, numerator)
    return numerator / denominator


def format_sample_value(value: float) -> str:
    """A sample value as Prometheus' JSON API writes it: ``NaN``, ``+Inf``, ``-Inf`` or plain decimal digits."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" not in text:  # repr is already the shortest round-trip form without an exponent
        return text
    return format(Decimal(text), "f")


def _row_value(row: Mapping[str, Any]) -> float:
    return float(row["value"][1])


def derive_latency_rows(
    bucket_rows: Iterable[Mapping[str, Any]], sum_rows: Iterable[Mapping[str, Any]]
) -> dict[str, list[Row]]:
    """The rows of ``_count``, of ``sum / count`` and of ``histogram_quantile(q, buckets)`` for each quantile.

    ``bucket_rows`` are the rows of ``sum by (labels, le) (rate(..._bucket[w]))`` and ``sum_rows`` those of
    ``sum by (labels) (rate(..._sum[w]))``.  The count rows are the ``+Inf`` buckets (a histogram's ``_count``
    equals its ``+Inf`` bucket, and the sums add the same series in the same order).  Returns ``latency_count``,
    ``latency_avg`` and the quantile fields.  Rows are grouped by their labels in the order they come (both
    sources write every row's labels in the same order: Prometheus sorts them by name); buckets whose ``le`` is
    not a number are ignored, as in Prometheus.
    """
    groups: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], Any, list[tuple[float, float]]]] = {}
    count_rows: list[Row] = []
    for row in bucket_rows:
        metric = dict(row["metric"])
        le = metric.pop("le", None)
        try:
            bound = float(le)
        except (TypeError, ValueError):
            continue
        value = row["value"]
        if bound == math.inf:
            count_rows.append({"metric": metric, "value": value})
        key = tuple(metric.items())
        group = groups.get(key)
        if group is None:
            groups[key] = (metric, value[0], [(bound, float(value[1]))])
        else:
            group[2].append((bound, float(value[1])))
    derived: dict[str, list[Row]] = {name: [] for name, _ in LATENCY_QUANTILES}
    for metric, at, buckets in groups.values():
        prepared = _prepare_buckets(buckets)
        for name, q in LATENCY_QUANTILES:
            value = format_sample_value(_quantile_of_sorted(q, prepared))
            derived[name].append({"metric": metric, "value": [at, value]})
    counts = {tuple(row["metric"].items()): _row_value(row) for row in count_rows}
    averages: list[Row] = []
    for row in sum_rows:
        metric = row["metric"]
        count = counts.get(tuple(metric.items()))
        if count is not None:
            average = format_sample_value(divide(_row_value(row), count))
            averages.append({"metric": metric, "value": [row["value"][0], average]})
    derived["latency_avg"] = averages
    derived["latency_count"] = count_rows
    return derived


__all__: list[str] = [
    "LATENCY_QUANTILES",
    "compute_histogram_quantile",
    "derive_latency_rows",
    "divide",
    "format_sample_value",
]
