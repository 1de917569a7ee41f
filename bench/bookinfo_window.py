"""Benchmark: one Bookinfo-sized snapshot window (the unit tests' Bookinfo rows) built and compressed as a window is.

Prints the graphs a window stores, their compressed size, the CPU time of building and compressing them (median of 7
rounds of 50 windows) and the peak memory of one build (``tracemalloc``). Bookinfo's ``reviews`` has one caller, so
no graph without service nodes is stored; run it from another checkout to compare (``git worktree add``).

    .venv/bin/python bench/bookinfo_window.py
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine_speed import describe_machine_speed  # noqa: E402

from tests.topology.bookinfo import NS, bookinfo_latencies, bookinfo_requests  # noqa: E402
from topology.graph import GraphInputs  # noqa: E402
from topology.graph.partition import pack_chunks, pack_graph  # noqa: E402
from topology.graph.snapshot_build import WindowGraphBuilder  # noqa: E402

INPUTS = GraphInputs(requests=bookinfo_requests(), latencies=bookinfo_latencies())


def build_one_window() -> tuple[int, int]:
    """Build and compress one window's graphs: ``(graphs, compressed bytes)``."""
    builder = WindowGraphBuilder(INPUTS, frozenset({NS, "istio-system"}), 1_700_000_000, 300)
    size = count = 0
    for (graph_type, inject), graph in builder.graphs(INPUTS.latencies):
        _, chunks = pack_graph(graph_type, 300, graph, inject)
        size += sum(len(own) + len(extra) for _, own, extra in pack_chunks(chunks))
        count += 1
    return count, size


def main() -> None:
    print(describe_machine_speed())
    count, size = build_one_window()
    rounds = []
    for _ in range(7):
        started = time.process_time()
        for _ in range(50):
            build_one_window()
        rounds.append((time.process_time() - started) / 50 * 1e3)
    tracemalloc.start()
    build_one_window()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"Bookinfo window: {count} graphs, {size:,} bytes compressed; CPU {statistics.median(rounds):.2f} ms per window"
        f" (median of 7 rounds of 50; fastest {min(rounds):.2f}); peak memory of one build {peak / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
