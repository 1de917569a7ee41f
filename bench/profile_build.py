"""Profile mesh-ui's own snapshot processing on the synthetic mesh of ``bench/synthetic_mesh.py``, without I/O.

``capture`` runs the bench's setup once (synthetic mesh, promtool backfill, a real Prometheus, the inventory in
SQLite) and pickles, per window, the raw answers of the graph queries, plus the mesh context and health inputs
the snapshot reads from the inventory. ``run`` loads that pickle and times (or profiles with cProfile) what
a snapshot does with each window's rows: :func:`clients.prometheus.build_graph_rows`, then
:func:`topology.window_build.build_window` (parsing, the 4 graphs, splitting and compressing their parts, health
and metrics for the health window). ``--digest`` prints a SHA-256 per graph over its head, counts and every stored
part (decompressed), and of health and metrics, to check that a change keeps the output byte-identical.

``generate`` writes the same pickle without Prometheus, from rows computed in memory
(:func:`build_synthetic_payload`): the same rows Prometheus answers, up to the rounding in the last digits of its
rates.

    .venv/bin/python bench/profile_build.py capture /tmp/rows.pickle
    .venv/bin/python bench/profile_build.py generate /tmp/rows.pickle
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
import secrets
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
    from synthetic_mesh import STEP_SECONDS, SYNTHETIC_FAMILIES, T0, build_mesh, build_series, store_inventory

    from devtools.prometheus_server import backfill_openmetrics, render_openmetrics, running_prometheus

    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-profile-"))
    try:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        os.environ["MESH_UI_VAR_DIR"] = str(workdir / "var")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
        # mesh-ui refuses to start without SECRET_KEY; the bench signs nothing that outlives it.
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        points = 11 * 60 // STEP_SECONDS + 1
        at = float(T0 + STEP_SECONDS * (points - 1))
        mesh = build_mesh(1000, 5000, 42)
        backfill_openmetrics(render_openmetrics(SYNTHETIC_FAMILIES, build_series(mesh, points)), workdir / "tsdb")

        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from clients.prometheus import PrometheusClient, PrometheusSettings
        from inventory.models import Cluster
        from topology.graph import build_graph_queries
        from topology.mesh_inputs import load_graph_inputs
        from topology.snapshots import mesh_namespaces
        from topology.telemetry.rows import build_graph_query_parts

        call_command("migrate", verbosity=0)
        cluster = Cluster.objects.get(pk=store_inventory(mesh))
        namespaces = mesh_namespaces(cluster)
        raw: dict[int, dict[str, list[Any]]] = {}
        with running_prometheus([], tsdb_dir=workdir / "tsdb") as prometheus:
            client = PrometheusClient(PrometheusSettings(url=prometheus.url, timeout=60))
            for window in WINDOWS:
                query_parts = build_graph_query_parts(build_graph_queries(namespaces, f"{window}s"))
                raw[window] = {
                    name: [row for part in parts for row in client.fetch_instant(part, at)]
                    for name, parts in query_parts.items()
                }
            client.close()
        mesh_context, health_inputs = load_graph_inputs(cluster, settings.MESH_UI_HEALTH_CONFIG)
        payload = {
            "namespaces": namespaces,
            "raw": raw,
            "mesh": mesh_context,
            "health": health_inputs,
            "timestamp": int(at),
        }
        path.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build_synthetic_payload(workloads: int = 1000, edges: int = 5000, seed: int = 42) -> dict[str, Any]:
    """What ``capture`` pickles, computed in memory from the synthetic mesh instead of asked from Prometheus.

    The series of :func:`synthetic_mesh.build_series` grow at constant rates, so each graph query's answer is known:
    one row per series of the counted reporter (the destination proxy: every destination is a known workload),
    with the labels the query groups by, valued at the series' rate (requests/s, bytes/s, histogram buckets and
    sum), sorted by labels as Prometheus returns them. The mesh context and health inputs are those the snapshot
    reads from the bench's inventory (:func:`synthetic_mesh.store_inventory`). Prometheus' rates carry rounding
    errors in their last digits (``60.00000000000001``), these rows the exact values: the same graphs otherwise.
    """
    import orjson
    from synthetic_mesh import BUCKETS, STEP_SECONDS, T0, build_mesh, direction_rates, edge_labels, request_labels

    from topology.graph.health_step import GraphHealthInputs
    from topology.graph.queries import DIRECTION_LABELS, LATENCY_LABELS, REQUEST_LABELS, TCP_LABELS
    from topology.graph.samples import MeshContext, ServiceInfo, WorkloadInfo
    from topology.health import DEFAULT_HEALTH_CONFIG, WorkloadReplicas

    mesh = build_mesh(workloads, edges, seed)
    at = T0 + STEP_SECONDS * (11 * 60 // STEP_SECONDS)
    answers: dict[str, list[tuple[dict[str, str], float]]] = {
        "requests": [],
        "tcp_sent": [],
        "tcp_received": [],
        "latency_buckets": [],
        "latency_sum": [],
        "grpc_sent": [],
        "grpc_received": [],
        "http_request_bytes": [],
        "http_response_bytes": [],
    }

    def add(query: str, labels: dict[str, str], by: tuple[str, ...], value: float) -> None:
        answers[query].append(({name: labels[name] for name in by if labels.get(name)}, value))

    for edge in mesh.edges:
        base = edge_labels(edge, "destination")
        if edge.protocol == "tcp":
            tcp = {**base, "response_flags": "-"}
            add("tcp_sent", tcp, TCP_LABELS, edge.rate * 0.3)
            add("tcp_received", tcp, TCP_LABELS, edge.rate * 0.7)
            continue
        for labels, share in request_labels(edge, base):
            add("requests", labels, REQUEST_LABELS, edge.rate * share / 100)
        histogram = {**base, "request_protocol": edge.protocol}
        for bucket in BUCKETS:
            inside = bucket == "+Inf" or edge.latency_ms <= float(bucket)
            add("latency_buckets", histogram | {"le": bucket}, (*LATENCY_LABELS, "le"), edge.rate * inside)
        add("latency_sum", histogram, LATENCY_LABELS, edge.rate * edge.latency_ms)
        request, response = direction_rates(edge)
        grpc = edge.protocol == "grpc"
        names = ("grpc_sent", "grpc_received") if grpc else ("http_request_bytes", "http_response_bytes")
        add(names[0], histogram, DIRECTION_LABELS, edge.rate * request[1])
        add(names[1], histogram, DIRECTION_LABELS, edge.rate * response[1])
    for answer in answers.values():
        answer.sort(key=lambda row: sorted(row[0].items()))

    def window_rows() -> dict[str, list[dict[str, Any]]]:
        """One window's answers as the client's JSON parser gives them (orjson: shared keys, values of their own)."""
        rows = {
            query: [{"metric": dict(sorted(m.items())), "value": [at, repr(float(v))]} for m, v in answer]
            for query, answer in answers.items()
        }
        return {query: orjson.loads(orjson.dumps(answer)) for query, answer in rows.items()}

    workload_infos = [
        WorkloadInfo(
            w.namespace,
            w.name,
            w.app,
            w.version,
            services=(w.app,),
            pods=2,
            labels={"app": w.app, "version": w.version},
        )
        for w in sorted(mesh.workloads, key=lambda w: (w.namespace, w.name))
    ]
    services = sorted({(w.namespace, w.app) for w in mesh.workloads})
    replicas = {(w.namespace, w.name): WorkloadReplicas(w.name, 2, 2, 2, True) for w in workload_infos}
    return {
        "namespaces": sorted(mesh.namespaces),
        # Every window's rates are the same: the series grow at constant rates.
        "raw": {window: window_rows() for window in WINDOWS},
        "mesh": MeshContext(workloads=workload_infos, services=[ServiceInfo(ns, name) for ns, name in services]),
        "health": GraphHealthInputs(config=DEFAULT_HEALTH_CONFIG, replicas=replicas),
        "timestamp": at,
    }


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
    import topology.window_build as window_build
    from clients.prometheus import build_graph_rows
    from topology.graph.partition import ChunkInflater
    from topology.graph.snapshot_build import WindowGraphBuilder
    from topology.window_build import WindowJob, build_window

    inflate = ChunkInflater().inflate

    timer = _PhaseTimer()
    if phases:
        timer.wrap(window_build, "build_traffic_inputs", "parse")
        timer.wrap(window_build, "build_counted_latency_samples", "parse")
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
                key = f"{packed.window}/{packed.graph_type}" + ("" if packed.inject_service_nodes else "/flat")
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
    from machine_speed import describe_machine_speed

    print(describe_machine_speed())
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
    parser.add_argument("mode", choices=("capture", "generate", "run"))
    parser.add_argument("pickle", type=Path)
    parser.add_argument("--repeat", type=int, default=5, help="runs; each phase is reported as their median")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--digest", action="store_true")
    args = parser.parse_args()
    if args.mode == "capture":
        capture(args.pickle)
    elif args.mode == "generate":
        args.pickle.write_bytes(pickle.dumps(build_synthetic_payload(), protocol=pickle.HIGHEST_PROTOCOL))
        print(f"wrote {args.pickle} ({args.pickle.stat().st_size / 2**20:.1f} MiB)")
    else:
        run(args.pickle, args.repeat, args.profile, args.digest)


if __name__ == "__main__":
    main()
