"""Benchmark: ``topology.whatif.compute_whatif`` on a synthetic versioned-app graph.

``--services`` services in 5 layers behind one ingress gateway, 3 versions each (one pod each, a DestinationRule
with a subset per version); every version calls two services of the next layer, so the graph has about
services x 10 edges and is 5 deep (the passes of the computation). The proposal sends every tenth service's traffic
to v1 (a VirtualService each), which reroutes them and scales everything downstream. Prints the machine-speed
reference of the run (``bench/machine_speed.py``), the graph's size, and the median and spread of the wall time over
``--runs`` runs.

    .venv/bin/python bench/whatif.py [--services 1000 --runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine_speed import describe_machine_speed  # noqa: E402

from topology.whatif import compute_whatif  # noqa: E402
from topology.whatif_model import (  # noqa: E402
    MeshInventory,
    ProposedChange,
    RoutingObject,
    ServiceBackend,
    WorkloadBackend,
)

NS = "mesh"
LAYERS = 5
VERSIONS = ("v1", "v2", "v3")


def build(
    services: int, seed: int = 1
) -> tuple[dict[str, Any], MeshInventory, list[RoutingObject], list[ProposedChange]]:
    rng = random.Random(seed)
    names = [f"svc{i}" for i in range(services)]
    layers = [names[k::LAYERS] for k in range(LAYERS)]
    nodes = [{"data": {"id": "gw", "nodeType": "app", "namespace": "istio-system", "workload": "gw", "app": "gw"}}]
    edges: list[dict[str, Any]] = []
    inbound = {name: 0.0 for name in names}

    def call(source: str, service: str, rate: float) -> None:
        edges.append(
            {
                "data": {
                    "id": f"{source}>{service}",
                    "source": source,
                    "target": f"s-{service}",
                    "traffic": {"protocol": "http", "rates": {"http": f"{rate:.4f}"}},
                }
            }
        )
        inbound[service] += rate

    for service in layers[0]:
        call("gw", service, 30.0)
    for depth, layer in enumerate(layers):
        for service in layer:
            nodes.append({"data": {"id": f"s-{service}", "nodeType": "service", "namespace": NS, "service": service}})
            share = inbound[service] / len(VERSIONS)
            for version in VERSIONS:
                workload = f"{service}-{version}"
                nodes.append(
                    {
                        "data": {
                            "id": workload,
                            "nodeType": "app",
                            "namespace": NS,
                            "workload": workload,
                            "app": service,
                            "version": version,
                        }
                    }
                )
                edges.append(
                    {
                        "data": {
                            "id": f"s-{service}>{workload}",
                            "source": f"s-{service}",
                            "target": workload,
                            "traffic": {"protocol": "http", "rates": {"http": f"{share:.4f}"}},
                        }
                    }
                )
                if depth + 1 < LAYERS:
                    for callee in rng.sample(layers[depth + 1], min(2, len(layers[depth + 1]))):
                        call(workload, callee, share)
    inventory = MeshInventory(
        services=tuple(ServiceBackend(NS, s, {"app": s}) for s in names),
        workloads=tuple(WorkloadBackend(NS, f"{s}-{v}", {"app": s, "version": v}) for s in names for v in VERSIONS),
    )
    rules = [
        RoutingObject(
            "DestinationRule", NS, s, {"host": s, "subsets": [{"name": v, "labels": {"version": v}} for v in VERSIONS]}
        )
        for s in names
    ]
    changes = [
        ProposedChange(
            "apply",
            RoutingObject(
                "VirtualService",
                NS,
                s,
                {"hosts": [s], "http": [{"route": [{"destination": {"host": s, "subset": "v1"}}]}]},
            ),
        )
        for s in names[::10]
    ]
    graph = {"graphType": "versionedApp", "elements": {"nodes": nodes, "edges": edges}}
    return graph, inventory, rules, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine_speed())
    graph, inventory, rules, changes = build(args.services)
    elements = graph["elements"]
    print(
        f"graph: {len(elements['nodes'])} nodes, {len(elements['edges'])} edges; "
        f"{len(changes)} VirtualServices proposed"
    )
    times = []
    result = None
    for _ in range(args.runs):
        started = time.perf_counter()
        result = compute_whatif(graph, inventory, rules, changes)
        times.append(time.perf_counter() - started)
    assert result is not None
    print(
        f"changed edges: {len(result.changed_edges)} of {len(result.edges)}; "
        f"affected services: {len(result.affected_services)}"
    )
    print(
        f"compute_whatif: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}) over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
