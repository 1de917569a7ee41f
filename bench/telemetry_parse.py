"""Benchmark: reading telemetry through the libraries mesh-ui uses, against the floor of the same bytes and orjson.

1. Prometheus answers. A real Prometheus is backfilled with ``bench/synthetic_mesh.py``'s synthetic mesh
   (1,000 workloads, 5,000 edges by default) and every part of the 5-minute window's graph queries is fetched
   both ways, in alternating rounds: through :meth:`clients.prometheus.PrometheusClient.fetch_instant`
   (``prometheus-api-client``'s ``custom_query``: requests, then ``response.json()``), and the floor, the same GET
   on a plain ``requests`` session with the body parsed by ``orjson``; once from Prometheus, once replayed by a
   local server (the recorded answers: the client's own cost, without Prometheus' varying compute time). Then the
   decoding alone of the largest answer: ``json.loads`` (what ``response.json()`` runs) against ``orjson.loads``.
2. The exposition. :func:`clients.metrics_scrape.parse_exposition` (``prometheus_client``'s text parser) on the
   simulator's Bookinfo exposition (what the demo's direct source scrapes) and on one scrape of a synthetic mesh
   (``--exposition-workloads``, 5 edges per workload) written in the same text format.

Medians of ``--rounds`` (at least 5). Everything lives in a temporary directory that is removed at the end.

    .venv/bin/python bench/telemetry_parse.py [--workloads 1000 --edges 5000 --rounds 7]
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from machine_speed import describe_machine_speed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import graph_snapshot as snapshot_bench  # noqa: E402  (the path must be set first)
import synthetic_mesh  # noqa: E402

from devtools.http_stub import Answer, serving  # noqa: E402
from devtools.prometheus_server import (  # noqa: E402
    backfill_openmetrics,
    render_openmetrics,
    running_prometheus,
)

WINDOW = "300s"


def median_seconds(function: Callable[[], object], rounds: int) -> float:
    """Median wall seconds of ``rounds`` calls of ``function``."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def render_exposition(series: list[Any]) -> str:
    """One scrape of ``series`` (their last point) in the text format 0.0.4, as a sidecar's ``/metrics`` writes it."""
    families: dict[str, tuple[str, list[str]]] = {}
    for item in series:
        name: str = item.name
        histogram = name.startswith("istio_request_duration_milliseconds_")
        family = name.rsplit("_", 1)[0] if histogram else name
        labels = ",".join(f'{k}="{v}"' for k, v in item.labels.items() if v)
        value = item.points[-1][1]
        families.setdefault(family, ("histogram" if histogram else "counter", []))[1].append(
            f"{name}{{{labels}}} {value!r}\n"
        )
    return "".join(f"# TYPE {family} {kind}\n" + "".join(lines) for family, (kind, lines) in families.items())


@contextmanager
def replay_server(answers: dict[str, bytes]) -> Iterator[str]:
    """A local HTTP server answering ``/api/v1/query`` with the recorded body of each query (client cost only)."""

    def respond(path: str, headers: Mapping[str, str]) -> Answer:
        return 200, "application/json", answers[parse_qs(urlsplit(path).query)["query"][0]]

    with serving(respond) as url:
        yield url


def time_both_ways(url: str, parts: dict[str, tuple[str, ...]], at: float, rounds: int) -> dict[str, dict[str, float]]:
    """Median seconds per query (all its parts) through the library and through the orjson floor, alternating."""
    import orjson
    import requests

    from clients.prometheus import PrometheusClient, PrometheusSettings

    client = PrometheusClient(PrometheusSettings(url, timeout=60))
    session = requests.Session()
    headers = {"Accept-Encoding": "identity"}

    def floor(query: str) -> list[Any]:
        response = session.get(
            f"{url}/api/v1/query", params={"query": query, "time": f"{at:.3f}"}, headers=headers, timeout=60
        )
        response.raise_for_status()
        result: list[Any] = orjson.loads(response.content)["data"]["result"]
        return result

    def library(query: str) -> list[Any]:
        return client.fetch_instant(query, at)

    ways: dict[str, Callable[[str], list[Any]]] = {"library": library, "floor": floor}
    timings: dict[str, dict[str, list[float]]] = {name: {way: [] for way in ways} for name in parts}
    for queries in parts.values():  # warm-up
        for fetch in ways.values():
            for query in queries:
                fetch(query)
    for _ in range(rounds):
        for name, queries in parts.items():
            for way, fetch in ways.items():
                started = time.perf_counter()
                for query in queries:
                    fetch(query)
                timings[name][way].append(time.perf_counter() - started)
    client.close()
    session.close()
    return {name: {way: statistics.median(got) for way, got in by_way.items()} for name, by_way in timings.items()}


def bench_prometheus(args: argparse.Namespace, workdir: Path) -> None:
    import orjson
    import requests

    from topology.graph import build_graph_queries
    from topology.telemetry.rows import build_graph_query_parts

    points = 6 * 60 // synthetic_mesh.STEP_SECONDS + 1
    at = float(synthetic_mesh.T0 + synthetic_mesh.STEP_SECONDS * (points - 1))
    mesh = synthetic_mesh.build_mesh(args.workloads, args.edges, args.seed)
    series = synthetic_mesh.build_series(mesh, points)
    backfill_openmetrics(render_openmetrics(synthetic_mesh.SYNTHETIC_FAMILIES, series), workdir / "tsdb")
    parts = build_graph_query_parts(build_graph_queries(sorted(mesh.namespaces), WINDOW))
    with running_prometheus([], tsdb_dir=workdir / "tsdb") as prometheus:
        with requests.Session() as session:
            answers = {
                query: session.get(
                    f"{prometheus.url}/api/v1/query", params={"query": query, "time": f"{at:.3f}"}, timeout=60
                ).content
                for queries in parts.values()
                for query in queries
            }
        live = time_both_ways(prometheus.url, parts, at, args.rounds)
    with replay_server(answers) as url:
        replayed = time_both_ways(url, parts, at, args.rounds)
    table = []
    for name, queries in parts.items():
        rows = sum(len(orjson.loads(answers[query])["data"]["result"]) for query in queries)
        size = sum(len(answers[query]) for query in queries)
        cells = [name, f"{rows:,}", snapshot_bench.mib(size)]
        for timings in (live, replayed):
            library, floor = timings[name]["library"], timings[name]["floor"]
            cells += [f"{library * 1e3:.0f}", f"{floor * 1e3:.0f}", f"{(library - floor) * 1e3:+.0f}"]
        table.append(tuple(cells))
    snapshot_bench.print_table(
        f"Graph queries of a {WINDOW} window, all parts of each, median of {args.rounds} alternating rounds (ms):"
        " from the real Prometheus, and replayed by a local server (the client's own cost)",
        ("query", "rows", "answer", "library", "orjson floor", "diff", "replay: library", "orjson floor", "diff"),
        table,
    )
    body = max(answers.values(), key=len)
    decode_rounds = max(args.rounds, 15)
    stdlib = median_seconds(lambda: json.loads(body), decode_rounds)
    fast = median_seconds(lambda: orjson.loads(body), decode_rounds)
    print(
        f"\nDecoding the largest answer ({snapshot_bench.mib(len(body))}, median of {decode_rounds}): "
        f"json.loads {stdlib * 1e3:.1f} ms, orjson.loads {fast * 1e3:.1f} ms ({stdlib / fast:.1f}x)"
    )


def bench_exposition(args: argparse.Namespace) -> None:
    from clients.metrics_scrape import parse_exposition
    from simulator import Simulator
    from simulator.traffic import TrafficEngine

    simulator = Simulator()  # the demo's Bookinfo, reconciled; not served
    engine = TrafficEngine(simulator.read_objects, simulator.namespace, seed=7, rps=20.0)
    engine.step(120)
    texts = {"simulator Bookinfo": engine.render_metrics()}
    workloads = args.exposition_workloads
    mesh = synthetic_mesh.build_mesh(workloads, 5 * workloads, args.seed)
    texts[f"synthetic mesh ({workloads:,} workloads)"] = render_exposition(synthetic_mesh.build_series(mesh, 2))
    table = []
    for name, text in texts.items():
        kept = sum(len(series) for series in parse_exposition(text).series.values())
        seconds = median_seconds(functools.partial(parse_exposition, text), args.rounds)
        table.append(
            (name, f"{text.count(chr(10)):,}", snapshot_bench.mib(len(text)), f"{kept:,}", f"{seconds * 1e3:.0f}")
        )
    snapshot_bench.print_table(
        f"parse_exposition (prometheus_client's parser), median of {args.rounds}",
        ("exposition", "lines", "size", "graph series kept", "ms"),
        table,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--exposition-workloads", type=int, default=200, help="synthetic mesh scraped for the exposition parse"
    )
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds: at least 5")
    print(describe_machine_speed())
    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-telemetry-"))
    try:
        bench_exposition(args)
        bench_prometheus(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
