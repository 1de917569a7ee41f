"""Scrape a Prometheus text exposition (``/metrics``) and keep its counters as plain data, without Prometheus.

The direct telemetry source (the demo, where no Prometheus runs) reads the simulator's sidecar metrics with
:func:`fetch_exposition` and :func:`parse_exposition`: a :class:`CounterSet` of cumulative samples per series, parsed
by ``prometheus_client``'s text-format parser.  Empty label values are dropped, as Prometheus does at ingestion.
:func:`counterset_to_json` / :func:`counterset_from_json` give a compact, strict-JSON form to store a scrape.
Turning two scrapes into the rows the graph queries would return is :mod:`topology.telemetry.direct`'s job.
Only :func:`fetch_exposition` does I/O.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from prometheus_client.parser import text_string_to_metric_families

from clients.redaction import redact_text

LabelKey = tuple[tuple[str, str], ...]
"""A series' labels as a tuple of ``(name, value)`` pairs sorted by name (no empty values)."""

REQUESTS_SERIES: Final = "istio_requests_total"
TCP_SENT_SERIES: Final = "istio_tcp_sent_bytes_total"
TCP_RECEIVED_SERIES: Final = "istio_tcp_received_bytes_total"
DURATION: Final = "istio_request_duration_milliseconds"
DURATION_BUCKET_SERIES: Final = f"{DURATION}_bucket"
DURATION_SUM_SERIES: Final = f"{DURATION}_sum"
REQUEST_MESSAGES_SERIES: Final = "istio_request_messages_total"
RESPONSE_MESSAGES_SERIES: Final = "istio_response_messages_total"
REQUEST_BYTES_SUM_SERIES: Final = "istio_request_bytes_sum"
RESPONSE_BYTES_SUM_SERIES: Final = "istio_response_bytes_sum"

#: The sample names the graph queries read (what :func:`parse_exposition` keeps by default).
GRAPH_SERIES: Final[frozenset[str]] = frozenset(
    {
        REQUESTS_SERIES,
        TCP_SENT_SERIES,
        TCP_RECEIVED_SERIES,
        DURATION_BUCKET_SERIES,
        DURATION_SUM_SERIES,
        REQUEST_MESSAGES_SERIES,
        RESPONSE_MESSAGES_SERIES,
        REQUEST_BYTES_SUM_SERIES,
        RESPONSE_BYTES_SUM_SERIES,
    }
)

COUNTERSET_JSON_VERSION: Final = 1


class ScrapeError(Exception):
    """The exposition could not be fetched or parsed (credentials in the message are redacted)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(message))


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


def parse_exposition(text: str, names: Collection[str] | None = GRAPH_SERIES, scraped_at: float = 0.0) -> CounterSet:
    """Parse the Prometheus text format (0.0.4) into a :class:`CounterSet` with ``prometheus_client``'s parser.

    Only samples whose name is in ``names`` are kept (all when None); label values that are empty are dropped.
    Text the parser rejects raises :class:`ScrapeError`.
    """
    wanted = None if names is None else frozenset(names)
    series: dict[str, dict[LabelKey, float]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if wanted is not None and sample.name not in wanted:
                    continue
                labels = tuple(sorted(item for item in sample.labels.items() if item[1]))
                series.setdefault(sample.name, {})[labels] = float(sample.value)
    except ValueError as exc:
        raise ScrapeError(f"not the Prometheus text format: {exc}") from exc
    return CounterSet(series=series, scraped_at=scraped_at)


def _format_non_finite(value: float) -> str:
    """``NaN``, ``+Inf`` or ``-Inf``, as Prometheus writes them (``float()`` reads them back)."""
    if math.isnan(value):
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


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
            series.append([name_index, flat, value if math.isfinite(value) else _format_non_finite(value)])
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
