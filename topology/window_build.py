"""Build one metric window of a snapshot: fetch its rows, build its graphs, compress them.

This is the unit of work a snapshot splits into: one Celery task per window (``topology.tasks``), so the windows
of a snapshot run on as many worker processes and machines as there are (graph building is pure Python and holds
the GIL, so one process builds one window at a time). Nothing here touches Django or the database: a job carries
everything it needs and the result is plain data (compressed parts, and for the health window the health and
metrics summaries) that ``topology.snapshots`` stores.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
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
from topology.telemetry.rows import (
    build_counted_direction_samples,
    build_counted_latency_samples,
    build_graph_query_parts,
    build_traffic_inputs,
)


@dataclass(frozen=True)
class WindowJob:
    """What building one window needs: where Prometheus is, what to ask, the mesh facts."""

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
    """A built window. ``rows_at`` is a ``time.monotonic()`` reading: when the window's last rows arrived."""

    window: int
    graphs: list[PackedGraph] = field(default_factory=list)
    health: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    rows_at: float = 0.0
    #: CPU seconds spent on the rows once they arrived (parsing, graphs, health, compression), not counting the
    #: CPU the client's threads spent reading the latency rows while the graphs waited for them: a snapshot's
    #: ``processing_ms`` is the sum of this over its windows.
    processing_cpu: float = 0.0


def build_window(job: WindowJob, rows: GraphRows | None = None, ids: WireIds | None = None) -> WindowResult:
    """Fetch the window's rows (unless given), build its graphs (``STORED_GRAPHS``) and compress them.

    The traffic maps are built as soon as the request and TCP rows arrive, while Prometheus still computes the
    latency histogram (the slowest query). ``ids`` (memoized wire ids and numbers) may be shared by the windows
    built in one process. Prometheus' errors are raised as :class:`~clients.prometheus.PrometheusError`.
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
    """:func:`build_window` from ``rows``: all of them, or the traffic rows with the latency rows ``pending``.

    The only place snapshots turn ``GraphRows`` into graph inputs (``build_traffic_inputs``, then, once the latency
    rows are in, ``build_latency_samples``).
    """
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
        directions = build_counted_direction_samples(rows)
        del rows
        kept: dict[str, dict[str, Any]] = {}
        pending_parts: list[tuple[PackedGraph, Future[list[PackedPart]]]] = []
        for (graph_type, inject_service_nodes), graph in builder.graphs(latencies, directions):
            packed, chunks = pack_graph(graph_type, job.window, graph, inject_service_nodes)
            pending_parts.append((packed, zstd_pool.submit(pack_chunks, chunks)))
            if job.summarize and inject_service_nodes:  # health reads the graphs as Kiali draws them by default
                kept[graph_type] = graph
            del graph, chunks
        del builder, latencies, directions
        if job.summarize:
            result.health = build_snapshot_health(kept)
            result.metrics = build_snapshot_metrics(kept)
        del kept
        for packed, parts in pending_parts:
            packed.parts.extend(parts.result())
            result.graphs.append(packed)
    result.processing_cpu = time.process_time() - cpu - waiting_cpu
    return result
