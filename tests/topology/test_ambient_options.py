"""``apply_ambient_traffic`` on literal stored graphs: an edge whose traffic only partly changes."""

from __future__ import annotations

from typing import Any

import pytest

from topology.graph.ambient_options import apply_ambient_traffic

HOST = "cart.shop.svc.cluster.local"


def stored_graph() -> dict[str, Any]:
    """web -> cart http 4/s: 3/s 200 reported by cart's sidecar, 1/s 503 UF reported by a waypoint only (25 %)."""
    edge = {
        "id": "e1",
        "source": "web",
        "target": "cart",
        "traffic": {
            "protocol": "http",
            "rates": {"http": "4.00", "http5xx": "1.00", "httpPercentErr": "25.0", "httpPercentReq": "100.0"},
            "responses": {
                "200": {"flags": {"-": "75.0"}, "hosts": {HOST: "75.0"}},
                "503": {"flags": {"UF": "25.0"}, "hosts": {HOST: "25.0"}},
            },
        },
        "ambientParts": {
            "waypoint,total": {
                "rates": {"http": "1.00", "http5xx": "1.00"},
                "responses": {"503": {"flags": {"UF": "1.00"}, "hosts": {HOST: "1.00"}}},
            }
        },
    }
    nodes = [
        {"data": {"id": "web", "traffic": [{"protocol": "http", "rates": {"httpOut": "4.00"}}]}},
        {"data": {"id": "cart", "traffic": [{"protocol": "http", "rates": {"httpIn": "4.00", "httpIn5xx": "1.00"}}]}},
    ]
    return {"timestamp": 1, "duration": 300, "elements": {"nodes": nodes, "edges": [{"data": edge}]}}


@pytest.mark.parametrize("option", ["none", "ztunnel"])
def test_without_waypoint_reports_the_edge_keeps_only_the_sidecars_traffic(option: str):
    [edge] = apply_ambient_traffic(stored_graph(), option)["elements"]["edges"]
    traffic = edge["data"]["traffic"]
    # 4 - 1 = 3/s, none of it an error: no 5xx, no error percentage; 200 is now all of it.
    assert traffic["rates"] == {"http": "3.00", "httpPercentReq": "100.0"}
    assert traffic["responses"] == {"200": {"flags": {"-": "100.0"}, "hosts": {HOST: "100.0"}}}
    assert "ambientParts" not in edge["data"]


def test_node_rates_follow_the_edges():
    nodes = {n["data"]["id"]: n["data"] for n in apply_ambient_traffic(stored_graph(), "none")["elements"]["nodes"]}
    assert nodes["cart"]["traffic"] == [{"protocol": "http", "rates": {"httpIn": "3.00"}}]
    assert nodes["web"]["traffic"] == [{"protocol": "http", "rates": {"httpOut": "3.00"}}]


@pytest.mark.parametrize("option", ["waypoint", "total"])
def test_with_waypoint_reports_nothing_changes(option: str):
    assert apply_ambient_traffic(stored_graph(), option) == stored_graph()


def test_an_unknown_value_is_refused():
    with pytest.raises(ValueError, match="ambientTraffic"):
        apply_ambient_traffic(stored_graph(), "sidecar")
