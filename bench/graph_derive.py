"""Time the graph answers derived from a stored graph (``topology.graph.derive``) on the synthetic mesh.

Builds the synthetic mesh's graphs in memory (1,000 workloads, 5,000 edges: ``bench/profile_build.py generate``'s
rows, no Prometheus), then times, per graph type, what a request for a derived answer costs before it is cached:
``injectServiceNodes=false`` of snapshots stored before the graphs without service nodes were
(``collapse_service_nodes``), node graphs of workloads (``focus_graph`` with the graph without service nodes beside) and
services, ``rateHttp=none``, and serializing the answer. Prints medians in milliseconds.

    .venv/bin/python bench/graph_derive.py [--repeat 5] [--nodes 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _median_ms(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _focus_ms(graph: dict[str, Any], refs: list[Any], pairs: dict[str, Any] | None) -> float:
    """The median time of the node graphs of ``refs`` (0 without any)."""
    from topology.graph.derive import focus_graph

    times = []
    for ref in refs:
        started = time.perf_counter()
        focus_graph(graph, ref, pairs)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times) if times else 0.0


def time_graph(graph: dict[str, Any], pairs: dict[str, Any] | None, repeat: int, count: int) -> tuple[int | float, ...]:
    """Nodes, edges, and the medians (ms) of encoding, collapsing, node graphs and ``rateHttp=none`` of one graph
    (``pairs``: the same graph without service nodes, as a snapshot stores it beside)."""
    from topology.graph.derive import NodeRef, collapse_service_nodes
    from topology.graph.rate_options import apply_rate_options
    from topology.graph.wire import encode_graph_json

    nodes = [n["data"] for n in graph["elements"]["nodes"] if not n["data"].get("isBox")]
    workloads = [
        NodeRef("workload", d["namespace"], d["workload"])
        for d in nodes
        if d.get("workload") and d["nodeType"] in {"workload", "app"}
    ][:count]
    services = [NodeRef("service", d["namespace"], d["service"]) for d in nodes if d["nodeType"] == "service"][:count]
    return (
        len(nodes),
        len(graph["elements"]["edges"]),
        _median_ms(lambda: encode_graph_json(graph), repeat),
        _median_ms(lambda: collapse_service_nodes(graph), repeat),
        _focus_ms(graph, workloads, pairs),
        _focus_ms(graph, services, None),
        _median_ms(lambda: apply_rate_options(graph, rate_http="none"), repeat),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=20, help="node graphs timed per graph type")
    args = parser.parse_args()

    from machine_speed import describe_machine_speed
    from profile_build import build_synthetic_payload

    from clients.prometheus import build_graph_rows
    from topology.graph.snapshot_build import StoredGraphKey, WindowGraphBuilder
    from topology.telemetry.rows import (
        build_counted_direction_samples,
        build_counted_latency_samples,
        build_traffic_inputs,
    )

    print(describe_machine_speed())
    payload = build_synthetic_payload()
    rows = build_graph_rows(payload["raw"][300])
    builder = WindowGraphBuilder(
        build_traffic_inputs(rows, payload["mesh"], payload["health"]),
        frozenset(payload["namespaces"]),
        int(payload["timestamp"]),
        300,
    )
    graphs = dict(builder.graphs(build_counted_latency_samples(rows), build_counted_direction_samples(rows)))
    header = ("graph", "nodes", "edges", "encode", "collapse", "wl node", "svc node", "rate none")
    print(f"{header[0]:14} " + " ".join(f"{h:>9}" for h in header[1:]))
    for (graph_type, inject_service_nodes), graph in graphs.items():
        if not inject_service_nodes:
            continue
        figures = time_graph(graph, graphs.get(StoredGraphKey(graph_type, False)), args.repeat, args.nodes)
        print(f"{graph_type:14} " + " ".join(f"{f:9.1f}" if isinstance(f, float) else f"{f:9d}" for f in figures))
    print("milliseconds, medians; node graphs: the median over the first --nodes workloads / services")


if __name__ == "__main__":
    main()
