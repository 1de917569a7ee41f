"""PromQL arithmetic mesh-ui evaluates itself, shared by both telemetry sources.

The graph fetches one ``sum by (<latency labels>, le) (rate(..._bucket[w]))`` query per window instead of three
``histogram_quantile`` queries over it (each of which re-reads every bucket series in Prometheus), and derives the
average and the p50/p95/p99 rows here with Prometheus' own algorithms, so the rows are the ones
``sum / count`` and ``histogram_quantile(q, ...)`` would return.  The direct source
(:mod:`topology.telemetry.direct`) builds the same bucket and sum rows from two scrapes, so both telemetry
sources derive through the same code.

The graph itself takes its :class:`~topology.graph.samples.LatencySample` objects straight from the bucket and sum
rows (:func:`derive_latency_samples`, floats only); :func:`derive_latency_rows` returns the same numbers as the
rows PromQL would return, to compare the telemetry sources with each other and with Prometheus.
No I/O and no Django here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from operator import itemgetter
from typing import Any

from topology.graph.samples import IstioLabels, LatencySample

Row = dict[str, Any]

#: The quantiles the graph shows, keyed by the name of their rows in :func:`derive_latency_rows`' result.
LATENCY_QUANTILES: tuple[tuple[str, float], ...] = (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99))

#: The keys of :func:`derive_latency_rows`' result: the average, quantile and count rows.
LATENCY_ROW_FIELDS: tuple[str, ...] = ("latency_avg", *(name for name, _ in LATENCY_QUANTILES), "latency_count")

_BOUND = itemgetter(0)


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
    ordered = sorted(buckets, key=_BOUND)
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
    equals its ``+Inf`` bucket, and the sums add the same series in the same order).  Returns the rows keyed by
    :data:`LATENCY_ROW_FIELDS`, values as Prometheus writes them (:func:`format_sample_value`); the graph takes
    the same numbers as floats from :func:`derive_latency_samples`.  Rows are grouped by their labels in the order
    they come (both sources write every row's labels in the same order: Prometheus sorts them by name); buckets
    whose ``le`` is not a number are ignored, as in Prometheus.
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


#: A label set as its names and its values, in the order they come: equal exactly when the ordered
#: ``(name, value)`` pairs are, but quicker to build and hash.
LabelsKey = tuple[tuple[str, ...], tuple[str, ...]]


class _Histogram:
    """The bucket rows of one label set (``le`` aside), as :func:`derive_latency_samples` collects them."""

    __slots__ = ("buckets", "count", "kept", "labels", "slot")

    def __init__(self, labels: IstioLabels, kept: bool, slot: list[list[Any] | None]) -> None:
        self.labels = labels
        self.kept = kept
        #: ``(upper bound, value)`` of every bucket row (collected only when ``kept``).
        self.buckets: list[tuple[float, float]] = []
        #: The value of the last ``+Inf`` bucket row (the ``_count``), None without one.
        self.count: float | None = None
        #: The joined sample's fields (``[labels, avg, p50, p95, p99, weight]``) once it exists, shared by every
        #: histogram whose labels are the same set (only their order differs).
        self.slot = slot


def _sorting_order(names: tuple[str, ...]) -> tuple[int, ...] | None:
    """The positions of ``names`` in sorted order, None when they are sorted already (as Prometheus writes them)."""
    order = tuple(sorted(range(len(names)), key=names.__getitem__))
    return None if order == tuple(range(len(names))) else order


def _parse_bound(le: Any) -> float | None:
    """A bucket's upper bound, None when ``le`` is not a number (such buckets are ignored, as in Prometheus)."""
    try:
        return float(le)
    except (TypeError, ValueError):
        return None


def derive_latency_samples(
    bucket_rows: Iterable[Mapping[str, Any]],
    sum_rows: Iterable[Mapping[str, Any]],
    keep: Callable[[IstioLabels], bool] | None = None,
) -> list[LatencySample]:
    """The graph's latency samples straight from the bucket and sum rows :func:`derive_latency_rows` reads.

    The same samples, values (floats) and order as joining :func:`derive_latency_rows`' rows with
    :func:`~topology.graph.samples.build_latency_samples`, without formatting the values to strings and parsing
    them back: per label set the average (``sum / count``), p50, p95 and p99 that are finite, and the ``+Inf``
    bucket (the count) as ``weight`` (0 when not finite; the default when the histogram has no ``+Inf`` bucket).
    Samples come in the order that join creates them: label sets with an average (in ``sum_rows`` order), then
    those with only quantiles (in order of first bucket row, p50 before p95 before p99).  ``keep`` (e.g.
    :func:`~topology.graph.reporters.build_counted_filter`) is asked once per label set; those it rejects are
    skipped, as if their rows had been filtered out of both inputs.
    """
    isfinite = math.isfinite
    inf = math.inf
    histograms: dict[LabelsKey, _Histogram] = {}
    slots: dict[LabelsKey, list[list[Any] | None]] = {}
    counts: list[tuple[_Histogram, float]] = []  # every kept +Inf bucket row, in order: the weights
    bounds: dict[Any, float | None] = {}
    orders: dict[tuple[str, ...], tuple[int, ...] | None] = {}
    for row in bucket_rows:
        metric = dict(row["metric"])
        le = metric.pop("le", None)
        try:
            bound = bounds[le]
        except KeyError:
            bound = bounds[le] = _parse_bound(le)
        except TypeError:  # unhashable: not a number anyway
            bound = None
        if bound is None:
            continue
        value = float(row["value"][1])
        key = (tuple(metric), tuple(metric.values()))
        histogram = histograms.get(key)
        if histogram is None:
            labels: IstioLabels = metric  # type: ignore[assignment]  # the row's labels, le aside
            kept = keep is None or keep(labels)
            slot: list[list[Any] | None] = [None]
            if kept:  # one slot per label set whatever the order of its labels: build_latency_samples' join key
                names, values = key
                try:
                    order = orders[names]
                except KeyError:
                    order = orders[names] = _sorting_order(names)
                if order is not None:
                    key_sorted = (tuple(names[i] for i in order), tuple(values[i] for i in order))
                    slot = slots.setdefault(key_sorted, slot)
                else:
                    slot = slots.setdefault(key, slot)
            histogram = histograms[key] = _Histogram(labels, kept, slot)
        if histogram.kept:
            histogram.buckets.append((bound, value))
            if bound == inf:
                histogram.count = value
                counts.append((histogram, value))
    # The samples in the order build_latency_samples creates them: averages, then p50s, p95s and p99s.
    entries: list[list[Any]] = []
    for row in sum_rows:
        metric = row["metric"]
        histogram = histograms.get((tuple(metric), tuple(metric.values())))
        if histogram is None or histogram.count is None or not histogram.kept:
            continue
        average = divide(float(row["value"][1]), histogram.count)
        if isfinite(average):
            entry = histogram.slot[0]
            if entry is None:
                entry = histogram.slot[0] = [metric, None, None, None, None, 0.0]
                entries.append(entry)
            entry[1] = average + 0.0  # -0.0 reads as 0, as its formatted value did
    quantiles: list[tuple[_Histogram, list[float]]] = []
    for histogram in histograms.values():
        if histogram.kept:
            prepared = _prepare_buckets(histogram.buckets)
            if prepared is not None:  # else every quantile is NaN
                quantiles.append((histogram, [_quantile_of_sorted(q, prepared) for _, q in LATENCY_QUANTILES]))
    for index in range(len(LATENCY_QUANTILES)):
        for histogram, of_histogram in quantiles:
            value = of_histogram[index]
            if isfinite(value):
                entry = histogram.slot[0]
                if entry is None:
                    entry = histogram.slot[0] = [histogram.labels, None, None, None, None, 0.0]
                    entries.append(entry)
                entry[2 + index] = value + 0.0
    for histogram, count in counts:
        entry = histogram.slot[0]
        if entry is not None:
            entry[5] = count if isfinite(count) else 0.0
    return [LatencySample(*entry) for entry in entries]


__all__: list[str] = [
    "LATENCY_QUANTILES",
    "LATENCY_ROW_FIELDS",
    "compute_histogram_quantile",
    "derive_latency_rows",
    "derive_latency_samples",
    "divide",
    "format_sample_value",
]
