"""The simulator's opt-in scenarios: each produces its telemetry and the graph shows it, the Bookinfo default unchanged.

The graphs are built as ``devtools/scenario_graph.py`` builds them: 60 simulated seconds of traffic read from the
simulator's counters (each scenario flow's rate is exact: ``rate * 60`` requests, so its rate comes back as set in
:mod:`simulator.scenarios.catalog`).
"""

from __future__ import annotations

from typing import Any

import pytest

from clients.metrics_scrape import parse_exposition
from devtools.scenario_graph import scenario_graph
from simulator import Simulator
from simulator.__main__ import main
from simulator.scenarios import SCENARIO_NAMES, parse_scenario_names
from topology.graph.ambient_options import apply_ambient_traffic

K, NS = "Kubernetes", "bookinfo"
SECONDS = 60.0


def graph_of(name: str) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str, str], dict[str, str]]]:
    graph = scenario_graph((name,), seconds=SECONDS)
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    edges = {
        (e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]): e["data"]["traffic"]["rates"]
        for e in graph["elements"]["edges"]
    }
    return nodes, edges


def app(name: str, version: str = "v1", ns: str = NS, cluster: str = K) -> str:
    return f"vapp|{cluster}|{ns}|{name}|{version}"


def svc(name: str, ns: str = NS, cluster: str = K) -> str:
    return f"svc|{cluster}|{ns}|{name}"


def run(scenarios: tuple[str, ...]) -> dict[tuple[str, Any], float]:
    """Every series of the simulator's scrape after 60 s: ``(sample name, labels) -> value``."""
    sim = Simulator(traffic=True, traffic_autostart=False, scenarios=scenarios).start()
    try:
        assert sim.traffic is not None
        sim.traffic.step(SECONDS)
        scrape = parse_exposition(sim.traffic.render_metrics())
    finally:
        sim.stop()
    return {(name, labels): value for name, series in scrape.series.items() for labels, value in series.items()}


def test_scenario_names_are_opt_in_and_checked():
    assert parse_scenario_names("ambient, egress") == ("ambient", "egress")
    assert parse_scenario_names("all") == SCENARIO_NAMES and parse_scenario_names("") == ()
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        parse_scenario_names("ambient,nope")
    assert main(["serve", "--scenario", "nope"]) == 2  # refused before anything starts
    default = Simulator()
    assert default.scenarios == [] and not [n for n in default.read_objects("namespaces") if "ambient" in str(n)]


def test_scenarios_add_series_and_leave_bookinfo_series_as_they_are():
    bookinfo = run(())
    everything = run(SCENARIO_NAMES)
    assert everything.keys() > bookinfo.keys()
    assert {key: everything[key] for key in bookinfo} == bookinfo  # the same seed gives Bookinfo the same traffic


def test_no_sidecar():
    nodes, edges = graph_of("no-sidecar")
    # productpage's proxy alone reports its calls to legacy-reports (1/s), which has no sidecar.
    assert edges[(app("productpage"), svc("legacy-reports"), "http")]["http"] == "1.00"
    assert nodes[app("legacy-reports")]["hasMissingSC"] is True
    # legacy-cron, without a sidecar, calls details: only details' proxy reports it, from an unknown caller.
    assert edges[("unknown", svc("details"), "http")]["http"] == "0.50" and nodes["unknown"]["isRoot"] is True


def test_egress():
    nodes, edges = graph_of("egress")
    gateway = app("istio-egressgateway", "latest", "istio-system")
    gateway_service = svc("istio-egressgateway", "istio-system")
    external = svc("api.weather.example.com")
    assert edges[(app("reviews", "v3"), gateway_service, "http")]["http"] == "0.50"
    # ratings' calls whose telemetry names the gateway's host as the service land on the gateway too: 0.5 + 0.25.
    assert edges[(app("ratings"), gateway_service, "http")]["http"] == "0.25"
    assert edges[(gateway_service, gateway, "http")]["http"] == "0.75"
    assert edges[(gateway, external, "http")]["http"] == "0.50"
    assert nodes[gateway]["isGateway"] == {"egressInfo": {"hostnames": []}}
    assert nodes[external]["isServiceEntry"] == {
        "location": "MESH_EXTERNAL",
        "hosts": ["api.weather.example.com"],
        "namespace": NS,
    }


def test_unknown_host():
    nodes, edges = graph_of("unknown-host")
    unknown = svc("unknown", "unknown")
    assert edges[(app("productpage"), unknown, "http")]["http4xx"] == "0.50"
    assert nodes[unknown]["nodeType"] == "service" and "isServiceEntry" not in nodes[unknown]
    assert edges[(app("details"), svc("PassthroughCluster", "unknown"), "http")]["http"] == "0.30"
    # The series naming a pod IP as the service is in the scrape, and dropped from the graph (Kiali's heuristic).
    assert any(("destination_service_name", "10.244.1.17:9080") in labels for _, labels in run(("unknown-host",)))
    assert not [node for node in nodes if "10.244.1.17" in node]


def test_aborted():
    _, edges = graph_of("aborted")
    # Both proxies report the 0.5/s productpage gave up on (DC): counted once, errors without a response.
    assert edges[(app("productpage"), svc("details"), "http")]["httpNoResponse"] == "0.50"
    assert edges[(app("reviews", "v2"), svc("ratings"), "http")]["httpNoResponse"] == "0.30"


def test_ambient():
    nodes, edges = graph_of("ambient")
    amb = "ambient-shop"
    waypoint = f"wl|{K}|{amb}|waypoint"
    ingress = app("istio-ingressgateway", "latest", "istio-system")
    # The gateway's and the waypoint's reports of the same 2/s: once.
    assert edges[(ingress, svc("web", amb), "http")]["http"] == "2.00"
    to_cart = edges[(app("web", ns=amb), svc("cart", amb), "http")]
    assert (to_cart["http"], to_cart["http5xx"], to_cart["httpPercentErr"]) == ("3.30", "0.30", "9.1")
    # ztunnel's L4 through the waypoint: 4000 + 900 B/s each hop; cart -> db reported by both ztunnels, 6000 + 2000.
    assert edges[(app("web", ns=amb), waypoint, "tcp")]["tcp"] == "4900.00"
    assert edges[(waypoint, app("cart", ns=amb), "tcp")]["tcp"] == "4900.00"
    assert edges[(app("cart", ns=amb), svc("db", amb), "tcp")]["tcp"] == "8000.00"
    assert nodes[waypoint]["isWaypoint"] is True
    assert not [n for n, data in nodes.items() if amb in n and data.get("hasMissingSC")]  # ambient: no sidecar needed


def test_ambient_traffic_options_read_the_simulators_ztunnel_marker():
    # The merged scrape carries the ztunnel pod's app="ztunnel" on its TCP series (as Prometheus' relabelling stores
    # them), and no other series: the direct source groups TCP rows by it, so every ambientTraffic value is answered.
    series = run(("ambient",))
    marked = {dict(labels).get("reporter") for (name, labels) in series if ("app", "ztunnel") in labels}
    assert marked == {"source", "destination"}
    assert not [name for (name, labels) in series if ("app", "ztunnel") in labels and "tcp" not in name]
    graph = scenario_graph(("ambient",), seconds=SECONDS)
    amb = "ambient-shop"
    web, waypoint = app("web", ns=amb), f"wl|{K}|{amb}|waypoint"
    ingress = app("istio-ingressgateway", "latest", "istio-system")

    def edges_of(option: str) -> dict[tuple[str, str, str], str]:
        found = apply_ambient_traffic(graph, option)["elements"]["edges"]
        return {
            (e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]): e["data"]["traffic"]["rates"][
                e["data"]["traffic"]["protocol"]
            ]
            for e in found
            if amb in e["data"]["source"] + e["data"]["target"]
        }

    # waypoint: the L7 edges (web -> cart 3.3/s) without ztunnel's L4 ones.
    waypoint_only = edges_of("waypoint")
    assert waypoint_only[(web, svc("cart", amb), "http")] == "3.30"
    assert not [key for key in waypoint_only if key[2] == "tcp"]
    # ztunnel: the L4 edges (4000 + 900 B/s a hop), no waypoint report; the gateway's own 2/s into web counts instead.
    ztunnel = edges_of("ztunnel")
    assert (ztunnel[(web, waypoint, "tcp")], ztunnel[(ingress, svc("web", amb), "http")]) == ("4900.00", "2.00")
    assert (web, svc("cart", amb), "http") not in ztunnel
    # none: only the gateway's report.
    assert edges_of("none") == {
        (ingress, svc("web", amb), "http"): "2.00",
        (svc("web", amb), web, "http"): "2.00",
    }


def test_east_west():
    nodes, edges = graph_of("east-west")
    west = svc("ratings", cluster="west")
    # Reported by reviews-v3's sidecar in this cluster and ratings' in west: 1/s once.
    assert edges[(app("reviews", "v3"), west, "http")]["http"] == "1.00"
    assert nodes["box|cluster|west"]["isBox"] == "cluster"
    assert nodes[f"box|namespace|west|{NS}"]["parent"] == "box|cluster|west"
    # The proxy reporting destination_cluster="unknown" for details: details stays in this cluster.
    assert not [n for n in nodes if n.startswith(("vapp|unknown|", "svc|unknown|"))]
