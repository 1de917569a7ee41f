"""Profile mesh-ui's own snapshot processing on the synthetic mesh of ``bench/graph_snapshot.py``, without I/O.

``capture`` runs the bench's setup once (synthetic mesh, promtool backfill, a real Prometheus, the inventory in
SQLite) and pickles, per window, the raw answers of the graph queries, plus the mesh context and health inputs
the snapshot reads from the inventory. ``run`` loads that pickle and times (or profiles with cProfile) what
``take_snapshot`` does with the rows: deriving the latency rows, parsing, building the 12 graphs and encoding
them, health and metrics. ``--digest`` prints a SHA-256 of every encoded graph and of health + metrics, to check
that a change keeps the output byte-identical.

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
        from topology.mesh_inputs import build_health_inputs, build_mesh_context
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
            "mesh": build_mesh_context(cluster),
            "health": build_health_inputs(cluster, settings.MESH_UI_HEALTH_CONFIG),
            "timestamp": int(at),
        }
        path.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def process(payload: dict[str, Any]) -> tuple[dict[str, float], dict[str, bytes]]:
    """What ``take_snapshot`` does with the rows, timed per phase; returns the timings and the encoded output."""
    from clients.prometheus import build_graph_rows
    from topology.entity_metrics import build_snapshot_metrics
    from topology.graph.pipeline import pause_cyclic_gc
    from topology.graph.snapshot_build import build_window_graphs
    from topology.graph.wire import WireIds, encode_graph_json
    from topology.health_summary import build_snapshot_health

    timings = {"derive": 0.0, "parse": 0.0, "graphs": 0.0, "encode": 0.0, "health+metrics": 0.0}
    out: dict[str, bytes] = {}
    with pause_cyclic_gc():
        health_graphs: dict[str, dict[str, Any]] = {}
        ids = WireIds()
        for window in WINDOWS:
            started = time.perf_counter()
            rows = build_graph_rows(payload["raw"][window])
            timings["derive"] += time.perf_counter() - started
            started = time.perf_counter()
            inputs = rows.build_inputs(payload["mesh"], payload["health"])
            timings["parse"] += time.perf_counter() - started
            started = time.perf_counter()
            graphs = dict(
                build_window_graphs(inputs, frozenset(payload["namespaces"]), payload["timestamp"], window, ids)
            )
            timings["graphs"] += time.perf_counter() - started
            started = time.perf_counter()
            for graph_type, graph in graphs.items():
                out[f"{window}/{graph_type}"] = encode_graph_json(graph)
            timings["encode"] += time.perf_counter() - started
            if window == HEALTH_WINDOW:
                health_graphs = graphs
            del graphs, inputs, rows
        started = time.perf_counter()
        health = build_snapshot_health(health_graphs)
        metrics = build_snapshot_metrics(health_graphs)
        timings["health+metrics"] += time.perf_counter() - started
        out["health"] = json.dumps(health, sort_keys=True).encode()
        out["metrics"] = json.dumps(metrics, sort_keys=True).encode()
        del health_graphs
    return timings, out


def run(path: Path, repeat: int, profile: bool, digest: bool) -> None:
    """Time ``process`` ``repeat`` times (medians per phase), optionally under cProfile, optionally print digests."""
    payload = pickle.loads(path.read_bytes())
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        process(payload)
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
        runs.append(timings)
    for phase in runs[0]:
        values = [r[phase] * 1000 for r in runs]
        print(f"{phase:>15}: median {statistics.median(values):7.0f} ms  ({', '.join(f'{v:.0f}' for v in values)})")
    if digest:
        for key, body in sorted(out.items()):
            print(f"{hashlib.sha256(body).hexdigest()}  {key} ({len(body):,} bytes)")


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
