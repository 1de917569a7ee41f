"""Benchmark: graph snapshots of a synthetic mesh (1,000 workloads, 5,000 edges) backfilled into a real Prometheus.

Generates a deterministic mesh (100 namespaces x 10 workloads: 5 apps x 2 versions, one service per app), picks
edges with a seeded RNG and writes Istio-labelled series for both reporters at 15 s steps: ``istio_requests_total``
(a few response codes), ``istio_request_duration_milliseconds`` buckets, TCP bytes for some edges, gRPC messages and
HTTP body bytes (``bench/synthetic_mesh.py``). The series are
backfilled with ``promtool tsdb create-blocks-from openmetrics`` and served by a real Prometheus with no scrape
targets; matching inventory rows (namespaces, services, workloads, pods) go into a fresh SQLite database (or,
with ``--postgres``, a PostgreSQL database made for the run).

It first prints the machine-speed reference of the run (``bench/machine_speed.py``), then:

1. the snapshot build: Prometheus alone (every window's queries, nothing else running), mesh-ui's processing alone
   (the same rows, from memory, in processes kept from round to round as a worker keeps its pool, and in one
   process), ``take_snapshot`` inline (the windows one after another in this process; also with Prometheus on a
   core of its own), then snapshots taken by a real Celery worker, one task per window, on the embedded
   file-system broker and (``--redis``) on Redis: from sending the snapshot task until the snapshot is complete;
   and the peak memory Python holds while building one window from its rows (``tracemalloc``, apart from the timings);
2. ``GET /api/v1/graph`` server time (in-process Django test client, median of many) against the floor of
   serialising the same graph with ``orjson.dumps``, the serializer the server's JSON comes from, for the default
   request and a one-namespace request;
3. storage per snapshot, per day and per week of history under ``MESH_UI_SNAPSHOT_RETENTION`` (and
   ``MESH_UI_EXACT_GRAPHS_MAX_AGE``: past it, no graphs without service nodes).

Everything lives in a temporary directory that is removed at the end.

    .venv/bin/python bench/graph_snapshot.py [--workloads 1000 --edges 5000 --runs 6 --api-iterations 20]
        [--side-rounds 5] [--postgres postgres://postgres@127.0.0.1:5432] [--worker-runs 6]
        [--redis redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from machine_speed import describe_machine_speed, measure_loop_seconds  # noqa: E402
from synthetic_mesh import (  # noqa: E402
    STEP_SECONDS,
    SYNTHETIC_FAMILIES,
    T0,
    build_mesh,
    build_series,
    store_inventory,
)

from devtools.prometheus_server import (  # noqa: E402
    backfill_openmetrics,
    render_openmetrics,
    running_prometheus,
)


def count_retained_snapshots(retention: str, horizon_seconds: int) -> tuple[int, list[str]]:
    """How many snapshots the retention tiers keep for ``horizon_seconds`` of history, and the arithmetic."""
    from topology.retention import parse_retention

    total, younger, parts = 0, 0, []
    for tier in parse_retention(retention):
        if younger >= horizon_seconds:
            break
        covered = min(tier.max_age, horizon_seconds) - younger
        kept = covered // tier.resolution
        parts.append(f"{covered} s / {tier.resolution} s = {kept}")
        total += kept
        younger = min(tier.max_age, horizon_seconds)
    return total, parts


def time_graph_request(client: Any, params: dict[str, str], iterations: int) -> tuple[float, float]:
    """Median ms of ``GET /api/v1/graph`` and of ``orjson.dumps`` of the graph it returns (the floor).

    The server writes graph JSON with orjson (``topology.graph.wire.encode_graph_json``), or splices stored bytes
    without serialising at all; serialising the answer with orjson is the least the same job costs with the same
    tools.
    """
    server, floor = [], []
    for _ in range(iterations):
        started = time.perf_counter()
        response = client.get("/api/v1/graph", params)
        server.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:200]
        graph = orjson.loads(response.content)
        started = time.perf_counter()
        orjson.dumps(graph)
        floor.append((time.perf_counter() - started) * 1000)
    return statistics.median(server), statistics.median(floor)


#: The rows :func:`window_processes` builds from, set before its pool forks so the processes inherit them (in a
#: snapshot each process fetches its own rows; pickling them over would add work a snapshot never does).
_ROWS: dict[int, Any] = {}


def _build_inherited_window(job: Any) -> Any:
    from topology.window_build import build_window

    return build_window(job, _ROWS[job.window])


def time_processing_here(jobs: Sequence[Any], rows: dict[int, Any]) -> tuple[float, float]:
    """Wall and CPU seconds of building ``jobs`` from ``rows`` in this process, with shared ids."""
    from topology.graph.wire import WireIds
    from topology.window_build import build_window

    ids = WireIds()
    started, cpu = time.perf_counter(), time.process_time()
    for job in jobs:
        build_window(job, rows[job.window], ids)
    return time.perf_counter() - started, time.process_time() - cpu


def peak_window_memory(job: Any, rows: Any) -> int:
    """Bytes Python held at most while building one window from ``rows`` in memory, beyond what it held before
    (``tracemalloc``: every allocation traced, so it runs apart from the timed rounds)."""
    import tracemalloc

    from topology.window_build import build_window

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        build_window(job, rows)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@contextmanager
def window_processes(rows: dict[int, Any], processes: int) -> Iterator[Callable[[Sequence[Any]], tuple[float, float]]]:
    """A pool of ``processes`` forked processes that inherit ``rows``, kept for every round like a worker's pool;
    yields a function timing ``jobs`` on it: (wall seconds, CPU seconds the processes spent building)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _ROWS.clear()
    _ROWS.update(rows)
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(abs, range(processes)))  # the processes exist before the clock starts

            def timed(jobs: Sequence[Any]) -> tuple[float, float]:
                started = time.perf_counter()
                results = list(pool.map(_build_inherited_window, jobs))
                return time.perf_counter() - started, sum(result.processing_cpu for result in results)

            yield timed
    finally:
        _ROWS.clear()


@contextmanager
def cores_apart(prometheus_pid: int) -> Iterator[None]:
    """Prometheus (every thread) on the first core, this process on the others."""
    cores = sorted(os.sched_getaffinity(0))
    threads = [int(task) for task in os.listdir(f"/proc/{prometheus_pid}/task")]
    os.sched_setaffinity(0, set(cores[1:]))
    for thread in threads:
        os.sched_setaffinity(thread, {cores[0]})  # threads it starts later inherit it
    try:
        yield
    finally:
        os.sched_setaffinity(0, set(cores))
        for task in os.listdir(f"/proc/{prometheus_pid}/task"):
            os.sched_setaffinity(int(task), set(cores))


def fetch_every_window(
    source: Any, namespaces: Sequence[str], windows: Sequence[int], at: float
) -> tuple[dict[int, Any], float]:
    """Every window's rows, their queries sent at once as a snapshot's window tasks send them; and the wall
    seconds until the last rows arrived."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.perf_counter()
    with ThreadPoolExecutor(len(windows)) as pool:
        rows = dict(zip(windows, pool.map(lambda w: source.fetch_rows(namespaces, w, at), windows), strict=True))
    return rows, time.perf_counter() - started


def window_jobs(cluster: Any, namespaces: Sequence[str], windows: Sequence[int], at: float) -> list[Any]:
    """The jobs a snapshot's window tasks build (rows passed in, not fetched)."""
    from django.conf import settings

    from topology.mesh_inputs import load_graph_inputs
    from topology.window_build import WindowJob

    mesh, health = load_graph_inputs(cluster, settings.MESH_UI_HEALTH_CONFIG)
    return [
        WindowJob(None, tuple(namespaces), w, at, mesh, health, summarize=w == settings.MESH_UI_HEALTH_WINDOW)
        for w in windows
    ]


@dataclass
class WorkerRun:
    """One snapshot taken by a Celery worker: wall ms from sending its task until it was complete, and its row."""

    total_ms: float
    source_ms: int
    processing_ms: int
    workers: int


@contextmanager
def celery_worker(broker_url: str, concurrency: int, prometheus_url: str) -> Iterator[Any]:
    """A real Celery worker (prefork, ``concurrency`` processes) on ``broker_url`` and this run's database; yields
    a kombu connection to send tasks over."""
    import subprocess

    from kombu import Connection

    from mesh_ui.celery import app

    env = dict(os.environ, CELERY_BROKER_URL=broker_url, PROMETHEUS_URL=prometheus_url, PYTHONUNBUFFERED="1")
    if broker_url.startswith("redis://"):
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "mesh_ui", "purge", "-f"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        connection = Connection(broker_url)
    else:
        connection = app.connection_for_write()  # this process's settings: the same folders under the var dir
    log = Path(os.environ["MESH_UI_VAR_DIR"]) / f"worker-{broker_url.split(':', 1)[0]}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = ["worker", "--concurrency", str(concurrency), "--loglevel", "WARNING"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mesh_ui", *command],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        with connection:
            yield connection
    finally:
        worker.terminate()  # warm shutdown: nothing is running between snapshots
        worker.wait(30)


def time_worker_snapshots(connection: Any, cluster_id: int, at: float, runs: int) -> list[WorkerRun]:
    """Snapshots taken by the worker, one after another: each from sending ``take_graph_snapshot`` (which fans
    the windows out as tasks) until the snapshot is complete, polled every 10 ms."""
    from topology.models import GraphSnapshot, SnapshotWindow
    from topology.tasks import take_graph_snapshot

    results = []
    for _ in range(runs):
        newest = GraphSnapshot.every_snapshot.order_by("-pk").values_list("pk", flat=True).first() or 0
        started = time.perf_counter()
        take_graph_snapshot.apply_async(args=[cluster_id], kwargs={"at": at, "force": True}, connection=connection)
        deadline = started + 300
        while True:
            snapshot = GraphSnapshot.every_snapshot.filter(pk__gt=newest).exclude(status="building").first()
            if snapshot is not None:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError("no snapshot completed within 300 s (see the worker log in the var folder)")
            time.sleep(0.01)
        total_ms = (time.perf_counter() - started) * 1000
        if snapshot.status != "complete":
            raise RuntimeError(f"the worker's snapshot failed: {snapshot.error}")
        workers = SnapshotWindow.objects.filter(snapshot=snapshot).values_list("worker", flat=True).distinct()
        results.append(WorkerRun(total_ms, snapshot.source_ms, snapshot.processing_ms, len(workers)))
    return results


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_client(username: str, namespaces: Sequence[str]) -> Any:
    """A test client logged in as a new viewer of ``namespaces`` ("" for all) in every cluster."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import RoleGrant

    client = Client()
    user = get_user_model().objects.create_user(username)
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role="viewer", namespace=ns) for ns in namespaces])
    client.force_login(user)
    return client


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size / 1024:,.0f} KiB"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + "  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--cross-namespace", type=float, default=0.2, help="share of edges to another namespace (1 = uniform)"
    )
    parser.add_argument(
        "--minutes", type=int, default=11, help="backfilled history (the longest window, 10 m, plus a minute)"
    )
    parser.add_argument(
        "--runs", type=int, default=6, help="take_snapshot runs (the first one reported apart, the rest as a median)"
    )
    parser.add_argument(
        "--worker-runs", type=int, default=6, help="snapshots per broker by a Celery worker (the first apart)"
    )
    parser.add_argument("--redis", default="", help="also measure the worker on this Redis (redis://host:port/db)")
    parser.add_argument("--side-rounds", type=int, default=5, help="rounds of measuring each side alone")
    parser.add_argument("--api-iterations", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL server (postgres://user@host:port) to store in, in a database made for the run; "
        "default: SQLite in a temporary folder",
    )
    args = parser.parse_args()
    # Each of these figures is reported as a median, and a median of fewer than 5 runs says little.
    for option, value, least in (
        ("--runs", args.runs, 6),
        ("--worker-runs", args.worker_runs, 6),
        ("--side-rounds", args.side_rounds, 5),
    ):
        if value < least:
            parser.error(f"{option} must be at least {least}: its figures are medians of at least 5 runs")
    if args.api_iterations < 5:
        parser.error("--api-iterations must be at least 5: the API figures are medians")

    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-bench-graph-"))
    try:
        with bench_database(args.postgres, workdir) as database_url:
            os.environ["DATABASE_URL"] = database_url
            run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def bench_database(postgres: str, workdir: Path) -> Iterator[str]:
    """The database URL to store in: SQLite in ``workdir``, or a fresh database on the ``postgres`` server."""
    if not postgres:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import psycopg

    server = postgres.rstrip("/")
    name = f"mesh_ui_bench_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


def run(args: argparse.Namespace, workdir: Path) -> None:
    os.environ["MESH_UI_VAR_DIR"] = str(workdir / "var")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("PROMETHEUS_TIMEOUT", "60")  # a busy 2-core box can take over 10 s on a histogram query
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
    # mesh-ui refuses to start without SECRET_KEY; the bench signs nothing that outlives it.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

    print(describe_machine_speed())
    print(f"database: {os.environ['DATABASE_URL'].split(':', 1)[0]}")
    points = args.minutes * 60 // STEP_SECONDS + 1
    at = float(T0 + STEP_SECONDS * (points - 1))
    started = time.perf_counter()
    mesh = build_mesh(args.workloads, args.edges, args.seed, args.cross_namespace)
    series = build_series(mesh, points)
    text = render_openmetrics(SYNTHETIC_FAMILIES, series)
    sample_count = len(series) * points
    del series
    generated = time.perf_counter() - started
    started = time.perf_counter()
    tsdb = workdir / "tsdb"
    backfill_openmetrics(text, tsdb)
    text_size = len(text)
    del text
    backfilled = time.perf_counter() - started
    print(
        f"mesh: {len(mesh.namespaces)} namespaces, {len(mesh.workloads)} workloads, {len(mesh.edges)} edges "
        f"({sum(e.protocol == 'http' for e in mesh.edges)} http, {sum(e.protocol == 'grpc' for e in mesh.edges)} grpc, "
        f"{sum(e.protocol == 'tcp' for e in mesh.edges)} tcp; "
        f"{sum(e.source.namespace != e.destination.namespace for e in mesh.edges)} across namespaces), seed {args.seed}"
    )
    print(
        f"series: {sample_count // points:,} x {points} points = {sample_count:,} samples, "
        f"OpenMetrics {mib(text_size)}; generated in {generated:.1f} s, backfilled in {backfilled:.1f} s"
    )

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from inventory.models import Cluster
    from topology.graph.snapshot_build import STORED_GRAPHS
    from topology.models import GraphSnapshot, SnapshotGraph, SnapshotGraphPart
    from topology.snapshots import take_snapshot
    from topology.sources import PrometheusSource

    call_command("migrate", verbosity=0)
    cluster_id = store_inventory(mesh)

    with running_prometheus([], tsdb_dir=tsdb) as prometheus:
        source = PrometheusSource(prometheus.url)
        namespaces = sorted(mesh.namespaces)
        windows = list(settings.MESH_UI_GRAPH_WINDOWS)
        # Each side with the machine to itself: every window's queries (as take_snapshot sends them, all windows
        # at once), then mesh-ui's processing of the rows they returned, from memory; in alternating rounds, and
        # the median of each figure (the machine's speed drifts by several per cent from one second to the next).
        rows, _ = fetch_every_window(source, namespaces, windows, at)  # warm-up: snapshots repeat the same queries
        cluster = Cluster.objects.get(pk=cluster_id)
        jobs = window_jobs(cluster, namespaces, windows, at)
        processes = len(jobs)  # one worker process per window task
        rounds: dict[str, list[tuple[float, float]]] = {"prometheus": [], "n": [], "1": []}
        with window_processes(rows, processes) as time_in_processes:
            for _ in range(args.side_rounds + 1):
                prometheus_cpu = process_cpu_seconds(prometheus.process.pid)
                rows, fetch_seconds = fetch_every_window(source, namespaces, windows, at)
                cpu_used = process_cpu_seconds(prometheus.process.pid) - prometheus_cpu
                rounds["prometheus"].append((fetch_seconds, cpu_used))
                rounds["n"].append(time_in_processes(jobs))
                rounds["1"].append(time_processing_here(jobs, rows))
        print(f"Prometheus request rows per window: { {w: len(r.requests) for w, r in rows.items()} }")
        sizes = {job.window: len(rows[job.window].requests) for job in jobs}
        largest = max(jobs, key=lambda job: sizes[job.window])
        peak = peak_window_memory(largest, rows[largest.window])
        print(f"peak memory of one window build ({largest.window} s window, tracemalloc): {mib(peak)}")
        del rows
        first_round = rounds["n"][0]
        # The first round runs in fresh processes; a worker's pool processes live on, so the later rounds count.
        (prometheus_wall, prometheus_cpu), (wall_n, cpu_n), (wall_1, cpu_1) = (
            (statistics.median(w for w, _ in runs[1:]), statistics.median(c for _, c in runs[1:]))
            for runs in rounds.values()
        )
        print_table(
            f"each side alone, the machine to itself (ms, median of {args.side_rounds} alternating rounds after one)",
            ("", "wall", "CPU", "wall / Prometheus", "CPU / Prometheus"),
            [
                (
                    "Prometheus: every window's queries at once",
                    f"{prometheus_wall * 1e3:.0f}",
                    f"{prometheus_cpu * 1e3:.0f}",
                    "",
                    "",
                ),
                *(
                    (
                        f"mesh-ui processing, {count} process(es)",
                        f"{wall * 1e3:.0f}",
                        f"{cpu * 1e3:.0f}",
                        f"{wall / prometheus_wall:.2f}x",
                        f"{cpu / prometheus_cpu:.2f}x",
                    )
                    for count, wall, cpu in ((processes, wall_n, cpu_n), (1, wall_1, cpu_1))
                ),
            ],
        )
        print(
            "  Prometheus: the queries as a snapshot's window tasks send them (all windows at once), rows parsed; CPU\n"
            "  of the Prometheus process. Processing: the same rows from memory, built as a window task builds them\n"
            "  (parsing, graphs, health, splitting, compression), in processes kept from round to round as a worker\n"
            "  keeps its pool, and in one process; storing not included. The first round, in fresh processes (each\n"
            f"  process's first window pays its page faults), took {first_round[0] * 1e3:.0f} ms wall, "
            f"{first_round[1] * 1e3:.0f} ms CPU."
        )

        # take_snapshot inline: the window tasks' functions, one window after another, in this process. Then with
        # Prometheus on one core and mesh-ui on the other, as when Prometheus runs on its own machine.
        modes = [("inline, one window after another", False)]
        if len(os.sched_getaffinity(0)) >= 2:
            modes.append(("inline, Prometheus on its own core", True))
        results: dict[str, list[tuple[Any, float]]] = {}
        for label, pinned in modes:
            with cores_apart(prometheus.process.pid) if pinned else nullcontext():
                for _ in range(args.runs):
                    started = time.perf_counter()
                    outcome = take_snapshot(cluster_id, source=source, force=True, at=at)
                    total_ms = (time.perf_counter() - started) * 1000
                    assert outcome.status == "complete", outcome.error
                    results.setdefault(label, []).append((outcome, total_ms))

        # A real Celery worker, one process per window: the snapshot task fans the windows out as tasks.
        brokers = [("embedded file-system broker", "filesystem://")]
        if args.redis:
            brokers.append(("Redis", args.redis))
        worker_results: dict[str, list[WorkerRun]] = {label: [] for label, _ in brokers}
        # One idle worker per broker, started together; their snapshots alternate, so both see the same machine.
        with ExitStack() as stack:
            connections = {
                label: stack.enter_context(celery_worker(url, len(windows), prometheus.url)) for label, url in brokers
            }
            for _ in range(args.worker_runs):
                for label, connection in connections.items():
                    worker_results[label] += time_worker_snapshots(connection, cluster_id, at, 1)

    snapshot_rows = []
    for label, runs in results.items():
        for index, (outcome, total_ms) in enumerate(runs, 1):
            snapshot_rows.append(
                (
                    f"{label} run {index}",
                    f"{outcome.source_ms}",
                    f"{outcome.processing_ms}",
                    f"{outcome.storing_ms}",
                    f"{total_ms:.0f}",
                )
            )
        later = runs[1:] or runs
        snapshot_rows.append(
            (
                f"{label} median of runs 2..",
                f"{statistics.median(o.source_ms for o, _ in later):.0f}",
                f"{statistics.median(o.processing_ms for o, _ in later):.0f}",
                f"{statistics.median(o.storing_ms for o, _ in later):.0f}",
                f"{statistics.median(t for _, t in later):.0f}",
            )
        )
    print_table(
        f"take_snapshot inline: {len(settings.MESH_UI_GRAPH_WINDOWS)} windows x up to {len(STORED_GRAPHS)} graphs"
        " + health + storing (ms)",
        ("", "Prometheus", "processing", "storing", "total"),
        snapshot_rows,
    )
    print(
        "  Prometheus: the longest time a window waited for its rows. processing: CPU time spent on the rows after"
        "\n  they arrived (parsing, graphs, health, compression), summed over the windows. A window's traffic maps"
        "\n  are built while its latency histogram is computed, so Prometheus and processing overlap. storing: the"
        "\n  windows' storing transactions. With Prometheus on its own core, mesh-ui has the other one only."
    )
    worker_rows = []
    for label, worker_runs in worker_results.items():
        later_runs = worker_runs[1:] or worker_runs
        worker_rows.append(
            (
                label,
                f"{worker_runs[0].total_ms:.0f}",
                f"{statistics.median(r.total_ms for r in later_runs):.0f}",
                f"{min(r.total_ms for r in later_runs):.0f}-{max(r.total_ms for r in later_runs):.0f}",
                f"{statistics.median(r.source_ms for r in later_runs):.0f}",
                f"{statistics.median(r.processing_ms for r in later_runs):.0f}",
                f"{statistics.median(r.workers for r in later_runs):.0f}",
            )
        )
    print_table(
        f"snapshot by a Celery worker ({len(settings.MESH_UI_GRAPH_WINDOWS)} processes), from sending the task to"
        f" complete (ms; brokers alternating, median of runs 2..{args.worker_runs})",
        ("broker", "run 1", "median", "range", "Prometheus", "processing", "window processes"),
        worker_rows,
    )
    print(
        "  The snapshot task starts the snapshot and sends one task per window; each window task fetches its rows,"
        "\n  builds and stores its graphs, and the last one completes the snapshot. window processes: distinct worker"
        f"\n  processes its windows ran in. Machine speed: `for _ in range(10_000_000): pass` took"
        f" {measure_loop_seconds():.2f} s."
    )

    # The graph API, in-process, on the latest snapshot. Each iteration times the request and then the floor
    # (orjson.dumps of the graph it returned), interleaved so both see the same machine load. The API needs a login
    # and a role: a viewer of everything (the fast paths), and viewers of one namespace or of half of them (their
    # graph is built from their namespaces' parts, the rest folded into one opaque node).
    one_namespace = mesh.namespaces[len(mesh.namespaces) // 2]
    half = sorted(mesh.namespaces)[: len(mesh.namespaces) // 2]
    clients = {
        "all": bench_client("bench", [""]),
        "one": bench_client("bench-one", [one_namespace]),
        "half": bench_client("bench-half", half),
    }
    requests = [
        ("default (all namespaces, idle hidden)", "all", {"graphType": "versionedApp"}),
        ("default, idleNodes=true (stored bytes)", "all", {"graphType": "versionedApp", "idleNodes": "true"}),
        (f"namespaces={one_namespace}", "all", {"graphType": "versionedApp", "namespaces": one_namespace}),
        # The per-request cost that does not grow with the answer: lookups, one part read, an empty graph.
        ("namespaces=none-such (fixed cost)", "all", {"graphType": "versionedApp", "namespaces": "none-such"}),
        ("workload graph, default", "all", {"graphType": "workload"}),
        (f"default, viewer of {one_namespace} only", "one", {"graphType": "versionedApp"}),
        (f"default, viewer of {len(half)} namespaces", "half", {"graphType": "versionedApp"}),
    ]
    api_rows = []
    for label, who, params in requests:
        client = clients[who]
        server_ms, floor_ms = time_graph_request(client, params, args.api_iterations)
        body = client.get("/api/v1/graph", params).content
        elements = orjson.loads(body)["elements"]
        api_rows.append(
            (
                label,
                f"{len(elements['nodes'])}/{len(elements['edges'])}",
                mib(len(body)),
                f"{server_ms:.1f}",
                f"{floor_ms:.1f}",
                # An empty answer's floor is microseconds: a ratio to it says nothing.
                f"{server_ms / floor_ms:.2f}x" if floor_ms >= 0.05 else "—",
            )
        )
    print_table(
        f"GET /api/v1/graph (median of {args.api_iterations}, in-process test client)",
        ("request", "nodes/edges", "body", "server ms", "orjson.dumps ms", "ratio"),
        api_rows,
    )

    stored = GraphSnapshot.objects.get(pk=list(results.values())[-1][-1][0].snapshot_id or 0)  # an inline one
    graphs = list(SnapshotGraph.objects.filter(snapshot=stored))
    graph_bytes = sum(g.size_bytes for g in graphs)
    raw_bytes = sum(len(g.json_bytes()) for g in graphs)
    extras = SnapshotGraphPart.objects.filter(graph__snapshot=stored).values_list("extra", flat=True)
    extra_bytes = sum(len(bytes(extra)) for extra in extras)
    health_bytes = len(json.dumps(stored.health))
    per_snapshot = stored.size_bytes
    retention = settings.MESH_UI_SNAPSHOT_RETENTION
    per_day, day_parts = count_retained_snapshots(retention, 86400)
    per_week, week_parts = count_retained_snapshots(retention, 7 * 86400)
    # Past the first tier thinning keeps only the health window's graphs (plus health and metrics).
    from topology.retention import parse_retention

    first_tier = parse_retention(retention)[0]
    recent = first_tier.max_age // first_tier.resolution
    # Past the first tier: the health window's graphs without the copies linking namespaces (see thin_snapshots).
    health_extras = SnapshotGraphPart.objects.filter(graph__snapshot=stored, graph__window=stored.health_window)
    health_extra_bytes = sum(len(bytes(extra)) for extra in health_extras.values_list("extra", flat=True))
    health_graph_bytes = sum(g.size_bytes for g in graphs if g.window == stored.health_window) - health_extra_bytes
    # ...and without the graphs without service nodes once past MESH_UI_EXACT_GRAPHS_MAX_AGE (counted here when it
    # is at most the first tier's age, its default).
    exact_age = getattr(settings, "MESH_UI_EXACT_GRAPHS_MAX_AGE", None)
    if exact_age is not None and exact_age <= first_tier.max_age:
        health_flat = [g for g in graphs if g.window == stored.health_window and not g.inject_service_nodes]
        flat_extras = health_extras.filter(graph__inject_service_nodes=False).values_list("extra", flat=True)
        health_graph_bytes -= sum(g.size_bytes for g in health_flat) - sum(len(bytes(e)) for e in flat_extras)
    older_snapshot = per_snapshot - graph_bytes + health_graph_bytes
    per_day_bytes = recent * per_snapshot + (per_day - recent) * older_snapshot
    per_week_bytes = recent * per_snapshot + (per_week - recent) * older_snapshot
    print(f"\nstorage (retention {retention})")
    print(
        f"  per snapshot: {mib(per_snapshot)} ({len(graphs)} graphs: {mib(graph_bytes)} zstd of {mib(raw_bytes)} JSON, "
        f"{mib(extra_bytes)} of it copies linking namespaces; "
        f"health {mib(health_bytes)}); past the first tier {mib(older_snapshot)} (health-window graphs, no copies"
        f"{', none without service nodes' if exact_age is not None and exact_age <= first_tier.max_age else ''})"
    )
    print(f"  a day of history keeps {' + '.join(day_parts)} = {per_day} snapshots: {mib(per_day_bytes)}")
    print(f"  a week keeps {' + '.join(week_parts)} = {per_week} snapshots: {mib(per_week_bytes)}")
    print(f"\nat the end of the run, {describe_machine_speed()}")


if __name__ == "__main__":
    main()
