"""Taking graph snapshots: read telemetry for each window, build every graph type and the health, store them.

``take_snapshot`` is what the Celery task calls. Telemetry comes from Prometheus when one is configured (the
cluster's ``prometheus_url`` or ``PROMETHEUS_URL``), else straight from a metrics endpoint
(``MESH_UI_METRICS_URL``, the simulator's counters) turned into the same rows. Everything after the rows is the
same code. When the source fails nothing is stored and the failure is recorded, so the API serves the last good
snapshot marked stale.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clients.metrics_scrape import (
    CounterSet,
    ScrapeError,
    counterset_from_json,
    counterset_to_json,
    fetch_exposition,
    parse_exposition,
)
from clients.prometheus import GraphRows, PrometheusClient, PrometheusError, PrometheusSettings
from inventory.models import Cluster, Namespace, Workload
from topology.graph import build_graph_queries
from topology.graph.wire import WireIds
from topology.mesh_inputs import build_health_inputs, build_mesh_context
from topology.models import CounterScrape, GraphSnapshot, MetricsSourceStatus, SnapshotGraph, SnapshotGraphPart
from topology.reading import GRAPH_TYPES
from topology.retention import parse_retention, select_snapshots_to_delete
from topology.telemetry.direct import build_rows_between
from topology.telemetry.rows import build_graph_query_parts
from topology.window_build import WindowJob, WindowResult, build_window, default_process_count, submit_windows

log = logging.getLogger(__name__)


class TelemetryError(Exception):
    """The metrics source could not be read."""


class TelemetrySource(Protocol):
    @property
    def kind(self) -> str: ...

    def fetch_rows(self, namespaces: Sequence[str], window: int, at: float) -> GraphRows: ...


class PrometheusSource:
    """Rows from Prometheus' graph queries."""

    kind: str = GraphSnapshot.Source.PROMETHEUS
    #: The client is thread-safe, so the windows are fetched concurrently (see ``WindowRowsFetch``).
    fetches_concurrently: bool = True

    def __init__(self, url: str) -> None:
        #: Also what a worker process building a window connects with (see ``topology.window_build``).
        self.prometheus_settings = PrometheusSettings(
            url=url,
            bearer_token=settings.PROMETHEUS_TOKEN,
            verify_tls=settings.PROMETHEUS_VERIFY_TLS,
            ca_file=settings.PROMETHEUS_CA_FILE,
            timeout=settings.PROMETHEUS_TIMEOUT,
            gzip=settings.PROMETHEUS_GZIP,
        )
        self.client = PrometheusClient(self.prometheus_settings)

    def fetch_rows(self, namespaces: Sequence[str], window: int, at: float) -> GraphRows:
        try:
            queries = build_graph_query_parts(build_graph_queries(namespaces, f"{window}s"))
            return self.client.fetch_graph_rows(queries, at)
        except PrometheusError as exc:
            raise TelemetryError(f"Prometheus: {exc}") from exc


class DirectScrapeSource:
    """Rows computed from the mesh's counters scraped now and a window ago (kept in ``CounterScrape``)."""

    kind: str = GraphSnapshot.Source.DIRECT

    def __init__(self, cluster: Cluster, url: str) -> None:
        self.cluster = cluster
        self.url = url
        self._newest: tuple[float, CounterSet] | None = None

    def _scrape_now(self, at: float) -> None:
        try:
            counters = parse_exposition(fetch_exposition(self.url, timeout=settings.PROMETHEUS_TIMEOUT), scraped_at=at)
        except ScrapeError as exc:
            raise TelemetryError(f"metrics endpoint {self.url}: {exc}") from exc
        payload = zlib.compress(json.dumps(counterset_to_json(counters), separators=(",", ":")).encode())
        taken_at = datetime.fromtimestamp(at, tz=UTC)
        CounterScrape.objects.create(cluster=self.cluster, taken_at=taken_at, counters=payload)
        # Scrapes older than the longest window (plus a margin) are never needed again.
        horizon = taken_at - timedelta(seconds=max(settings.MESH_UI_GRAPH_WINDOWS) + 120)
        CounterScrape.objects.filter(cluster=self.cluster, taken_at__lt=horizon).delete()
        self._newest = (at, counters)

    def fetch_rows(self, namespaces: Sequence[str], window: int, at: float) -> GraphRows:
        started = time.monotonic()
        if self._newest is None:
            self._scrape_now(at)
        assert self._newest is not None
        newest_at, newest = self._newest
        at_dt = datetime.fromtimestamp(at, tz=UTC)
        target = at_dt - timedelta(seconds=window)
        older_rows = CounterScrape.objects.filter(cluster=self.cluster, taken_at__lt=at_dt)
        # The scrape closest to a window ago; early on, the oldest there is (a shorter but honest interval).
        older = (
            older_rows.filter(taken_at__lte=target).order_by("-taken_at").first()
            or older_rows.order_by("taken_at").first()
        )
        seconds = newest_at - older.taken_at.timestamp() if older is not None else 0.0
        if older is None or seconds <= 0:
            return GraphRows(elapsed_seconds=time.monotonic() - started)
        older_counters = counterset_from_json(json.loads(older.payload()))
        rows = build_rows_between(older_counters, newest, seconds, namespaces, at=at)
        return replace(rows, elapsed_seconds=time.monotonic() - started)


def telemetry_source_for(cluster: Cluster) -> TelemetrySource | None:
    url = cluster.prometheus_url or settings.PROMETHEUS_URL
    if url:
        return PrometheusSource(url)
    if settings.MESH_UI_METRICS_URL:
        return DirectScrapeSource(cluster, settings.MESH_UI_METRICS_URL)
    return None


@dataclass
class SnapshotOutcome:
    cluster: str
    snapshot_id: int | None = None
    source: str = ""
    error: str = ""
    claimed: bool = True
    source_ms: int = 0
    processing_ms: int = 0
    #: Processes the windows were built in (1: the worker's own).
    processes: int = 1
    #: Wall time of the transaction that stored the snapshot.
    storing_ms: int = 0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def claim_snapshot_turn(cluster: Cluster, now: datetime) -> bool:
    """Claim this interval's snapshot of a cluster with a conditional UPDATE, so two workers never both take it."""
    MetricsSourceStatus.objects.get_or_create(cluster=cluster)
    recent = now - timedelta(seconds=settings.MESH_UI_SNAPSHOT_INTERVAL * 0.5)
    free = Q(last_attempt__isnull=True) | Q(last_attempt__lt=recent)
    return MetricsSourceStatus.objects.filter(cluster=cluster).filter(free).update(last_attempt=now) == 1


def mesh_namespaces(cluster: Cluster) -> list[str]:
    """Namespaces to cover: those in the inventory (all of them; the API narrows per request)."""
    names = set(Namespace.objects.filter(cluster=cluster).values_list("name", flat=True))
    names |= set(Workload.objects.filter(cluster=cluster).values_list("namespace", flat=True).distinct())
    return sorted(names)


def take_snapshot(
    cluster_id: int, source: TelemetrySource | None = None, force: bool = False, at: float | None = None
) -> SnapshotOutcome:
    """Read telemetry for every window, build all graph types and health, and store one snapshot.

    ``at`` (unix seconds) queries telemetry at another moment than now (the snapshot is still stamped now).
    """
    cluster = Cluster.objects.get(pk=cluster_id)
    outcome = SnapshotOutcome(cluster=cluster.name)
    now = timezone.now()
    if not claim_snapshot_turn(cluster, now) and not force:
        outcome.claimed = False
        return outcome
    source = source or telemetry_source_for(cluster)
    if source is None:
        outcome.error = "no metrics source: set PROMETHEUS_URL (or MESH_UI_METRICS_URL)"
        _record_failure(cluster, "", outcome.error)
        return outcome
    outcome.source = source.kind
    namespaces = mesh_namespaces(cluster)
    windows = list(settings.MESH_UI_GRAPH_WINDOWS)
    try:
        built = build_windows(cluster, namespaces, windows, source, now.timestamp() if at is None else at)
    except TelemetryError as exc:
        outcome.error = str(exc)
        _record_failure(cluster, source.kind, outcome.error)
        log.warning("snapshot of %s failed: %s", cluster.name, exc)
        return outcome
    outcome.source_ms = int(built.source_seconds * 1000)
    outcome.processing_ms = int(built.processing_seconds * 1000)
    outcome.processes = built.processes
    rows = [SnapshotGraph.from_packed(packed) for result in built.results for packed in result.graphs]
    rows.sort(key=lambda row: (row[0].window, GRAPH_TYPES.index(row[0].graph_type)))
    size = sum(graph.size_bytes for graph, _ in rows) + len(json.dumps(built.health))
    storing_started = time.monotonic()
    with transaction.atomic():
        snapshot = GraphSnapshot.objects.create(
            cluster=cluster,
            taken_at=now,
            source=source.kind,
            namespaces=namespaces,
            windows=windows,
            health_window=settings.MESH_UI_HEALTH_WINDOW,
            health=built.health,
            metrics=built.metrics,
            source_ms=outcome.source_ms,
            processing_ms=outcome.processing_ms,
            size_bytes=size,
        )
        for graph, _ in rows:
            graph.snapshot = snapshot
        SnapshotGraph.save_with_parts(rows)
        MetricsSourceStatus.objects.filter(cluster=cluster).update(
            source=source.kind, last_success=now, consecutive_failures=0
        )
    outcome.snapshot_id = snapshot.pk
    outcome.storing_ms = int((time.monotonic() - storing_started) * 1000)
    log.info(
        "snapshot %s of %s: %d windows in %d process(es), telemetry %d ms, processing %d ms, storing %d ms, %d bytes",
        snapshot.pk,
        cluster.name,
        len(windows),
        outcome.processes,
        outcome.source_ms,
        outcome.processing_ms,
        outcome.storing_ms,
        size,
    )
    return outcome


@dataclass
class BuiltWindows:
    """Every window of a snapshot, built; and the time spent reading telemetry and processing it."""

    results: list[WindowResult]
    health: dict[str, Any]
    metrics: dict[str, Any]
    #: Wall time from the start until the last window's rows arrived.
    source_seconds: float
    #: mesh-ui's own time: in one process, its time not spent waiting for rows; with worker processes, the CPU
    #: time they spent after their rows arrived.
    processing_seconds: float
    processes: int = 1


def build_windows(
    cluster: Cluster, namespaces: Sequence[str], windows: Sequence[int], source: TelemetrySource, at: float
) -> BuiltWindows:
    """Build every window: each in its own process when the source is Prometheus and several cores are allowed
    (``MESH_UI_SNAPSHOT_PROCESSES``), else here, each window as soon as its rows arrive."""
    prometheus: PrometheusSettings | None = getattr(source, "prometheus_settings", None)
    jobs = build_window_jobs(cluster, namespaces, windows, prometheus, at)
    processes = default_process_count(len(jobs), settings.MESH_UI_SNAPSHOT_PROCESSES)
    if processes > 1 and prometheus is not None:
        try:
            return _build_in_processes(jobs, processes)
        except (BrokenProcessPool, OSError) as exc:  # a pool process lost twice, or no process could be started
            log.warning("snapshot worker processes unavailable (%s); building in this process", exc)
    return _build_here(jobs, source)


def build_window_jobs(
    cluster: Cluster,
    namespaces: Sequence[str],
    windows: Sequence[int],
    prometheus: PrometheusSettings | None,
    at: float,
) -> list[WindowJob]:
    """One job per window, with the inventory's mesh context and health inputs (read once for all)."""
    mesh = build_mesh_context(cluster)
    health_inputs = build_health_inputs(cluster, settings.MESH_UI_HEALTH_CONFIG)
    return [
        WindowJob(
            prometheus=prometheus,
            namespaces=tuple(namespaces),
            window=window,
            at=at,
            mesh=mesh,
            health_inputs=health_inputs,
            summarize=window == settings.MESH_UI_HEALTH_WINDOW,
        )
        for window in windows
    ]


def _build_in_processes(jobs: Sequence[WindowJob], processes: int) -> BuiltWindows:
    started = time.monotonic()
    futures = submit_windows(jobs, processes)
    try:
        results = [future.result() for future in futures]
    except PrometheusError as exc:
        for future in futures:
            future.cancel()
        raise TelemetryError(f"Prometheus: {exc}") from exc
    cpu = sum(result.processing_cpu for result in results)
    return _built(results, max(result.rows_at for result in results) - started, cpu, processes)


def _build_here(jobs: Sequence[WindowJob], source: TelemetrySource) -> BuiltWindows:
    started = time.monotonic()
    by_window = {job.window: job for job in jobs}
    fetch = WindowRowsFetch(source, jobs[0].namespaces, list(by_window), jobs[0].at)
    ids = WireIds()  # hashed ids and formatted numbers, shared by every graph of the snapshot
    # Each window's graphs are built as soon as its rows arrive, while Prometheus still answers the others.
    results = [build_window(by_window[window], rows, ids) for window, rows in fetch]
    return _built(results, fetch.seconds, time.monotonic() - started - fetch.waited, 1)


def _built(results: list[WindowResult], source_s: float, processing_s: float, processes: int) -> BuiltWindows:
    summarized = next(result for result in results if result.health is not None)
    return BuiltWindows(
        results=results,
        health=summarized.health or {},
        metrics=summarized.metrics or {},
        source_seconds=source_s,
        processing_seconds=processing_s,
        processes=processes,
    )


class WindowRowsFetch:
    """The rows of every window, yielded as ``(window, rows)`` in the order they arrive.

    A source that says it can (``fetches_concurrently``, i.e. Prometheus) is asked for all windows at once, so the
    consumer builds one window's graphs while Prometheus answers the others' queries. ``seconds`` is then the wall
    time until the last window's rows arrived (otherwise the sum of the source's own timings) and ``waited`` the
    time the consumer spent blocked on rows. A :class:`TelemetryError` of any window is raised from the iteration
    and cancels the fetches not started yet.
    """

    def __init__(self, source: TelemetrySource, namespaces: Sequence[str], windows: Sequence[int], at: float) -> None:
        self.source = source
        self.namespaces = namespaces
        self.windows = list(windows)
        self.at = at
        self.seconds = 0.0
        self.waited = 0.0

    def __iter__(self) -> Iterator[tuple[int, GraphRows]]:
        if not getattr(self.source, "fetches_concurrently", False) or len(self.windows) < 2:
            for window in self.windows:
                waiting = time.monotonic()
                rows = self.source.fetch_rows(self.namespaces, window, self.at)
                self.waited += time.monotonic() - waiting
                self.seconds += rows.elapsed_seconds
                yield window, rows
            return
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(self.windows), thread_name_prefix="snapshot-window") as pool:
            futures = {pool.submit(self.source.fetch_rows, self.namespaces, w, self.at): w for w in self.windows}
            pending: set[Future[GraphRows]] = set(futures)
            try:
                while pending:
                    waiting = time.monotonic()
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    self.waited += time.monotonic() - waiting
                    for future in sorted(done, key=lambda f: self.windows.index(futures[f])):
                        rows = future.result()
                        self.seconds = time.monotonic() - started
                        yield futures[future], rows
            finally:
                for future in pending:
                    future.cancel()


def _record_failure(cluster: Cluster, source: str, error: str) -> None:
    now = timezone.now()
    MetricsSourceStatus.objects.filter(cluster=cluster).update(
        source=source, last_error=error, last_error_at=now, consecutive_failures=F("consecutive_failures") + 1
    )


def thin_snapshots(cluster_id: int) -> int:
    """Delete the snapshots the retention tiers no longer keep; returns how many.

    Snapshots past the first tier also lose their graphs of other windows than the health window (history is read
    at one window) and the copies linking namespaces in the graphs they keep (a scoped read of old history then
    reads the whole graph): together this cuts what a day of history stores by about four fifths.
    """
    tiers = parse_retention(settings.MESH_UI_SNAPSHOT_RETENTION)
    now = timezone.now()
    pairs = GraphSnapshot.objects.filter(cluster_id=cluster_id).values_list("id", "taken_at")
    doomed = select_snapshots_to_delete(pairs, now, tiers)
    for start in range(0, len(doomed), 500):
        GraphSnapshot.objects.filter(pk__in=doomed[start : start + 500]).delete()
    older = GraphSnapshot.objects.filter(cluster_id=cluster_id, taken_at__lt=now - timedelta(seconds=tiers[0].max_age))
    for snapshot in older.only("id", "windows", "health_window").iterator():
        if snapshot.windows != [snapshot.health_window]:
            SnapshotGraph.objects.filter(snapshot=snapshot).exclude(window=snapshot.health_window).delete()
            GraphSnapshot.objects.filter(pk=snapshot.pk).update(windows=[snapshot.health_window])
    # The copies of every older graph that still has them, in two statements (not one query per snapshot).
    linked = SnapshotGraph.objects.filter(snapshot__in=older, linked=True)
    SnapshotGraphPart.objects.filter(graph__in=linked).exclude(extra=b"").update(extra=b"")
    linked.update(linked=False)
    return len(doomed)
