"""Profile mesh-ui's own snapshot processing on the synthetic mesh of ``bench/graph_snapshot.py``, without I/O.

``capture`` runs the bench's setup once (synthetic mesh, promtool backfill, a real Prometheus, the inventory in
SQLite) and pickles, per window, the raw answers of the graph queries, plus the mesh context and health inputs
the snapshot reads from the inventory. ``run`` loads that pickle and times (or profiles with cProfile) what
a snapshot does with each window's rows: :func:`clients.prometheus.build_graph_rows`, then
:func:`topology.window_build.build_window` (parsing, the 4 graphs, splitting and compressing their parts, health
and metrics for the health window). ``--digest`` prints a SHA-256 per graph over its head, counts and every stored
part (decompressed), and of health and metrics, to check that a change keeps the output byte-identical.

    .venv/bin/python bench/profile_build.py capture /tmp/rows.pickle
    .venv/bin/python bench/profile_build.py run /tmp/rows.pickle [--repeat 5] [--profile] [--digest]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pickle
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HEALTH_WINDOW = 300
WINDOWS = (60, 300, 600)


def capture(path: Path) -> None:
    """Run the bench's setup and pickle the raw query answers and the inventory inputs."""
    from graph_snapshot import STEP_SECONDS, T0, build_mesh, build_series, render_series, store_inventory

    from tests.support.prometheus import backfill_openmetrics, running_prometheus

    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-profile-"))
    try:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        os.environ["MESH_UI_VAR_DIR"] = str(workdir / "var")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
        points = 11 * 60 // STEP_SECONDS + 1
        at = float(T0 + STEP_SECONDS * (points - 1))
        mesh = build_mesh(1000, 5000, 42)
        backfill_openmetrics(render_series(build_series(mesh, points)), workdir / "tsdb")

        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from clients.prometheus import PrometheusClient, PrometheusSettings, build_graph_query_map
        from inventory.models import Cluster
        from topology.graph import build_graph_queries
        from topology.graph.queries import split_sum_rate_query
        from topology.mesh_inputs import load_health_inputs, load_mesh_context
        from topology.snapshots import mesh_namespaces

        call_command("migrate", verbosity=0)
        cluster = Cluster.objects.get(pk=store_inventory(mesh))
        namespaces = mesh_namespaces(cluster)
        raw: dict[int, dict[str, list[Any]]] = {}
        with running_prometheus([], tsdb_dir=workdir / "tsdb") as prometheus:
            client = PrometheusClient(PrometheusSettings(url=prometheus.url, timeout=60))
            for window in WINDOWS:
                query_map = build_graph_query_map(build_graph_queries(namespaces, f"{window}s"))
                raw[window] = {
                    name: [row for part in split_sum_rate_query(query) for row in client.fetch_instant(part, at)]
                    for name, query in query_map.items()
                }
            client.close()
        payload = {
            "namespaces": namespaces,
            "raw": raw,
            "mesh": load_mesh_context(cluster),
            "health": load_health_inputs(cluster, settings.MESH_UI_HEALTH_CONFIG),
            "timestamp": int(at),
        }
        path.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class _PhaseTimer:
    """Wall time per phase of ``build_window``, by wrapping the functions it calls (where they still exist)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._restore: list[tuple[Any, str, Any]] = []

    def _add(self, phase: str, seconds: float) -> None:
        self.timings[phase] = self.timings.get(phase, 0.0) + seconds

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._add(phase, time.perf_counter() - started)

        self._restore.append((owner, name, original))
        setattr(owner, name, timed)

    def wrap_generator(self, owner: Any, name: str, phase: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            iterator = iter(original(*args, **kwargs))
            while True:
                started = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    self._add(phase, time.perf_counter() - started)
                    return
                self._add(phase, time.perf_counter() - started)
                yield item

        self._restore.append((owner, name, original))
        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore.clear()


def process(payload: dict[str, Any], phases: bool = True) -> tuple[dict[str, float], dict[str, bytes]]:
    """What a snapshot does with each window's rows: ``build_window`` per window, timed.

    Returns the timings (``derive``: building :class:`GraphRows` from the raw answers, as the window's fetch does,
    now only wrapping them; ``cpu``: CPU seconds of that plus what ``build_window`` reports, compression threads
    included; the other phases are wall times of what ``build_window`` calls: ``parse`` the rows into samples,
    latency samples included, ``traffic maps`` the first phase of the graphs, ``graphs`` the rest) and the output:
    every stored part (own/extra decompressed), each graph's head and counts, health and metrics.
    """
    import clients.prometheus
    import topology.window_build as window_build
    from clients.prometheus import build_graph_rows
    from topology.graph.partition import ChunkInflater
    from topology.graph.snapshot_build import WindowGraphBuilder
    from topology.window_build import WindowJob, build_window

    inflate = ChunkInflater().inflate

    timer = _PhaseTimer()
    if phases:
        timer.wrap(clients.prometheus.GraphRows, "build_traffic_inputs", "parse")
        timer.wrap(clients.prometheus.GraphRows, "build_latency_samples", "parse")
        timer.wrap(WindowGraphBuilder, "__init__", "traffic maps")
        timer.wrap_generator(WindowGraphBuilder, "graphs", "graphs")
        timer.wrap(window_build, "pack_graph", "encode")
        timer.wrap(window_build, "build_snapshot_health", "health+metrics")
        timer.wrap(window_build, "build_snapshot_metrics", "health+metrics")
    timings = {"derive": 0.0, "cpu": 0.0}
    out: dict[str, bytes] = {}
    try:
        for window in WINDOWS:
            started, cpu = time.perf_counter(), time.process_time()
            rows = build_graph_rows(payload["raw"][window])
            timings["derive"] += time.perf_counter() - started
            timings["cpu"] += time.process_time() - cpu
            job = WindowJob(
                prometheus=None,
                namespaces=tuple(payload["namespaces"]),
                window=window,
                at=float(payload["timestamp"]),
                mesh=payload["mesh"],
                health_inputs=payload["health"],
                summarize=window == HEALTH_WINDOW,
            )
            result = build_window(job, rows)
            del rows
            timings["cpu"] += result.processing_cpu
            for packed in result.graphs:
                key = f"{packed.window}/{packed.graph_type}"
                head = {**packed.head, "nodes": packed.node_count, "edges": packed.edge_count}
                out[f"{key}/head"] = json.dumps(head, sort_keys=True).encode()
                for namespace, own, extra in packed.parts:
                    out[f"{key}/{namespace}/own"] = inflate(own)
                    out[f"{key}/{namespace}/extra"] = inflate(extra) if extra else b""
            if result.health is not None:
                out["health"] = json.dumps(result.health, sort_keys=True).encode()
            if result.metrics is not None:
                out["metrics"] = json.dumps(result.metrics, sort_keys=True).encode()
    finally:
        timer.restore()
    timings.update(timer.timings)
    return timings, out


def run(path: Path, repeat: int, profile: bool, digest: bool) -> None:
    """Time ``process`` ``repeat`` times (medians per phase), optionally under cProfile, optionally print digests."""
    payload = pickle.loads(path.read_bytes())
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        process(payload, phases=False)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return
    runs = []
    out: dict[str, bytes] = {}
    for _ in range(repeat):
        started = time.perf_counter()
        timings, out = process(payload)
        timings["total"] = time.perf_counter() - started
        timings["cpu/window"] = timings["cpu"] / len(WINDOWS)
        runs.append(timings)
    for phase in runs[0]:
        values = [r[phase] * 1000 for r in runs]
        print(f"{phase:>15}: median {statistics.median(values):7.0f} ms  ({', '.join(f'{v:.0f}' for v in values)})")
    if digest:
        groups: dict[str, list[str]] = {}
        for key in sorted(out):
            groups.setdefault("/".join(key.split("/")[:2]), []).append(key)
        total = hashlib.sha256()
        for group, keys in groups.items():
            digest_of = hashlib.sha256()
            for key in keys:
                for part in (key.encode(), b"\0", out[key], b"\0"):
                    digest_of.update(part)
                    total.update(part)
            size = sum(len(out[key]) for key in keys)
            print(f"{digest_of.hexdigest()}  {group} ({len(keys)} parts, {size:,} bytes)")
        print(f"{total.hexdigest()}  all")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mode", choices=("capture", "run"))
    parser.add_argument("pickle", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--digest", action="store_true")
    args = parser.parse_args()
    if args.mode == "capture":
        capture(args.pickle)
    else:
        run(args.pickle, args.repeat, args.profile, args.digest)


if __name__ == "__main__":
    main()
