"""The graph each simulator scenario gives, as a JSON summary (nodes, edges, rates).

``python -m devtools.scenario_graph [--scenario NAME ...] [--graph-type T] [--seconds S]``.

For each scenario (``--scenario NAME``, several, or every one by default) the simulator runs in this process with
Bookinfo plus that scenario, its traffic engine is stepped ``--seconds`` of simulated time, and the graph is built from
its counters as the direct telemetry source reads them (every series born in the interval, so each rate is the counter
over the interval) with the inventory taken from the simulator's objects.  What the scenario adds to the Bookinfo
graph is printed: the nodes and edges Bookinfo alone does not have, and the edges whose rates it changes.  The tests
(``tests/topology/test_scenarios.py``) build the same graphs with :func:`scenario_graph`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from clients.metrics_scrape import CounterSet, parse_exposition
from simulator import Simulator
from simulator.scenarios import SCENARIO_NAMES
from topology.graph import GraphInputs, GraphOptions, MeshContext, WorkloadInfo, build_graph
from topology.graph.model import ServiceEntryInfo
from topology.telemetry.direct import build_rows_between
from topology.telemetry.rows import build_graph_inputs

SIDECAR = "istio-proxy"
AMBIENT = ("istio.io/dataplane-mode", "ambient")
SECONDS = 300


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def mesh_context(sim: Simulator) -> MeshContext:
    """The inventory as mesh-ui reads it, from the simulator's objects (deployments, services, pods, ServiceEntries)."""
    ambient = {
        ns["metadata"]["name"]
        for ns in sim.read_objects("namespaces")
        if (ns["metadata"].get("labels") or {}).get(AMBIENT[0]) == AMBIENT[1]
    }
    services = sim.read_objects("services")
    pods = sim.read_objects("pods")
    workloads, missing = [], set()
    for deployment in sim.read_objects("deployments"):
        meta, template = deployment["metadata"], deployment["spec"]["template"]
        labels = template["metadata"].get("labels") or {}
        ns, name = meta["namespace"], meta["name"]
        selecting = tuple(
            s["metadata"]["name"]
            for s in services
            if s["metadata"]["namespace"] == ns and _selects(s["spec"].get("selector") or {}, labels)
        )
        own = [p for p in pods if p["metadata"]["namespace"] == ns and _selects(labels, p["metadata"].get("labels"))]
        workloads.append(
            WorkloadInfo(
                ns,
                name,
                labels.get("app", "unknown"),
                labels.get("version", "unknown"),
                services=selecting,
                pods=len(own),
                labels=labels,
            )
        )
        sidecars = all(any(c["name"] == SIDECAR for c in p["spec"]["containers"]) for p in own)
        if own and not sidecars and ns not in ambient and SIDECAR not in {c["name"] for c in _containers(deployment)}:
            missing.add((ns, name))
    entries = {}
    for entry in sim.read_objects("serviceentries"):
        info = ServiceEntryInfo("MESH_EXTERNAL", tuple(entry["spec"]["hosts"]), entry["metadata"]["namespace"])
        entries.update(dict.fromkeys(entry["spec"]["hosts"], info))
    return MeshContext(workloads=workloads, missing_sidecars=frozenset(missing), service_entries=entries)


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(deployment["spec"]["template"]["spec"].get("containers") or [])


def scenario_graph(
    scenarios: Sequence[str], graph_type: str = "versionedApp", seconds: float = SECONDS
) -> dict[str, Any]:
    """The graph (readable ids) of Bookinfo plus ``scenarios`` after ``seconds`` of simulated traffic."""
    sim = Simulator(traffic=True, traffic_autostart=False, scenarios=scenarios).start()
    try:
        assert sim.traffic is not None
        sim.traffic.step(seconds)
        newer = parse_exposition(sim.traffic.render_metrics(), scraped_at=seconds)
        namespaces = sorted({ns["metadata"]["name"] for ns in sim.read_objects("namespaces")})
        rows = build_rows_between(CounterSet(), newer, seconds, namespaces)
        inputs = build_graph_inputs(rows)
        inputs = GraphInputs(requests=inputs.requests, tcp=inputs.tcp, mesh=mesh_context(sim))
        options = GraphOptions(
            graph_type=graph_type,  # type: ignore[arg-type]
            namespaces=frozenset(namespaces),
            box_by=frozenset({"cluster", "namespace", "app"}),
            id_style="readable",
        )
        return build_graph(inputs, options, int(seconds), int(seconds))
    finally:
        sim.stop()


_FLAGS = ("isGateway", "isWaypoint", "isServiceEntry", "hasMissingSC", "isOutside", "isRoot")


def summarize(graph: dict[str, Any]) -> dict[str, Any]:
    """Nodes (id, type, flags) and edges (``source -> target``, protocol, rates) of a graph, boxes left out."""
    nodes = {
        n["data"]["id"]: sorted(flag for flag in _FLAGS if n["data"].get(flag))
        for n in graph["elements"]["nodes"]
        if not n["data"].get("isBox")
    }
    edges = {
        f"{e['data']['source']} -> {e['data']['target']} ({e['data']['traffic']['protocol']})": e["data"][
            "traffic"
        ].get("rates", {})
        for e in graph["elements"]["edges"]
    }
    boxes = sorted(n["data"]["id"] for n in graph["elements"]["nodes"] if n["data"].get("isBox") in ("cluster",))
    return {"nodes": nodes, "edges": edges, "clusterBoxes": boxes}


def scenario_summary(name: str, graph_type: str = "versionedApp", seconds: float = SECONDS) -> dict[str, Any]:
    """What scenario ``name`` adds to the Bookinfo graph: new nodes and edges, and edges whose rates change."""
    base = summarize(scenario_graph((), graph_type, seconds))
    with_scenario = summarize(scenario_graph((name,), graph_type, seconds))
    return {
        "scenario": name,
        "graphType": graph_type,
        "nodes": {k: v for k, v in with_scenario["nodes"].items() if base["nodes"].get(k) != v},
        "edges": {k: v for k, v in with_scenario["edges"].items() if base["edges"].get(k) != v},
        "goneEdges": sorted(set(base["edges"]) - set(with_scenario["edges"])),
        "clusterBoxes": with_scenario["clusterBoxes"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON summary per scenario."""
    parser = argparse.ArgumentParser(prog="python -m devtools.scenario_graph", description=__doc__)
    parser.add_argument("--scenario", action="append", choices=SCENARIO_NAMES, help="default: every scenario")
    parser.add_argument("--graph-type", default="versionedApp", choices=("app", "versionedApp", "workload", "service"))
    parser.add_argument("--seconds", type=float, default=SECONDS, help="simulated seconds of traffic")
    args = parser.parse_args(argv)
    summaries = [scenario_summary(name, args.graph_type, args.seconds) for name in args.scenario or SCENARIO_NAMES]
    json.dump(summaries, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
