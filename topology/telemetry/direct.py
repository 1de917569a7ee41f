"""The direct telemetry source's arithmetic: two scrapes of the mesh's counters -> the graph queries' rows.

When no Prometheus is available (the demo), mesh-ui scrapes the simulator's ``/metrics``
(:mod:`clients.metrics_scrape`) and turns two scrapes into exactly the rows the queries of
:func:`topology.graph.queries.build_graph_queries` would return over that interval, so the rest of the pipeline
cannot tell the sources apart:

- ``rate(x[w])`` is ``increase / seconds`` per series, with Prometheus' counter-reset rule (a value lower than
  the previous one means the counter restarted from zero);
- the scope filters are the very label selectors of :func:`~topology.graph.queries.build_scope_selectors`,
  parsed and evaluated here; the counted rows are chosen by the rule the queries' ``unless`` applies
  (:mod:`topology.graph.reporters`; request and TCP rows: what some ``ambientTraffic`` value counts), and
  ``sum by (...)`` uses the label lists the queries group by (TCP rows also by ztunnel's marker, ``app``, which the
  scraped series carry as Prometheus' relabelling of the ztunnel pod would give them);
- ``> 0`` drops idle rows when ``drop_zero``; the average and quantiles are then derived from the bucket and sum
  rows by the same code as for Prometheus' rows (:mod:`topology.telemetry.promql_math`).

The one intended difference: a series absent from the older scrape counts from zero (it was born during the
interval), where Prometheus, given only two samples, would need both.  Pure: no I/O, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from clients.metrics_scrape import (
    DURATION_BUCKET_SERIES,
    DURATION_SUM_SERIES,
    REQUEST_BYTES_SUM_SERIES,
    REQUEST_MESSAGES_SERIES,
    REQUESTS_SERIES,
    RESPONSE_BYTES_SUM_SERIES,
    RESPONSE_MESSAGES_SERIES,
    TCP_RECEIVED_SERIES,
    TCP_SENT_SERIES,
    CounterSet,
)
from clients.prometheus import GraphRows, Row, build_graph_rows
from topology.graph.queries import (
    DIRECTION_LABELS,
    LATENCY_LABELS,
    REQUEST_LABELS,
    TCP_LABELS,
    build_scope_selectors,
)
from topology.graph.reporters import (
    LATENCY_KEY_LABELS,
    REQUEST_KEY_LABELS,
    TCP_KEY_LABELS,
    select_counted_rows,
    select_readable_rows,
)
from topology.telemetry.promql_math import format_sample_value

_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")

GroupKey = tuple[str, ...]
"""The values of a ``sum by (...)``'s labels, in the order of the ``by`` list (``""`` when absent)."""


@dataclass(frozen=True)
class LabelMatcher:
    """One PromQL label matcher (``=``, ``!=``, ``=~``, ``!~``); a missing label reads as ``""``."""

    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when ``labels`` satisfy this matcher (regexes are fully anchored, as in PromQL)."""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_selector(selector: str) -> tuple[LabelMatcher, ...]:
    """Parse the inside of a PromQL selector, e.g. ``reporter=~"a|b",ns!~"x"`` (Go string escapes).

    Only the selectors :mod:`topology.graph.queries` writes are supported: anything else raises ``ValueError``.
    """
    matchers = []
    for part in _MATCHER.finditer(selector):
        matchers.append(LabelMatcher(part.group(1), part.group(2), _unescape(part.group(3))))
    rebuilt = ",".join(f'{m.group(1)}{m.group(2)}"{m.group(3)}"' for m in _MATCHER.finditer(selector))
    if rebuilt != selector:
        raise ValueError(f"unsupported selector syntax: {selector!r}")
    return tuple(matchers)


def build_scope_matchers(
    namespaces: Collection[str], clusters: Collection[str] = ()
) -> tuple[tuple[LabelMatcher, ...], ...]:
    """The matchers of the graph queries' two disjoint scope selectors (outgoing, incoming), both reporters, parsed
    from the very same selectors."""
    return tuple(parse_selector(selector) for selector in build_scope_selectors(namespaces, clusters))


def compute_increase(older: float | None, newer: float) -> float:
    """Counter increase between two samples; a drop is a reset (the counter restarted from 0)."""
    if older is None:
        return newer
    return newer - older if newer >= older else newer


def build_summed_rates(
    older: CounterSet,
    newer: CounterSet,
    name: str,
    by: tuple[str, ...],
    seconds: float,
    scope: tuple[tuple[LabelMatcher, ...], ...],
) -> dict[GroupKey, float]:
    """``sum by (by) (rate(name{scope_1}) or rate(name{scope_2}) ...)`` over the interval between two scrapes."""
    sums: dict[GroupKey, float] = {}
    previous = older.series.get(name, {})
    for key, value in newer.series.get(name, {}).items():
        labels = dict(key)
        if not any(all(m.matches(labels) for m in matchers) for matchers in scope):
            continue
        group = tuple(labels.get(label, "") for label in by)
        sums[group] = sums.get(group, 0.0) + compute_increase(previous.get(key), value) / seconds
    return sums


def _rows(groups: Mapping[GroupKey, float], by: tuple[str, ...], at: float, drop_zero: bool = False) -> list[Row]:
    rows: list[Row] = []
    for key, value in groups.items():
        if drop_zero and not value > 0:
            continue
        metric = {label: v for label, v in zip(by, key, strict=True) if v}
        rows.append({"metric": metric, "value": [at, format_sample_value(value)]})
    return rows


def build_rows_between(
    older: CounterSet,
    newer: CounterSet,
    seconds: float,
    namespaces: Collection[str],
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    at: float | None = None,
    counted_only: bool = True,
) -> GraphRows:
    """The rows the graph queries would return for the ``seconds`` between two scrapes of the same targets.

    Mirrors ``build_graph_queries(namespaces, window, clusters, drop_zero, counted_only)`` with a window equal to
    the interval between the scrapes.  Row timestamps are ``at`` (default: the newer scrape's ``scraped_at``).
    With ``counted_only`` the rows of both reporters go through the rule the queries' ``unless on(<key>)`` applies
    (:func:`~topology.graph.reporters.select_counted_rows`, after ``> 0`` as in the queries).
    """
    if seconds <= 0:
        raise ValueError("seconds must be > 0")
    scope = build_scope_matchers(namespaces, clusters)
    instant = newer.scraped_at if at is None else at
    bucket_by = (*LATENCY_LABELS, "le")

    def rows(name: str, by: tuple[str, ...], key: tuple[str, ...], drop: bool) -> list[Row]:
        found = _rows(build_summed_rates(older, newer, name, by, seconds, scope), by, instant, drop)
        if not counted_only:
            return found
        # Request and TCP rows: what some ambientTraffic option counts, as their queries fetch.
        return select_readable_rows(found, key) if key != LATENCY_KEY_LABELS else select_counted_rows(found, key)

    return build_graph_rows(
        {
            "requests": rows(REQUESTS_SERIES, REQUEST_LABELS, REQUEST_KEY_LABELS, drop_zero),
            "tcp_sent": rows(TCP_SENT_SERIES, TCP_LABELS, TCP_KEY_LABELS, drop_zero),
            "tcp_received": rows(TCP_RECEIVED_SERIES, TCP_LABELS, TCP_KEY_LABELS, drop_zero),
            "latency_buckets": rows(DURATION_BUCKET_SERIES, bucket_by, LATENCY_KEY_LABELS, False),
            "latency_sum": rows(DURATION_SUM_SERIES, LATENCY_LABELS, LATENCY_KEY_LABELS, False),
            "grpc_sent": rows(REQUEST_MESSAGES_SERIES, DIRECTION_LABELS, LATENCY_KEY_LABELS, drop_zero),
            "grpc_received": rows(RESPONSE_MESSAGES_SERIES, DIRECTION_LABELS, LATENCY_KEY_LABELS, drop_zero),
            "http_request_bytes": rows(REQUEST_BYTES_SUM_SERIES, DIRECTION_LABELS, LATENCY_KEY_LABELS, drop_zero),
            "http_response_bytes": rows(RESPONSE_BYTES_SUM_SERIES, DIRECTION_LABELS, LATENCY_KEY_LABELS, drop_zero),
        }
    )


__all__: list[str] = [
    "LabelMatcher",
    "build_rows_between",
    "build_scope_matchers",
    "build_summed_rates",
    "compute_increase",
    "parse_selector",
]
