"""Taking graph snapshots: one Celery task per metric window; the last window to be stored completes the snapshot.

A snapshot is taken in three steps, each a function here that a task of ``topology.tasks`` calls with ids:

1. :func:`start_snapshot` claims the cluster's turn (a conditional UPDATE), picks the telemetry source, scrapes the
   mesh's counters once when there is no Prometheus, checks that Prometheus still scrapes the mesh when there is
   one (lost telemetry fails the attempt instead of storing an empty graph), and stores the snapshot as
   *building* with one :class:`~topology.models.SnapshotWindow` row per window. The task then fans the windows
   out as a ``group``.
2. :func:`build_snapshot_window`, one task per window on whichever worker process or machine takes it, reads the
   window's rows, builds its graphs (``topology.window_build``) and stores them, for the health window with
   the health and metrics summaries.
3. The same transaction finishes the snapshot: it marks the window's row done (a conditional UPDATE from
   *running*, so a redelivered message never counts a window twice), takes one off the snapshot's
   ``windows_pending``, and the window that takes it to 0 marks the snapshot complete. Readers only see complete
   snapshots (``GraphSnapshot.objects``).

Why a counter in the database and not a chord: a chord's callback needs a result backend, which the embedded
default (kombu's file-system broker) does not have, and with ``acks_late`` redeliveries its bookkeeping lives in
that backend too. The counter needs only the database every task already writes to, so it behaves the same on the
file-system broker and on Redis, and it survives any worker being lost.

Retries: the window task is ``acks_late`` with ``reject_on_worker_lost``, so a worker lost mid-window hands the
window back to the broker and only that window runs again. Celery cannot count those redeliveries, so every
attempt is counted in the window's row; after :data:`WINDOW_ATTEMPTS` the window fails and takes the snapshot with
it: the snapshot is kept as *failed* with the reason (and without its graphs), the failure is recorded on
``MetricsSourceStatus`` as a source failure is, and the API keeps serving the last complete snapshot marked stale.
A snapshot whose messages were all lost is marked failed by :func:`thin_snapshots` once no attempt can still be
running.

Telemetry comes from Prometheus when one is configured (the cluster's ``prometheus_url`` or ``PROMETHEUS_URL``),
else from the mesh's counters (``MESH_UI_METRICS_URL``, the simulator's), scraped once per snapshot and turned
into the same rows. :func:`take_snapshot` runs the same three steps inline, window after window, for tests and
benchmarks.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from clients.prometheus import PrometheusError
from inventory.models import Cluster, Namespace, Workload
from topology.graph.model import GRAPH_TYPES
from topology.mesh_inputs import load_graph_inputs
from topology.models import (
    GraphSnapshot,
    MetricsSourceStatus,
    SnapshotGraph,
    SnapshotGraphPart,
    SnapshotWindow,
)
from topology.retention import parse_retention, select_snapshots_to_delete
from topology.sources import (
    DirectScrapeSource,
    PrometheusSource,
    TelemetryError,
    TelemetrySource,
    telemetry_source_for,
    window_source,
)
from topology.window_build import WindowJob, WindowResult, build_window

log = logging.getLogger(__name__)

#: Attempts of one window (its first run, retries, and redeliveries after a lost worker) before it fails.
WINDOW_ATTEMPTS = 3
#: Seconds before a failed window's next attempt, times the attempts so far.
RETRY_DELAY = 1.0
#: Seconds an on-demand snapshot (``topology.on_demand``) is kept, and reused by requests for its window and moment.
ON_DEMAND_KEEP_SECONDS = 3600


@dataclass
class SnapshotOutcome:
    """How starting (or, inline, taking) a snapshot went; the start task returns it as its result."""

    cluster: str
    snapshot_id: int | None = None
    status: str = ""
    source: str = ""
    error: str = ""
    claimed: bool = True
    windows: list[int] = field(default_factory=list)
    source_ms: int = 0
    processing_ms: int = 0
    #: Wall time of the windows' storing transactions, summed.
    storing_ms: int = 0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class WindowOutcome:
    """How one attempt at a window went: ``retry_in`` seconds when the task should try again."""

    snapshot_id: int
    window: int
    state: str = ""
    attempt: int = 0
    error: str = ""
    retry_in: float | None = None
    #: The snapshot was completed by this window.
    completed: bool = False
    source_ms: int = 0
    processing_ms: int = 0
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


def start_snapshot(
    cluster_id: int, source: TelemetrySource | None = None, force: bool = False, at: float | None = None
) -> SnapshotOutcome:
    """Store a *building* snapshot of the cluster with a row per window, ready for the window tasks.

    Nothing is stored when another worker has this interval's turn (``claimed`` false, unless ``force``), or when
    there is no source or the counters cannot be scraped (the failure is recorded). ``at`` (unix seconds) reads
    telemetry at another moment than now (the snapshot is still stamped now).
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
    telemetry_at = now if at is None else datetime.fromtimestamp(at, tz=UTC)
    try:
        if isinstance(source, DirectScrapeSource):
            source.scrape(telemetry_at)
        elif isinstance(source, PrometheusSource) and settings.MESH_UI_PROMETHEUS_TARGET_SELECTOR:
            selector = settings.MESH_UI_PROMETHEUS_TARGET_SELECTOR
            source.check_scrape_targets(selector, min(settings.MESH_UI_GRAPH_WINDOWS), telemetry_at.timestamp())
    except TelemetryError as exc:
        outcome.error = str(exc)
        if _record_failure(cluster, source.kind, outcome.error):  # logged once, not at every interval
            log.warning("snapshot of %s failed: %s", cluster.name, exc)
        return outcome
    windows = list(settings.MESH_UI_GRAPH_WINDOWS)
    with transaction.atomic():
        snapshot = GraphSnapshot.every_snapshot.create(
            cluster=cluster,
            taken_at=now,
            telemetry_at=telemetry_at,
            status=GraphSnapshot.Status.BUILDING,
            source=source.kind,
            namespaces=mesh_namespaces(cluster),
            windows=windows,
            health_window=settings.MESH_UI_HEALTH_WINDOW,
            windows_pending=len(windows),
        )
        SnapshotWindow.objects.bulk_create([SnapshotWindow(snapshot=snapshot, window=window) for window in windows])
    outcome.snapshot_id = snapshot.pk
    outcome.status = snapshot.status
    outcome.windows = windows
    return outcome


def build_snapshot_window(snapshot_id: int, window: int, source: TelemetrySource | None = None) -> WindowOutcome:
    """One attempt at one window of a building snapshot: read its rows, build and store its graphs.

    Safe to run twice: a window already done, or of a snapshot no longer building, does nothing. A failed
    attempt asks for a retry (``retry_in``) until the window has had :data:`WINDOW_ATTEMPTS`; then the window and
    its snapshot fail. ``source`` replaces the snapshot's own (tests and benchmarks).
    """
    outcome = WindowOutcome(snapshot_id=snapshot_id, window=window)
    rows = SnapshotWindow.objects.select_related("snapshot__cluster")
    row = rows.filter(snapshot_id=snapshot_id, window=window).first()
    if row is None:  # its failed snapshot was thinned away before this message was delivered
        outcome.state = "gone"
        return outcome
    snapshot = row.snapshot
    if snapshot.status != GraphSnapshot.Status.BUILDING or row.state in {row.State.DONE, row.State.FAILED}:
        outcome.state = row.state
        return outcome
    claimed = (
        SnapshotWindow.objects.filter(
            pk=row.pk, state__in=[row.State.PENDING, row.State.RUNNING], attempts__lt=WINDOW_ATTEMPTS
        ).update(state=row.State.RUNNING, attempts=F("attempts") + 1, worker=f"{socket.gethostname()}:{os.getpid()}")
        == 1
    )
    row.refresh_from_db(fields=["state", "attempts", "error"])
    outcome.attempt = row.attempts
    if not claimed:
        if row.state == row.State.RUNNING:  # every attempt used up, the last one by a worker that was lost
            reason = row.error or "its worker was lost"
            _fail_window(row, f"window {window}s gave up after {row.attempts} attempts: {reason}")
        outcome.state = SnapshotWindow.objects.get(pk=row.pk).state
        return outcome
    try:
        result, source_seconds = _build_window_of(snapshot, window, source)
    except Exception as exc:  # any failure of an attempt, not only the source's: the snapshot must not stay building
        error = str(exc) or type(exc).__name__
        if isinstance(exc, TelemetryError):
            log.warning("snapshot %s window %ss attempt %d failed: %s", snapshot_id, window, row.attempts, error)
        else:
            log.exception("snapshot %s window %ss attempt %d failed unexpectedly", snapshot_id, window, row.attempts)
        outcome.error = error
        if row.attempts < WINDOW_ATTEMPTS:
            SnapshotWindow.objects.filter(pk=row.pk, state=row.State.RUNNING).update(error=error)
            outcome.state = row.State.RUNNING
            outcome.retry_in = RETRY_DELAY * row.attempts
        else:
            _fail_window(row, f"window {window}s failed after {row.attempts} attempts: {error}")
            outcome.state = row.State.FAILED
        return outcome
    outcome.source_ms = int(source_seconds * 1000)
    outcome.processing_ms = int(result.processing_cpu * 1000)
    storing_started = time.monotonic()
    outcome.state, outcome.completed = _store_window(row, result, outcome)
    outcome.storing_ms = int((time.monotonic() - storing_started) * 1000)
    return outcome


def _build_window_of(
    snapshot: GraphSnapshot, window: int, source: TelemetrySource | None
) -> tuple[WindowResult, float]:
    """Read a window's rows and build its graphs; the result and the seconds until its last rows arrived."""
    cluster = snapshot.cluster
    source = source or window_source(snapshot)
    at = (snapshot.telemetry_at or snapshot.taken_at).timestamp()
    mesh, health_inputs = load_graph_inputs(cluster, settings.MESH_UI_HEALTH_CONFIG)
    job = WindowJob(
        prometheus=getattr(source, "prometheus_settings", None),
        namespaces=tuple(snapshot.namespaces),
        window=window,
        at=at,
        mesh=mesh,
        health_inputs=health_inputs,
        summarize=window == snapshot.health_window,
    )
    started = time.monotonic()
    try:
        if job.prometheus is not None:
            result = build_window(job)
        else:
            result = build_window(job, source.fetch_rows(job.namespaces, window, at))
    except PrometheusError as exc:
        raise TelemetryError(f"Prometheus: {exc}") from exc
    return result, result.rows_at - started


class _NotBuilding(Exception):
    """The window's snapshot was failed (by another window or by thinning) while this one was being built."""


def _store_window(row: SnapshotWindow, result: WindowResult, outcome: WindowOutcome) -> tuple[str, bool]:
    """Store a built window and count it; the window's state afterwards and whether it completed the snapshot."""
    snapshot = row.snapshot
    graphs = [SnapshotGraph.from_packed(packed, snapshot_id=snapshot.pk) for packed in result.graphs]
    graphs.sort(key=lambda pair: (not pair[0].inject_service_nodes, GRAPH_TYPES.index(pair[0].graph_type)))
    size = sum(graph.size_bytes for graph, _ in graphs)
    counted: dict[str, Any] = {
        "windows_pending": F("windows_pending") - 1,
        "source_ms": Greatest(F("source_ms"), outcome.source_ms),
        "processing_ms": F("processing_ms") + outcome.processing_ms,
    }
    if result.health is not None:
        counted |= {"health": result.health, "metrics": result.metrics or {}}
        size += len(json.dumps(result.health))
    counted["size_bytes"] = F("size_bytes") + size
    building = GraphSnapshot.every_snapshot.filter(pk=snapshot.pk, status=GraphSnapshot.Status.BUILDING)
    try:
        with transaction.atomic():
            done = SnapshotWindow.objects.filter(pk=row.pk, state=row.State.RUNNING).update(
                state=row.State.DONE, source_ms=outcome.source_ms, processing_ms=outcome.processing_ms, error=""
            )
            if not done:  # another attempt (a redelivery) stored it first
                return SnapshotWindow.objects.get(pk=row.pk).state, False
            SnapshotGraph.save_with_parts(graphs)
            if not building.update(**counted):
                raise _NotBuilding
            # The conditional UPDATE that finishes: only the window that took the count to 0 sees it there.
            completed = building.filter(windows_pending=0).update(status=GraphSnapshot.Status.COMPLETE) == 1
            if completed and not snapshot.on_demand:
                MetricsSourceStatus.objects.filter(cluster_id=snapshot.cluster_id).update(
                    source=snapshot.source, last_success=timezone.now(), consecutive_failures=0
                )
    except _NotBuilding:
        return row.State.DONE, False  # rolled back: a failed snapshot keeps no graphs
    if completed:
        stored = GraphSnapshot.every_snapshot.filter(pk=snapshot.pk).values("source_ms", "processing_ms", "size_bytes")[
            0
        ]
        log.info(
            "snapshot %s of %s complete: %d windows, telemetry %d ms, processing %d ms, %d bytes",
            snapshot.pk,
            snapshot.cluster.name,
            len(snapshot.windows),
            stored["source_ms"],
            stored["processing_ms"],
            stored["size_bytes"],
        )
    return row.State.DONE, completed


def _fail_window(row: SnapshotWindow, error: str) -> None:
    """Fail a window that used up its attempts, and its snapshot with it."""
    with transaction.atomic():
        SnapshotWindow.objects.filter(pk=row.pk).exclude(state=row.State.DONE).update(
            state=row.State.FAILED, error=error
        )
        fail_snapshot(row.snapshot_id, error)


def fail_snapshot(snapshot_id: int, error: str) -> bool:
    """Mark a building snapshot failed with ``error``, drop the graphs its windows stored, record the failure on
    the cluster's metrics source; False when it was not building (complete, or failed already)."""
    with transaction.atomic():
        if not GraphSnapshot.every_snapshot.filter(pk=snapshot_id, status=GraphSnapshot.Status.BUILDING).update(
            status=GraphSnapshot.Status.FAILED, error=error
        ):
            return False
        SnapshotGraph.objects.filter(snapshot_id=snapshot_id).delete()
        # A window still running finds its row no longer running and stores nothing; one still queued stops.
        SnapshotWindow.objects.filter(snapshot_id=snapshot_id).exclude(state=SnapshotWindow.State.FAILED).update(
            state=SnapshotWindow.State.FAILED
        )
        snapshot = GraphSnapshot.every_snapshot.select_related("cluster").get(pk=snapshot_id)
        if not snapshot.on_demand:  # one request's graph failing says nothing new of the metrics source
            _record_failure(snapshot.cluster, snapshot.source, error)
    log.warning("snapshot %s of %s failed: %s", snapshot_id, snapshot.cluster.name, error)
    return True


def take_snapshot(
    cluster_id: int, source: TelemetrySource | None = None, force: bool = False, at: float | None = None
) -> SnapshotOutcome:
    """Take a whole snapshot in this process: :func:`start_snapshot`, then every window's
    :func:`build_snapshot_window` (with its retries, without waiting between them), as the tasks would.

    For tests and benchmarks; workers fan the windows out (``topology.tasks.take_graph_snapshot``).
    """
    outcome = start_snapshot(cluster_id, source, force, at)
    if outcome.snapshot_id is None:
        return outcome
    for window in outcome.windows:
        while True:
            attempt = build_snapshot_window(outcome.snapshot_id, window, source)
            outcome.storing_ms += attempt.storing_ms
            if attempt.retry_in is None:
                break
    snapshot = GraphSnapshot.every_snapshot.get(pk=outcome.snapshot_id)
    outcome.status, outcome.error = snapshot.status, snapshot.error
    outcome.source_ms, outcome.processing_ms = snapshot.source_ms, snapshot.processing_ms
    return outcome


def _record_failure(cluster: Cluster, source: str, error: str) -> bool:
    """Count a failed attempt; True when it is news (the first failure in a row, or another error than the last)."""
    now = timezone.now()
    statuses = MetricsSourceStatus.objects.filter(cluster=cluster)
    news = not statuses.filter(consecutive_failures__gt=0, last_error=error).exists()
    statuses.update(
        source=source, last_error=error, last_error_at=now, consecutive_failures=F("consecutive_failures") + 1
    )
    return news


def building_deadline(now: datetime) -> datetime:
    """Snapshots still building since before this can no longer finish: each of a window's attempts would have
    hit the task's hard time limit (plus its retry delays and a minute in the queue)."""
    limit = settings.CELERY_TASK_TIME_LIMIT or 600
    seconds = WINDOW_ATTEMPTS * (limit + RETRY_DELAY * WINDOW_ATTEMPTS) + 60
    return now - timedelta(seconds=seconds)


def thin_snapshots(cluster_id: int) -> int:
    """Delete the snapshots the retention tiers no longer keep; returns how many.

    Only complete snapshots are thinned (a building one's rows are being written by its windows). Building
    snapshots that can no longer finish (:func:`building_deadline`) are marked failed; failed ones are deleted once
    past the first tier. Snapshots past the first tier also lose their graphs of other windows than the health
    window (history is read at one window) and the copies linking namespaces in the graphs they keep (a scoped read
    of old history then reads the whole graph): together this cuts what a day of history stores by about four
    fifths. Snapshots older than ``MESH_UI_EXACT_GRAPHS_MAX_AGE`` lose their graphs without service nodes (read
    then as the collapse of the graphs with them, as snapshots stored before those graphs were).
    """
    tiers = parse_retention(settings.MESH_UI_SNAPSHOT_RETENTION)
    now = timezone.now()
    every = GraphSnapshot.every_snapshot.filter(cluster_id=cluster_id)
    stuck = every.filter(status=GraphSnapshot.Status.BUILDING, taken_at__lt=building_deadline(now))
    for snapshot_id in stuck.values_list("id", flat=True):
        fail_snapshot(snapshot_id, "never finished: its window tasks were lost")
    first_tier_start = now - timedelta(seconds=tiers[0].max_age)
    failed = list(every.filter(status=GraphSnapshot.Status.FAILED, taken_at__lt=first_tier_start).values_list("id"))
    complete = GraphSnapshot.objects.filter(cluster_id=cluster_id)
    doomed = select_snapshots_to_delete(complete.values_list("id", "taken_at"), now, tiers)
    doomed += [snapshot_id for (snapshot_id,) in failed]
    on_demand = every.filter(on_demand=True, taken_at__lt=now - timedelta(seconds=ON_DEMAND_KEEP_SECONDS))
    doomed += list(on_demand.exclude(status=GraphSnapshot.Status.FAILED).values_list("id", flat=True))
    for start in range(0, len(doomed), 500):
        GraphSnapshot.every_snapshot.filter(pk__in=doomed[start : start + 500]).delete()
    older = complete.filter(taken_at__lt=first_tier_start)
    for snapshot in older.only("id", "windows", "health_window").iterator():
        if snapshot.windows != [snapshot.health_window]:
            SnapshotGraph.objects.filter(snapshot=snapshot).exclude(window=snapshot.health_window).delete()
            GraphSnapshot.objects.filter(pk=snapshot.pk).update(windows=[snapshot.health_window])
    exact_until = now - timedelta(seconds=settings.MESH_UI_EXACT_GRAPHS_MAX_AGE)
    flat = SnapshotGraph.objects.filter(
        snapshot__in=complete.filter(taken_at__lt=exact_until), inject_service_nodes=False
    )
    flat.delete()
    # The copies of every older graph that still has them, in two statements (not one query per snapshot).
    linked = SnapshotGraph.objects.filter(snapshot__in=older, linked=True)
    SnapshotGraphPart.objects.filter(graph__in=linked).exclude(extra=b"").update(extra=b"")
    linked.update(linked=False)
    return len(doomed)
