"""Time the graph answers derived from a stored graph (``topology.graph.derive``) on the synthetic mesh.

Builds the synthetic mesh's graphs in memory (1,000 workloads, 5,000 edges: ``bench/profile_build.py generate``'s
rows, no Prometheus), then times, per graph type, what a request for a derived answer costs before it is cached:
``injectServiceNodes=false`` (``collapse_service_nodes``), node graphs of workloads and services (``focus_graph``),
``rateHttp=none``, and serializing the answer. Prints medians in milliseconds.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=20, help="node graphs timed per graph type")
    args = parser.parse_args()

    from machine_speed import describe_machine_speed
    from profile_build import build_synthetic_payload

    from clients.prometheus import build_graph_rows
    from topology.graph.derive import NodeRef, apply_rate_options, collapse_service_nodes, focus_graph
    from topology.graph.snapshot_build import WindowGraphBuilder
    from topology.graph.wire import encode_graph_json
    from topology.telemetry.rows import build_counted_latency_samples, build_traffic_inputs

    print(describe_machine_speed())
    payload = build_synthetic_payload()
    rows = build_graph_rows(payload["raw"][300])
    builder = WindowGraphBuilder(
        build_traffic_inputs(rows, payload["mesh"], payload["health"]),
        frozenset(payload["namespaces"]),
        int(payload["timestamp"]),
        300,
    )
    graphs = dict(builder.graphs(build_counted_latency_samples(rows)))
    print(
        f"{'graph':14} {'nodes':>6} {'edges':>6} {'encode':>8} {'collapse':>9} {'wl node':>8} {'svc node':>9} {'rate none':>10}"
    )
    for graph_type, graph in graphs.items():
        nodes = [n["data"] for n in graph["elements"]["nodes"] if not n["data"].get("isBox")]
        workloads = [d for d in nodes if d.get("workload") and d["nodeType"] in {"workload", "app"}][: args.nodes]
        services = [d for d in nodes if d["nodeType"] == "service"][: args.nodes]
        encode = _median_ms(lambda: encode_graph_json(graph), args.repeat)
        collapse = _median_ms(lambda: collapse_service_nodes(graph), args.repeat)
        focus_workload = (
            statistics.median(
                _median_ms(lambda d=d: focus_graph(graph, NodeRef("workload", d["namespace"], d["workload"])), 1)
                for d in workloads
            )
            if workloads
            else 0.0
        )
        focus_service = (
            statistics.median(
                _median_ms(lambda d=d: focus_graph(graph, NodeRef("service", d["namespace"], d["service"])), 1)
                for d in services
            )
            if services
            else 0.0
        )
        rates = _median_ms(lambda: apply_rate_options(graph, rate_http="none"), args.repeat)
        print(
            f"{graph_type:14} {len(nodes):6d} {len(graph['elements']['edges']):6d} {encode:8.1f} {collapse:9.1f} "
            f"{focus_workload:8.1f} {focus_service:9.1f} {rates:10.1f}"
        )
    print("milliseconds, medians; node graphs: the median over the first --nodes workloads / services")


if __name__ == "__main__":
    main()
