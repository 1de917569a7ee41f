"""A real ztunnel scrape (Istio 1.24 ambient, ``tests/data/ztunnel``): its L4 traffic is drawn once.

ztunnel reports each connection twice, as the source and as the destination, with the same labels (here also the
same byte counts).  Read from zero (every series born in the interval, as the direct source counts a series absent
from the older scrape), each rate is the counter over the 100 s interval; the graph counts the destination's report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.metrics_scrape import CounterSet, parse_exposition
from topology.graph import GraphOptions, build_traffic_graph
from topology.telemetry.direct import build_rows_between
from topology.telemetry.rows import build_graph_inputs

SCRAPE = Path(__file__).resolve().parent.parent / "data" / "ztunnel" / "ztunnel-1.24.txt"
NS = "default"
C = "Kubernetes"


def test_ztunnel_reports_each_connection_twice_and_the_graph_counts_it_once():
    newer = parse_exposition(SCRAPE.read_text(), scraped_at=100.0)
    both = build_rows_between(CounterSet(), newer, 100, [NS], counted_only=False)
    counted = build_rows_between(CounterSet(), newer, 100, [NS])
    # 7 connections (traffic-gen -> productpage, productpage -> details and reviews v1/v2/v3, reviews v2/v3 ->
    # ratings), each reported by both ztunnel sides.
    assert (len(both.tcp_sent), len(counted.tcp_sent)) == (14, 7)
    assert {row["metric"]["reporter"] for row in counted.tcp_sent} == {"destination"}

    options = GraphOptions(graph_type="workload", namespaces=frozenset({NS}), inject_service_nodes=False)
    tm = build_traffic_graph(build_graph_inputs(counted), options)
    edges = {(s.split("|")[-1], t.split("|")[-1]): e for (s, t, _), e in tm.edges.items()}
    assert tm.edges and all(protocol == "tcp" for (_, _, protocol) in tm.edges)
    # productpage -> details: (297498 sent + 117171 received) / 100 s, not twice that.
    assert edges[("productpage-v1", "details-v1")].rate == pytest.approx(4146.69)
    # traffic-gen -> productpage: (11144775 + 75621) / 100 s.
    assert edges[("traffic-gen", "productpage-v1")].rate == pytest.approx(112203.96)
    # reviews-v2 -> ratings: (65268 + 48510) / 100 s.
    assert edges[("reviews-v2", "ratings-v1")].rate == pytest.approx(1137.78)
    # The same rows with both reports fed to the pipeline give the same graph: it drops the second report itself.
    again = build_traffic_graph(build_graph_inputs(both), options)
    assert {key: edge.rate for key, edge in again.edges.items()} == {key: edge.rate for key, edge in tm.edges.items()}
    assert f"wl|{C}|{NS}|traffic-gen" in tm.nodes
