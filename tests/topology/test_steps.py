"""Each pipeline step run alone on a literal traffic map (or the traffic map the pipeline builds from rows)."""

from __future__ import annotations

import pytest

from tests.topology.bookinfo import (
    CLUSTER,
    NS,
    bookinfo_requests,
    literal_map,
    svc,
    traffic_map,
    wl,
)
from topology.graph.model import Edge, GatewayInfo, GraphOptions, Node, ServiceEntryInfo, ServiceName
from topology.graph.samples import MeshContext, ServiceInfo, WorkloadInfo
from topology.graph.steps import (
    DeadNodeStep,
    GatewayStep,
    IdleNodeStep,
    OutsideStep,
    RootStep,
    ServiceEntryStep,
    ServiceGraphStep,
    SidecarStep,
    StepContext,
    VirtualServiceStep,
)

C = CLUSTER


def ctx(**kw):
    options = kw.pop("options", GraphOptions(graph_type="workload"))
    return StepContext(options=options, **kw)


def test_root_step_flags_nodes_with_outgoing_and_no_incoming_edges():
    a, b, c = wl("a"), wl("b"), wl("idle")
    tm = literal_map([a, b, c], [Edge(a.id, b.id, "http", rate=1.0)])
    RootStep().apply(tm, ctx())
    assert (a.is_root, b.is_root, c.is_root) == (True, False, False)


def test_outside_step_flags_nodes_outside_requested_namespaces_but_not_unknown():
    inside, outside = wl("a"), wl("gw", namespace="istio-system")
    unknown = Node(id="unknown", node_type="unknown", cluster="unknown", namespace="unknown")
    tm = literal_map([inside, outside, unknown], [])
    OutsideStep().apply(tm, ctx(options=GraphOptions(namespaces=frozenset({NS}))))
    assert (inside.is_outside, outside.is_outside, unknown.is_outside) == (False, True, False)


def test_outside_step_flags_nodes_of_other_clusters():
    remote = Node(id="wl|west|bookinfo|a", node_type="workload", cluster="west", namespace=NS, workload="a")
    tm = literal_map([remote, wl("b")], [])
    OutsideStep().apply(tm, ctx(options=GraphOptions(namespaces=frozenset({NS}), clusters=frozenset({C}))))
    assert remote.is_outside and not tm.nodes[f"wl|{C}|{NS}|b"].is_outside


def test_dead_node_step_removes_service_without_traffic_or_workload():
    caller, dead, live, backend = wl("caller"), svc("dead"), svc("live"), wl("backend")
    tm = literal_map(
        [caller, dead, live, backend],
        [Edge(caller.id, dead.id, "http", rate=0.0), Edge(live.id, backend.id, "http", rate=0.0)],
    )
    DeadNodeStep().apply(tm, ctx())
    assert dead.id not in tm.nodes
    assert live.id in tm.nodes  # a workload is behind it
    assert (caller.id, dead.id, "http") not in tm.edges


def test_dead_node_step_keeps_service_entries_and_services_with_traffic():
    caller = wl("caller")
    external = svc("httpbin.org", namespace="unknown", is_service_entry=ServiceEntryInfo())
    failing = svc("reviews")
    tm = literal_map(
        [caller, external, failing],
        [Edge(caller.id, external.id, "http", rate=0.0), Edge(caller.id, failing.id, "http", rate=1.0)],
    )
    DeadNodeStep().apply(tm, ctx())
    assert external.id in tm.nodes and failing.id in tm.nodes


def test_dead_node_step_flags_workload_without_pods():
    caller, scaled_down, gone = wl("caller"), wl("scaled"), wl("gone")
    tm = literal_map([caller, scaled_down, gone], [Edge(caller.id, scaled_down.id, "http", rate=1.0)])
    mesh = MeshContext(workloads=[WorkloadInfo(NS, "scaled", pods=0), WorkloadInfo(NS, "gone", pods=0)])
    DeadNodeStep().apply(tm, ctx(mesh=mesh))
    assert tm.nodes[scaled_down.id].is_dead
    assert gone.id not in tm.nodes  # dead and without traffic


def test_idle_node_step_adds_inventory_objects_without_traffic():
    a = wl("a", app="a")
    tm = literal_map([a], [])
    mesh = MeshContext(
        workloads=[
            WorkloadInfo(NS, "a", app="a"),
            WorkloadInfo(NS, "idle-v1", app="idle", version="v1", services=("idle",)),
            WorkloadInfo("other", "elsewhere"),
        ],
        services=[ServiceInfo(NS, "idle")],
    )
    options = GraphOptions(
        graph_type="workload", namespaces=frozenset({NS}), clusters=frozenset({C}), include_idle=True
    )
    IdleNodeStep().apply(tm, ctx(options=options, mesh=mesh))
    idle_wl, idle_svc = tm.nodes[f"wl|{C}|{NS}|idle-v1"], tm.nodes[f"svc|{C}|{NS}|idle"]
    assert idle_wl.is_idle and idle_svc.is_idle
    assert list(idle_wl.dest_services.values()) == [ServiceName(C, NS, "idle")]
    assert not a.is_idle
    assert f"wl|{C}|other|elsewhere" not in tm.nodes


def test_idle_node_step_does_nothing_unless_requested():
    tm = literal_map([], [])
    IdleNodeStep().apply(tm, ctx(mesh=MeshContext(workloads=[WorkloadInfo(NS, "idle")])))
    assert tm.nodes == {}


def test_gateway_step_detects_istio_gateways_by_name_label_and_input():
    by_name = wl("istio-ingressgateway", namespace="istio-system")
    by_label = wl("edge", namespace="istio-system")
    by_input = wl("my-gw")
    egress = wl("istio-egressgateway", namespace="istio-system")
    plain = wl("productpage-v1")
    tm = literal_map([by_name, by_label, by_input, egress, plain], [])
    mesh = MeshContext(
        workloads=[WorkloadInfo("istio-system", "edge", labels={"istio": "ingressgateway"})],
        gateways={(NS, "my-gw"): GatewayInfo("ingress", ("bookinfo.example.com",))},
    )
    GatewayStep().apply(tm, ctx(mesh=mesh))
    assert by_name.is_gateway == GatewayInfo("ingress")
    assert by_label.is_gateway == GatewayInfo("ingress")
    assert by_input.is_gateway == GatewayInfo("ingress", ("bookinfo.example.com",))
    assert egress.is_gateway == GatewayInfo("egress")
    assert plain.is_gateway is None


def test_service_entry_step_flags_external_and_declared_hosts():
    external = svc("httpbin.org", namespace="unknown")
    declared = svc("db.corp.example", namespace=NS)
    local = svc("reviews")
    tm = literal_map([external, declared, local], [])
    mesh = MeshContext(service_entries={"db.corp.example": ServiceEntryInfo("MESH_INTERNAL", ("db.corp.example",))})
    ServiceEntryStep().apply(tm, ctx(mesh=mesh))
    assert external.is_service_entry == ServiceEntryInfo("MESH_EXTERNAL", ("httpbin.org",))
    assert declared.is_service_entry is not None and declared.is_service_entry.location == "MESH_INTERNAL"
    assert local.is_service_entry is None


def test_sidecar_step_flags_workloads_without_sidecar():
    legacy, meshed = wl("legacy"), wl("meshed")
    tm = literal_map([legacy, meshed], [])
    SidecarStep().apply(tm, ctx(mesh=MeshContext(missing_sidecars=frozenset({(NS, "legacy")}))))
    assert legacy.has_missing_sidecar and not meshed.has_missing_sidecar


def test_virtual_service_step_matches_short_and_fqdn_hosts():
    reviews, ratings, details = svc("reviews"), svc("ratings"), svc("details")
    for node in (reviews, ratings, details):
        node.add_dest_service(ServiceName(C, NS, node.service))
    tm = literal_map([reviews, ratings, details], [])
    hosts = frozenset({"reviews", "ratings.bookinfo.svc.cluster.local"})
    VirtualServiceStep().apply(tm, ctx(mesh=MeshContext(virtual_service_hosts=hosts)))
    assert reviews.has_vs == ("reviews",)
    assert ratings.has_vs == ("ratings.bookinfo.svc.cluster.local",)
    assert details.has_vs is None


def test_service_graph_step_reduces_to_service_to_service_edges():
    options = GraphOptions(graph_type="service")
    tm = traffic_map(options, bookinfo_requests())
    ServiceGraphStep().apply(tm, StepContext(options=options))
    s = lambda name: f"svc|{C}|{NS}|{name}"  # noqa: E731
    gw = f"app|{C}|istio-system|istio-ingressgateway"
    assert set(tm.nodes) == {gw, s("productpage"), s("details"), s("reviews"), s("ratings")}
    assert set(tm.edges) == {
        (gw, s("productpage"), "http"),
        (s("productpage"), s("details"), "http"),
        (s("productpage"), s("reviews"), "http"),
        (s("reviews"), s("ratings"), "http"),
    }
    assert tm.edges[(s("reviews"), s("ratings"), "http")].rate == pytest.approx(7.0)
    assert tm.nodes[s("reviews")].rates["httpOut"] == pytest.approx(7.0)


def test_service_graph_step_splits_workload_traffic_between_its_services():
    caller, a, b, backend, db = wl("caller"), svc("a"), svc("b"), wl("backend"), svc("db")
    tm = literal_map(
        [caller, a, b, backend, db],
        [
            Edge(caller.id, a.id, "http", rate=3.0),
            Edge(caller.id, b.id, "http", rate=1.0),
            Edge(a.id, backend.id, "http", rate=3.0),
            Edge(b.id, backend.id, "http", rate=1.0),
            Edge(backend.id, db.id, "http", rate=8.0),
        ],
    )
    ServiceGraphStep().apply(tm, StepContext(options=GraphOptions(graph_type="service")))
    assert tm.edges[(a.id, db.id, "http")].rate == pytest.approx(6.0)
    assert tm.edges[(b.id, db.id, "http")].rate == pytest.approx(2.0)
