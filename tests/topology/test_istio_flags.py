"""Kiali's Istio-config flags: parsed from specs (``topology.graph.istio_flags``), set by ``VirtualServiceStep``,
written on the wire. Each rule has a spec that triggers it and a near-identical one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.topology.bookinfo import CLUSTER, NS, literal_map, svc
from topology.graph.istio_flags import (
    EVERY_VERSION,
    breaks_circuit,
    circuit_breaker_versions,
    virtual_service_flags,
    virtual_service_route_hosts,
)
from topology.graph.model import GraphOptions, Node, ServiceName
from topology.graph.samples import MeshContext
from topology.graph.steps import StepContext, VirtualServiceStep
from topology.graph.wire import WireIds, build_node_data

ONE = [{"destination": {"host": "reviews", "subset": "v1"}}]
TWO = [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 100}, {"destination": {"host": "reviews"}}]


@pytest.mark.parametrize(
    ("spec", "flag", "without"),
    [
        ({"http": [{"route": ONE}]}, "hasRequestRouting", {"http": [{"match": [{"uri": {"prefix": "/"}}]}]}),
        ({"tcp": [{"route": ONE}]}, "hasRequestRouting", {"tcp": [{"route": []}]}),
        ({"http": [{"route": ONE, "timeout": "2s"}]}, "hasRequestTimeout", {"http": [{"route": ONE}]}),
        ({"http": [{"fault": {"abort": {"httpStatus": 500}}}]}, "hasFaultInjection", {"http": [{"route": ONE}]}),
        ({"http": [{"route": TWO}]}, "hasTrafficShifting", {"http": [{"route": ONE}]}),
        ({"tcp": [{"route": TWO}]}, "hasTCPTrafficShifting", {"http": [{"route": TWO}]}),
        ({"http": [{"route": ONE, "mirror": {"host": "reviews"}}]}, "hasMirroring", {"http": [{"route": ONE}]}),
    ],
)
def test_virtual_service_flags(spec: dict[str, Any], flag: str, without: dict[str, Any]) -> None:
    assert flag in virtual_service_flags(spec)
    assert flag not in virtual_service_flags(without)


def test_route_hosts_and_circuit_breakers() -> None:
    assert virtual_service_route_hosts({"hosts": ["*"], "http": [{"route": TWO}]}) == ["reviews", "reviews"]
    assert circuit_breaker_versions({"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}}}}) == {
        EVERY_VERSION
    }
    assert circuit_breaker_versions({"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}) == frozenset()
    subsets = {
        "subsets": [
            {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": {"outlierDetection": {}}},
            {"name": "v2", "labels": {"version": "v2"}},
        ]
    }
    assert circuit_breaker_versions(subsets) == {"v1"}
    ports = {"trafficPolicy": {"portLevelSettings": [{"port": {"number": 9080}, "connectionPool": {}}]}}
    assert circuit_breaker_versions(ports) == {EVERY_VERSION}
    assert breaks_circuit({"v1"}, "v1") and not breaks_circuit({"v1"}, "v2")
    assert breaks_circuit({"v1"}, "")  # a service or unversioned app node: any subset's breaker
    assert breaks_circuit({EVERY_VERSION}, "v2") and not breaks_circuit(set(), "")


def _vapp(version: str) -> Node:
    node = Node(
        id=f"vapp|{CLUSTER}|{NS}|reviews|{version}",
        node_type="app",
        cluster=CLUSTER,
        namespace=NS,
        app="reviews",
        version=version,
        workload=f"reviews-{version}",
    )
    node.add_dest_service(ServiceName(CLUSTER, NS, "reviews"))
    return node


def test_step_sets_flags_on_service_nodes_and_breakers_by_version() -> None:
    reviews, details = svc("reviews"), svc("details")
    for node in (reviews, details):
        node.add_dest_service(ServiceName(CLUSTER, NS, node.service))
    v1, v2 = _vapp("v1"), _vapp("v2")
    tm = literal_map([reviews, details, v1, v2], [])
    fqdn = f"reviews.{NS}.svc.cluster.local"
    mesh = MeshContext(
        virtual_service_hosts=frozenset({fqdn}),
        routing_flags={fqdn: frozenset({"hasTrafficShifting", "hasRequestRouting"})},
        circuit_breakers={fqdn: frozenset({"v1"})},
    )
    VirtualServiceStep().apply(tm, StepContext(options=GraphOptions(graph_type="versionedApp"), mesh=mesh))
    assert reviews.config_flags == {"hasTrafficShifting", "hasRequestRouting", "hasCB"}
    assert details.config_flags == frozenset() and details.has_vs is None
    # Routing flags go with hasVS (service nodes when they are drawn); the breaker of subset v1 only on v1.
    assert v1.config_flags == {"hasCB"} and v2.config_flags == frozenset()
    data = build_node_data(reviews, WireIds(readable=True))
    assert data["hasVS"] == {"hostnames": [fqdn]}
    assert data["hasCB"] is data["hasTrafficShifting"] is data["hasRequestRouting"] is True
    assert "hasMirroring" not in data


def test_without_service_nodes_the_destination_nodes_carry_the_routing_flags() -> None:
    v1 = _vapp("v1")
    tm = literal_map([v1], [])
    fqdn = f"reviews.{NS}.svc.cluster.local"
    mesh = MeshContext(virtual_service_hosts=frozenset({fqdn}), routing_flags={fqdn: frozenset({"hasMirroring"})})
    options = GraphOptions(graph_type="versionedApp", inject_service_nodes=False)
    VirtualServiceStep().apply(tm, StepContext(options=options, mesh=mesh))
    assert v1.config_flags == {"hasMirroring"} and v1.has_vs == (fqdn,)
