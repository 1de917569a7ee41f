"""Helpers to compare instant-vector rows from the two telemetry sources (real Prometheus, direct scrape)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from clients.prometheus import GraphRows
from topology.telemetry.promql_math import LATENCY_ROW_FIELDS, derive_latency_rows

#: The rows of every graph query as PromQL returns them: those fetched, and those derived from the histogram.
ROW_FIELDS = (
    "requests",
    "tcp_sent",
    "tcp_received",
    "latency_buckets",
    "latency_sum",
    *LATENCY_ROW_FIELDS,
    "grpc_sent",
    "grpc_received",
    "http_request_bytes",
    "http_response_bytes",
)

RowKey = frozenset[tuple[str, str]]


def rows_by_labels(rows: Iterable[Mapping[str, Any]]) -> dict[RowKey, float]:
    """Rows keyed by their label set (``__name__`` ignored), values as floats; duplicates are an error."""
    keyed: dict[RowKey, float] = {}
    for row in rows:
        key = frozenset((k, v) for k, v in row["metric"].items() if k != "__name__")
        assert key not in keyed, f"duplicate row {dict(key)}"
        keyed[key] = float(row["value"][1])
    return keyed


def query_rows(rows: GraphRows) -> dict[str, list[dict[str, Any]]]:
    """The rows of :data:`ROW_FIELDS`: the fetched ones, and the average, quantile and count rows derived by
    :func:`derive_latency_rows` (what ``sum / count``, ``histogram_quantile`` and ``_count`` return)."""
    derived = derive_latency_rows(rows.latency_buckets, rows.latency_sum)
    return {name: derived[name] if name in derived else getattr(rows, name) for name in ROW_FIELDS}


def assert_same_rows(expected: GraphRows, actual: GraphRows, rel: float = 1e-9) -> None:
    """Every query has the same label sets on both sides and values equal within ``rel`` (NaN equals NaN)."""
    expected_rows, actual_rows = query_rows(expected), query_rows(actual)
    for name in ROW_FIELDS:
        want, got = rows_by_labels(expected_rows[name]), rows_by_labels(actual_rows[name])
        assert set(got) == set(want), (
            f"{name}: missing {[dict(k) for k in set(want) - set(got)][:3]}, "
            f"extra {[dict(k) for k in set(got) - set(want)][:3]}"
        )
        for key, value in want.items():
            other = got[key]
            if math.isnan(value):
                assert math.isnan(other), f"{name} {dict(key)}: {other} != NaN"
            else:
                assert math.isclose(other, value, rel_tol=rel, abs_tol=1e-12), f"{name} {dict(key)}: {other} != {value}"


def select(rows: Iterable[Mapping[str, Any]], **labels: str) -> list[Mapping[str, Any]]:
    """Rows whose labels include all of ``labels``."""
    return [row for row in rows if all(row["metric"].get(k, "") == v for k, v in labels.items())]


def total(rows: Iterable[Mapping[str, Any]], **labels: str) -> float:
    """Sum of the values of the rows matching ``labels``."""
    return sum(float(row["value"][1]) for row in select(rows, **labels))
