"""Build one metric window of a snapshot from Prometheus: fetch its rows, build its four graphs, compress them.

This is the unit of work a snapshot splits into when it uses several processes (``MESH_UI_SNAPSHOT_PROCESSES``):
each window's fetch, graph building and compression runs in its own process, so a snapshot uses every core
instead of one (graph building is pure Python and holds the GIL). Nothing here touches Django or the database:
a job carries everything it needs and returns picklable results (compressed parts, and for the health window
the health and metrics summaries), so the processes stay small and the parent only stores what comes back.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from clients.prometheus import GraphRows, PendingGraphRows, PrometheusClient, PrometheusSettings
from topology.entity_metrics import build_snapshot_metrics
from topology.graph import build_graph_queries
from topology.graph.health_step import GraphHealthInputs
from topology.graph.partition import PackedGraph, PackedPart, pack_chunks, pack_graph
from topology.graph.pipeline import pause_cyclic_gc
from topology.graph.samples import MeshContext
from topology.graph.snapshot_build import WindowGraphBuilder
from topology.graph.wire import WireIds
from topology.health_summary import build_snapshot_health
from topology.telemetry.rows import build_counted_latency_samples, build_graph_query_parts, build_traffic_inputs


@dataclass(frozen=True)
class WindowJob:
    """What a process needs to build one window: where Prometheus is, what to ask, the mesh facts."""

    #: None when the rows come from elsewhere (passed to :func:`build_window`).
    prometheus: PrometheusSettings | None
    namespaces: tuple[str, ...]
    window: int
    #: The query time (unix seconds); the graphs' ``timestamp`` is its whole seconds.
    at: float
    mesh: MeshContext
    health_inputs: GraphHealthInputs
    #: The health window: also summarize health and per-entity metrics from its graphs.
    summarize: bool = False


@dataclass
class WindowResult:
    """A built window. Times are ``time.monotonic()`` readings (one clock for every process of the machine)."""

    window: int
    graphs: list[PackedGraph] = field(default_factory=list)
    health: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    rows_at: float = 0.0
    #: CPU seconds this process spent on its rows once they arrived (parsing, graphs, health, compression), not
    #: counting the CPU its client threads spent reading the latency rows while it waited for them.
    processing_cpu: float = 0.0


def build_window(job: WindowJob, rows: GraphRows | None = None, ids: WireIds | None = None) -> WindowResult:
    """Fetch the window's rows (unless given), build its four graphs and compress them.

    The traffic maps are built as soon as the request and TCP rows arrive, while Prometheus still computes the
    latency histogram (the slowest query). ``ids`` (memoized wire ids and numbers) may be shared by the windows
    built in one process.
    """
    if rows is not None:
        return _build_from_rows(job, rows, None, ids)
    if job.prometheus is None:
        raise ValueError("a window job without Prometheus settings needs its rows")
    client = PrometheusClient(job.prometheus)
    try:
        queries = build_graph_query_parts(build_graph_queries(job.namespaces, f"{job.window}s"))
        pending = client.start_graph_rows(queries, job.at)
        return _build_from_rows(job, pending.traffic(), pending, ids)
    finally:
        client.close()


def _build_from_rows(
    job: WindowJob, rows: GraphRows, pending: PendingGraphRows | None, ids: WireIds | None
) -> WindowResult:
    """:func:`build_window` from ``rows``: all of them, or the traffic rows with the latency rows ``pending``."""
    result = WindowResult(window=job.window, rows_at=time.monotonic())
    cpu = time.process_time()
    waiting_cpu = 0.0
    # zstd releases the GIL: each graph's parts are compressed on a thread while the next graph is built.
    with pause_cyclic_gc(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="window-zstd") as zstd_pool:
        builder = WindowGraphBuilder(
            build_traffic_inputs(rows, job.mesh, job.health_inputs),
            frozenset(job.namespaces),
            int(job.at),
            job.window,
            ids,
        )
        if pending is not None:
            # The latency rows. This thread waits; the client's threads parse the answers, which counts as reading
            # telemetry, not processing (as the traffic rows' parsing does).
            waited_from = time.process_time()
            rows = pending.complete()
            waiting_cpu = time.process_time() - waited_from
            result.rows_at = time.monotonic()
        latencies = build_counted_latency_samples(rows)
        del rows
        kept: dict[str, dict[str, Any]] = {}
        pending_parts: list[tuple[PackedGraph, Future[list[PackedPart]]]] = []
        for graph_type, graph in builder.graphs(latencies):
            packed, chunks = pack_graph(graph_type, job.window, graph)
            pending_parts.append((packed, zstd_pool.submit(pack_chunks, chunks)))
            if job.summarize:
                kept[graph_type] = graph
            del graph, chunks
        del builder, latencies
        if job.summarize:
            result.health = build_snapshot_health(kept)
            result.metrics = build_snapshot_metrics(kept)
        del kept
        for packed, parts in pending_parts:
            packed.parts.extend(parts.result())
            result.graphs.append(packed)
    result.processing_cpu = time.process_time() - cpu - waiting_cpu
    return result


_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


@contextmanager
def _children_allowed() -> Iterator[None]:
    """Let this process start the pool's processes even when it is daemonic, as Celery's prefork workers are.

    multiprocessing refuses children to daemonic processes because they are killed without cleanup; the pool's
    processes need none (they only compute, and exit when their job queue closes with this process).
    """
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        config["daemon"] = daemon


def _exit_with_parent() -> None:
    """In a pool process: be stopped when the process that started it ends, however it ends (Linux).

    A forked process holds its own copy of the job queue's pipe, so it would never see the queue close.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool is shut down with the worker instead
        return
    if os.getppid() == 1:  # the parent ended before the line above
        os._exit(0)


def _window_pool(size: int) -> ProcessPoolExecutor:
    """A process pool kept for the life of this process (starting processes costs more than a window).

    The processes are forked: they start at once with everything imported, and a job carries all it needs. (A
    forkserver or spawned process cannot be started from a Celery prefork worker: it would pickle its authkey.)
    """
    global _pool, _pool_size
    if _pool is None or _pool_size != size:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        context = multiprocessing.get_context("fork")
        _pool, _pool_size = ProcessPoolExecutor(size, mp_context=context, initializer=_exit_with_parent), size
    return _pool


def default_process_count(windows: int, configured: int) -> int:
    """Processes for a snapshot: ``configured``, never more than the windows; 0 = one per window, at most twice
    the cores.

    One per window rather than one per core: with 3 windows on 2 cores, 2 processes leave the third window to
    start after the first has finished, while 3 share both cores to the end (about 20 % less wall time here,
    ``bench/graph_snapshot.py``), and each process's Prometheus wait overlaps the others' building.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(windows, configured or 2 * cores))


def submit_windows(jobs: Sequence[WindowJob], processes: int) -> list[Future[WindowResult]]:
    """Start every window's job on the process pool (first window first).

    A pool broken by a lost process is replaced, once, before giving up.
    """
    global _pool

    def submit_all() -> list[Future[WindowResult]]:
        pool = _window_pool(processes)
        return [pool.submit(build_window, job) for job in jobs]

    with _pool_lock, _children_allowed():
        try:
            return submit_all()
        except BrokenProcessPool:
            _pool = None  # a process of it was lost: start a fresh pool
            return submit_all()


def shutdown_pool() -> None:
    """Stop the pool's processes (tests, and workers that want to exit cleanly)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
