"""The direct telemetry source: scrape Istio metrics and compute the graph query rows without Prometheus.

When no Prometheus is available (the demo), mesh-ui reads the simulator's ``/metrics`` exposition twice and turns
the two scrapes into exactly the rows the 6 PromQL queries of :func:`topology.graph.queries.build_graph_queries`
would return over that interval, so the rest of the pipeline cannot tell the sources apart:

- ``rate(x[w])`` is ``increase / seconds`` per series, with Prometheus' counter-reset rule (a value lower than
  the previous one means the counter restarted from zero);
- the scope filters are the very label selectors of :func:`~topology.graph.queries.build_scope_selectors`,
  parsed and evaluated here, and ``sum by (...)`` uses the label lists the queries group by;
- the average and quantiles are derived from the bucket, sum and count rows by the same code as for Prometheus'
  rows (:func:`clients.promql_math.derive_latency_rows`: ``histogram_quantile`` as in Prometheus 2.x, ``sum /
  count`` with IEEE semantics), and ``> 0`` drops idle rows when ``drop_zero``.

The one intended difference: a series absent from the older scrape counts from zero (it was born during the
interval), where Prometheus, given only two samples, would need both.  Label values that are empty are dropped at
parse time, as Prometheus does at ingestion.  Only :func:`fetch_exposition` does I/O.
"""

from __future__ import annotations

import math
import re
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from clients.prometheus import GraphRows, Row, build_graph_rows
from clients.promql_math import compute_histogram_quantile as compute_histogram_quantile  # re-exported
from clients.promql_math import format_sample_value
from topology.graph.queries import LATENCY_LABELS, REQUEST_LABELS, TCP_LABELS, build_query_selectors

LabelKey = tuple[tuple[str, str], ...]
"""A series' labels as a tuple of ``(name, value)`` pairs sorted by name (no empty values)."""

REQUESTS_SERIES: Final = "istio_requests_total"
TCP_SENT_SERIES: Final = "istio_tcp_sent_bytes_total"
TCP_RECEIVED_SERIES: Final = "istio_tcp_received_bytes_total"
DURATION: Final = "istio_request_duration_milliseconds"
DURATION_BUCKET_SERIES: Final = f"{DURATION}_bucket"
DURATION_SUM_SERIES: Final = f"{DURATION}_sum"

#: The sample names the graph queries read (what :func:`parse_exposition` keeps by default).
GRAPH_SERIES: Final[frozenset[str]] = frozenset(
    {
        REQUESTS_SERIES,
        TCP_SENT_SERIES,
        TCP_RECEIVED_SERIES,
        DURATION_BUCKET_SERIES,
        DURATION_SUM_SERIES,
    }
)

COUNTERSET_JSON_VERSION: Final = 1

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


class ScrapeError(Exception):
    """The exposition could not be fetched or parsed."""


@dataclass
class CounterSet:
    """Cumulative samples of one scrape: sample name -> label key -> value, plus when it was taken.

    Histograms appear as their ``_bucket`` (with ``le``), ``_sum`` and ``_count`` samples, exactly as
    Prometheus stores them.
    """

    series: dict[str, dict[LabelKey, float]] = field(default_factory=dict)
    scraped_at: float = 0.0

    def get(self, name: str, labels: LabelKey) -> float | None:
        """The value of one series, None when absent."""
        return self.series.get(name, {}).get(labels)


def fetch_exposition(url: str, timeout: float = 10.0) -> str:
    """GET a Prometheus text exposition (``/metrics``) and return it; any failure raises :class:`ScrapeError`."""
    request = urllib.request.Request(url, headers={"Accept": "text/plain;version=0.0.4"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        raise ScrapeError(f"scraping {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ScrapeError(f"scraping {url}: {exc}") from exc
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ScrapeError(f"scraping {url}: body is not {charset} text") from exc


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_labels(text: str) -> LabelKey:
    """Parse ``a="1",b="x\\"y"`` into a sorted label key; empty values are dropped like Prometheus does."""
    labels: dict[str, str] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _LABEL.match(text, position)
        if match is None:
            raise ScrapeError(f"bad label set near {text[position : position + 40]!r}")
        value = _unescape(match.group(2))
        if value:
            labels[match.group(1)] = value
        position = match.end()
    return tuple(sorted(labels.items()))


def parse_exposition(text: str, names: Collection[str] | None = GRAPH_SERIES, scraped_at: float = 0.0) -> CounterSet:
    """Parse the Prometheus text format (0.0.4, or OpenMetrics without exemplars) into a :class:`CounterSet`.

    Only samples whose name is in ``names`` are kept (all when None); comments and ``# EOF`` are skipped.
    A line that is not a valid sample raises :class:`ScrapeError`.
    """
    wanted = None if names is None else frozenset(names)
    series: dict[str, dict[LabelKey, float]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise ScrapeError(f"line {number}: not a sample: {line[:80]!r}")
        name = match.group(1)
        if wanted is not None and name not in wanted:
            continue
        try:
            value = float(match.group(3))
            labels = parse_labels(match.group(2) or "")
        except ValueError as exc:
            raise ScrapeError(f"line {number}: bad value {match.group(3)!r}") from exc
        except ScrapeError as exc:
            raise ScrapeError(f"line {number}: {exc}") from exc
        series.setdefault(name, {})[labels] = value
    return CounterSet(series=series, scraped_at=scraped_at)


# ---------------------------------------------------------------------------------------------- PromQL mirror


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


def parse_selector(selector: str) -> tuple[LabelMatcher, ...]:
    """Parse the inside of a PromQL selector, e.g. ``reporter=~"a|b",ns!~"x"`` (Go string escapes)."""
    matchers = []
    for part in _MATCHER.finditer(selector):
        matchers.append(LabelMatcher(part.group(1), part.group(2), _unescape(part.group(3))))
    rebuilt = ",".join(f'{m.group(1)}{m.group(2)}"{m.group(3)}"' for m in _MATCHER.finditer(selector))
    if rebuilt != selector:
        raise ValueError(f"unsupported selector syntax: {selector!r}")
    return tuple(matchers)


def build_scope_matchers(
    namespaces: Collection[str], clusters: Collection[str] = (), counted_only: bool = False
) -> tuple[tuple[LabelMatcher, ...], ...]:
    """The matchers of the graph queries' disjoint selectors, parsed from the very same selectors.

    (outgoing, incoming) by default; with ``counted_only`` each side split on the counted reporter, as the
    queries of ``build_graph_queries(..., counted_only=True)``.
    """
    return tuple(parse_selector(selector) for selector in build_query_selectors(namespaces, clusters, counted_only))


def compute_increase(older: float | None, newer: float) -> float:
    """Counter increase between two samples; a drop is a reset (the counter restarted from 0)."""
    if older is None:
        return newer
    return newer - older if newer >= older else newer


GroupKey = tuple[str, ...]


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
    """
    if seconds <= 0:
        raise ValueError("seconds must be > 0")
    scope = build_scope_matchers(namespaces, clusters, counted_only)
    instant = newer.scraped_at if at is None else at
    bucket_by = (*LATENCY_LABELS, "le")

    def summed(name: str, by: tuple[str, ...]) -> dict[GroupKey, float]:
        return build_summed_rates(older, newer, name, by, seconds, scope)

    # The rows of the 5 queries, then the latency rows derived from them by the very code the Prometheus path uses.
    return build_graph_rows(
        {
            "requests": _rows(summed(REQUESTS_SERIES, REQUEST_LABELS), REQUEST_LABELS, instant, drop_zero),
            "tcp_sent": _rows(summed(TCP_SENT_SERIES, TCP_LABELS), TCP_LABELS, instant, drop_zero),
            "tcp_received": _rows(summed(TCP_RECEIVED_SERIES, TCP_LABELS), TCP_LABELS, instant, drop_zero),
            "latency_buckets": _rows(summed(DURATION_BUCKET_SERIES, bucket_by), bucket_by, instant),
            "latency_sum": _rows(summed(DURATION_SUM_SERIES, LATENCY_LABELS), LATENCY_LABELS, instant),
        }
    )


# ---------------------------------------------------------------------------------------------- storage


def counterset_to_json(counters: CounterSet) -> dict[str, Any]:
    """A compact JSON-ready form: every string once in a table, series as ``[name, [k, v, ...], value]`` indexes.

    Non-finite values are stored as strings (``"NaN"``, ``"+Inf"``) so the result is strict JSON.
    """
    strings: dict[str, int] = {}

    def index(text: str) -> int:
        return strings.setdefault(text, len(strings))

    series: list[list[Any]] = []
    for name, by_labels in counters.series.items():
        name_index = index(name)
        for key, value in by_labels.items():
            flat = [index(part) for pair in key for part in pair]
            series.append([name_index, flat, value if math.isfinite(value) else format_sample_value(value)])
    return {
        "version": COUNTERSET_JSON_VERSION,
        "scraped_at": counters.scraped_at,
        "strings": list(strings),
        "series": series,
    }


def counterset_from_json(data: Mapping[str, Any]) -> CounterSet:
    """Rebuild a :class:`CounterSet` from :func:`counterset_to_json` output (``ValueError`` when malformed)."""
    if data.get("version") != COUNTERSET_JSON_VERSION:
        raise ValueError(f"unsupported counter set version {data.get('version')!r}")
    try:
        strings: list[str] = list(data["strings"])
        series: dict[str, dict[LabelKey, float]] = {}
        for name_index, flat, value in data["series"]:
            key = tuple((strings[flat[i]], strings[flat[i + 1]]) for i in range(0, len(flat), 2))
            series.setdefault(strings[name_index], {})[key] = float(value)
        return CounterSet(series=series, scraped_at=float(data.get("scraped_at", 0.0)))
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"malformed counter set: {exc!r}") from exc
