"""Where a snapshot's rows come from: Prometheus' graph queries, or the mesh's counters scraped directly.

A window task asks its snapshot's source for one window's rows (:meth:`TelemetrySource.fetch_rows`). Prometheus is
used when one is configured (the cluster's ``prometheus_url`` or ``PROMETHEUS_URL``), else the mesh's metrics
endpoint (``MESH_UI_METRICS_URL``, the simulator's), scraped once per snapshot (:meth:`DirectScrapeSource.scrape`)
and kept briefly in ``CounterScrape``; the rows between two scrapes are those the queries would give. Before a
snapshot reads Prometheus, it checks that Prometheus still scrapes the mesh
(:meth:`PrometheusSource.check_scrape_targets`): rates read from lost telemetry would be an empty graph.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.conf import settings

from clients.metrics_scrape import (
    CounterSet,
    ScrapeError,
    counterset_from_json,
    counterset_to_json,
    fetch_exposition,
    parse_exposition,
)
from clients.prometheus import GraphRows, PrometheusClient, PrometheusError, PrometheusSettings
from clients.url_credentials import UrlCredentials
from inventory.credentials import read_prometheus_credentials
from inventory.models import Cluster
from topology.graph import build_graph_queries
from topology.models import CounterScrape, GraphSnapshot
from topology.telemetry.direct import build_rows_between
from topology.telemetry.rows import build_graph_query_parts
from topology.telemetry.targets import build_target_states, check_scrape_targets


class TelemetryError(Exception):
    """The metrics source could not be read."""


class TelemetrySource(Protocol):
    @property
    def kind(self) -> str: ...

    def fetch_rows(self, namespaces: Sequence[str], window: int, at: float) -> GraphRows: ...


class PrometheusSource:
    """Rows from Prometheus' graph queries."""

    kind: str = GraphSnapshot.Source.PROMETHEUS

    def __init__(self, url: str, credentials: UrlCredentials | None = None) -> None:
        #: What a window connects with: :func:`~topology.window_build.build_window` sends the queries itself, so
        #: it builds the traffic maps while Prometheus still computes the latency histogram.
        self.prometheus_settings = PrometheusSettings(
            url=url,
            bearer_token=settings.PROMETHEUS_TOKEN,
            credentials=credentials or UrlCredentials(),
            verify_tls=settings.PROMETHEUS_VERIFY_TLS,
            ca_file=settings.PROMETHEUS_CA_FILE,
            timeout=settings.PROMETHEUS_TIMEOUT,
            gzip=settings.PROMETHEUS_GZIP,
        )

    def check_scrape_targets(self, selector: str, window: int, at: float) -> None:
        """Raise :class:`TelemetryError` when Prometheus no longer scrapes the mesh: every target of the jobs
        ``selector`` matches is down, or not yet scraped twice within ``window`` (see
        :mod:`topology.telemetry.targets`).

        A Prometheus that does not answer this is no verdict: the snapshot's windows query it next and fail with
        their retries as they always did (a failed snapshot recorded with its reason)."""
        try:
            with PrometheusClient(self.prometheus_settings) as client:
                up, scrapes = client.fetch_scrape_health(selector, window, at)
        except PrometheusError:
            return
        lost = check_scrape_targets(build_target_states(up, scrapes), selector, window)
        if lost is not None:
            raise TelemetryError(lost)

    def fetch_rows(self, namespaces: Sequence[str], window: int, at: float) -> GraphRows:
        try:
            queries = build_graph_query_parts(build_graph_queries(namespaces, f"{window}s"))
            with PrometheusClient(self.prometheus_settings) as client:
                return client.fetch_graph_rows(queries, at)
        except PrometheusError as exc:
            raise TelemetryError(f"Prometheus: {exc}") from exc


class DirectScrapeSource:
    """Rows computed from the mesh's counters: the scrape a snapshot took at its start (:meth:`scrape`) against the
    stored scrape closest to a window before it (kept in ``CounterScrape``)."""

    kind: str = GraphSnapshot.Source.DIRECT

    def __init__(self, cluster: Cluster, url: str) -> None:
        self.cluster = cluster
        self.url = url

    def scrape(self, taken_at: datetime) -> None:
        """Scrape the counters now and store them as taken at ``taken_at`` (once per snapshot, before its windows)."""
        try:
            text = fetch_exposition(self.url, timeout=settings.PROMETHEUS_TIMEOUT)
            counters = parse_exposition(text, scraped_at=taken_at.timestamp())
        except ScrapeError as exc:
            raise TelemetryError(f"metrics endpoint {self.url}: {exc}") from exc
        payload = zlib.compress(json.dumps(counterset_to_json(counters), separators=(",", ":")).encode())
        CounterScrape.objects.create(cluster=self.cluster, taken_at=taken_at, counters=payload)
        # Scrapes older than the longest window (plus a margin) are never needed again.
        horizon = taken_at - timedelta(seconds=max(settings.MESH_UI_GRAPH_WINDOWS) + 120)
        CounterScrape.objects.filter(cluster=self.cluster, taken_at__lt=horizon).delete()

    def fetch_rows(self, namespaces: Sequence[str], window: int, at: float) -> GraphRows:
        started = time.monotonic()
        at_dt = datetime.fromtimestamp(at, tz=UTC)
        scrapes = CounterScrape.objects.filter(cluster=self.cluster)
        newest_row = scrapes.filter(taken_at__lte=at_dt).order_by("-taken_at").first()
        if newest_row is None:
            raise TelemetryError(f"no scrape of {self.url} at {at_dt:%H:%M:%S} is stored")
        newest = _load_counters(newest_row)
        older_rows = scrapes.filter(taken_at__lt=newest_row.taken_at)
        # The scrape closest to a window ago; early on, the oldest there is (a shorter but honest interval).
        target = newest_row.taken_at - timedelta(seconds=window)
        older = (
            older_rows.filter(taken_at__lte=target).order_by("-taken_at").first()
            or older_rows.order_by("taken_at").first()
        )
        seconds = (newest_row.taken_at - older.taken_at).total_seconds() if older is not None else 0.0
        if older is None or seconds <= 0:
            return GraphRows(elapsed_seconds=time.monotonic() - started)
        rows = build_rows_between(_load_counters(older), newest, seconds, namespaces, at=at)
        return replace(rows, elapsed_seconds=time.monotonic() - started)


def _load_counters(scrape: CounterScrape) -> CounterSet:
    return counterset_from_json(json.loads(scrape.payload()))


def _cluster_prometheus(cluster: Cluster) -> PrometheusSource | None:
    """The cluster's own Prometheus with its stored credentials, else ``PROMETHEUS_URL``'s, else None."""
    if cluster.prometheus_url:
        return PrometheusSource(cluster.prometheus_url, read_prometheus_credentials(cluster))
    return PrometheusSource(settings.PROMETHEUS_URL) if settings.PROMETHEUS_URL else None


def telemetry_source_for(cluster: Cluster) -> TelemetrySource | None:
    """The source a new snapshot of ``cluster`` reads, or None when none is configured."""
    prometheus = _cluster_prometheus(cluster)
    if prometheus is not None:
        return prometheus
    if settings.MESH_UI_METRICS_URL:
        return DirectScrapeSource(cluster, settings.MESH_UI_METRICS_URL)
    return None


def window_source(snapshot: GraphSnapshot) -> TelemetrySource:
    """The source a window task reads: the kind its snapshot was started with."""
    cluster = snapshot.cluster
    if snapshot.source == GraphSnapshot.Source.DIRECT:
        return DirectScrapeSource(cluster, settings.MESH_UI_METRICS_URL)
    prometheus = _cluster_prometheus(cluster)
    if prometheus is None:
        raise TelemetryError("Prometheus: no URL is configured any more")
    return prometheus
