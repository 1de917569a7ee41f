"""The graph-fidelity rules one at a time, on literal rows and maps: each with a case that triggers it and a
near-identical one that does not (the Prometheus-backed counterparts are in ``tests/topology_prometheus``)."""

from __future__ import annotations

import pytest

from inventory.mapping import build_workload_fields
from tests.topology.bookinfo import CLUSTER, NS, U, labels, literal_map, svc, traffic_map, wl
from topology.graph.model import Edge, GatewayInfo, GraphOptions, Node
from topology.graph.paths import PathResolver
from topology.graph.reporters import REQUEST_KEY_LABELS, build_counted_filter
from topology.graph.samples import IstioLabels, MeshContext, RequestSample, WorkloadInfo
from topology.graph.steps import GatewayStep, OutsideStep, ServiceEntryStep, ServiceGraphStep, SidecarStep, StepContext
from topology.graph.wire import WireIds, build_node_data
from topology.health import HealthStatus, build_request_rates, compute_rate_health, resolve_health_config

C = CLUSTER
WORKLOAD = GraphOptions(graph_type="workload", inject_service_nodes=False)


def counted(rows: list[IstioLabels]) -> list[bool]:
    is_counted = build_counted_filter(rows, REQUEST_KEY_LABELS)
    return [is_counted(row) for row in rows]


# Rule 1: both reporters, counted once.


def test_source_report_is_dropped_only_when_the_destination_reported_the_same_request():
    source = labels("productpage", "details", "details", reporter="source")
    destination = labels("productpage", "details", "details", reporter="destination")
    assert counted([source, destination]) == [False, True]
    assert counted([source]) == [True]  # e.g. the destination's cluster is not read: the source's report stands


def test_what_only_one_proxy_knows_does_not_tell_the_reports_apart():
    # The source proxy never knows the connection's mTLS policy, and may miss a principal: still the same request.
    source = {**labels("productpage", "details", "details", reporter="source"), "destination_principal": U}
    destination = labels("productpage", "details", "details", reporter="destination")
    assert source["connection_security_policy"] != destination["connection_security_policy"]
    assert counted([source, destination]) == [False, True]


def test_a_response_the_proxies_saw_differently_is_kept_from_both_as_kiali_does():
    # The client's proxy timed out (504 UT) where the server answered 200: Kiali's time-series key (edge, code,
    # flags, host) tells them apart, so the source's 504 is drawn next to the destination's 200.
    timeout = labels("productpage", "details", "details", reporter="source", code="504", flags="UT")
    answered = labels("productpage", "details", "details", reporter="destination")
    assert counted([timeout, answered]) == [True, True]


def test_requests_that_reached_no_workload_and_other_reporters():
    no_workload = labels("productpage", None, "details", reporter="source", code="503", flags="UH")
    stray = labels("productpage", None, "details", reporter="destination", code="503", flags="UH")
    other = labels("productpage", "details", "details", reporter="client")
    # Only the source can report a request no workload received; a destination report without a workload is not
    # read (Kiali reads destination reports by workload namespace); no other reporter than Istio's three counts.
    assert counted([no_workload, stray, other]) == [True, False, False]


def test_a_waypoint_report_ranks_between_destination_and_source():
    waypoint = labels("productpage", "details", "details", reporter="waypoint")
    source = labels("productpage", "details", "details", reporter="source")
    destination = labels("productpage", "details", "details", reporter="destination")
    # Ambient: an ingress gateway's proxy (source) and the waypoint report the same request: the waypoint's counts.
    assert counted([source, waypoint]) == [False, True]
    # A waypoint in front of a workload with a sidecar: the sidecar's destination report counts.
    assert counted([waypoint, destination]) == [False, True]
    assert counted([waypoint]) == [True]
    # Near-identical: the waypoint saw another response code, so the source's report is a request of its own.
    other_code = labels("productpage", "details", "details", reporter="waypoint", code="503", flags="UF")
    assert counted([source, other_code]) == [True, True]
    # A request that reached no workload, reported by the caller's proxy and the waypoint that failed it: once.
    failed = labels("productpage", None, "details", reporter="source", code="503", flags="UH")
    failed_at_waypoint = labels("productpage", None, "details", reporter="waypoint", code="503", flags="UH")
    assert counted([failed, failed_at_waypoint]) == [False, True]


def test_the_pipeline_counts_a_double_report_once_and_a_lone_source_report():
    rows = [
        RequestSample(labels("productpage", "details", "details", reporter="source"), 2.0),
        RequestSample(labels("productpage", "details", "details", reporter="destination"), 2.0),
        RequestSample(labels("productpage", "reviews-v1", "reviews", reporter="source"), 3.0),
    ]
    tm = traffic_map(WORKLOAD, rows)
    assert tm.edges[(f"wl|{C}|{NS}|productpage-v1", f"wl|{C}|{NS}|details-v1", "http")].rate == 2.0  # not 4
    assert tm.edges[(f"wl|{C}|{NS}|productpage-v1", f"wl|{C}|{NS}|reviews-v1", "http")].rate == 3.0


# Rule 2: app and version as Kiali reads them.


def _destination_node(row: IstioLabels, graph_type: str = "versionedApp") -> Node:
    hops = PathResolver(GraphOptions(graph_type=graph_type, inject_service_nodes=False)).resolve(row)  # type: ignore[arg-type]
    return hops[-1].target


def test_canonical_service_and_revision_win_over_app_and_version():
    row = labels("productpage", "details", "details")
    modern = {**row, "destination_app": U, "destination_version": U}
    modern |= {"destination_canonical_service": "details", "destination_canonical_revision": "v7"}
    node = _destination_node(modern)
    assert (node.id, node.app, node.version) == (f"vapp|{C}|{NS}|details|v7", "details", "v7")
    # Telemetry without the canonical labels (older Istio) falls back to app/version.
    legacy = _destination_node(row)
    assert (legacy.app, legacy.version) == ("details", "v1")


def test_inventory_reads_the_canonical_labels_first_then_app_kubernetes_io_then_app():
    def fields(template_labels: dict[str, str]) -> tuple[str, str]:
        deployment = {
            "metadata": {"name": "w", "namespace": NS},
            "spec": {"template": {"metadata": {"labels": template_labels}}},
        }
        built = build_workload_fields(deployment, "Deployment")
        return built["app"], built["version"]

    every = {
        "service.istio.io/canonical-name": "canon",
        "service.istio.io/canonical-revision": "r1",
        "app.kubernetes.io/name": "k8s",
        "app.kubernetes.io/version": "2.0",
        "app": "plain",
        "version": "v1",
    }
    assert fields(every) == ("canon", "r1")
    assert fields({k: v for k, v in every.items() if not k.startswith("service.istio.io")}) == ("k8s", "2.0")
    assert fields({"app": "plain", "version": "v1"}) == ("plain", "v1")


# Rule 3: an unknown destination is a service node of its own.


def test_unknown_destination_is_an_unknown_service_never_the_unknown_caller():
    no_route = {
        **labels("productpage", None, "details", reporter="source", code="404", flags="NR"),
        "destination_service_name": U,
        "destination_service": "nosuch.example.com",
    }
    target = _destination_node(no_route)
    assert (target.id, target.node_type, target.service) == (f"svc|{C}|{NS}|unknown", "service", U)
    caller = PathResolver(WORKLOAD).resolve(labels("unknown", "productpage", "productpage"))[0].source
    assert (caller.id, caller.node_type) == ("unknown", "unknown")
    # Telemetry without destination_service_name at all (older Istio) still names the service by its host.
    older = {k: v for k, v in no_route.items() if k != "destination_service_name"}
    assert _destination_node(older).service == "nosuch.example.com"


def test_unknown_service_node_is_no_service_entry():
    unknown_service = svc(U, namespace=U)
    external = svc("api.example.com", namespace=U)
    tm = literal_map([wl("a"), unknown_service, external], [])
    ServiceEntryStep().apply(tm, StepContext(options=GraphOptions()))
    assert unknown_service.is_service_entry is None and external.is_service_entry is not None


# Rule 4: no response is an error, for rates and for health.


def test_response_code_zero_is_a_no_response_error_and_other_codes_are_not():
    rows = [
        RequestSample(labels("productpage", "details", "details", code="0", flags="DC"), 1.0),
        RequestSample(labels("productpage", "details", "details", code="200", flags="DC"), 3.0),
    ]
    edge = next(iter(traffic_map(WORKLOAD, rows).edges.values()))
    assert (edge.rate, edge.rate_no_response, edge.error_rate) == (4.0, 1.0, 1.0)
    assert set(edge.responses) == {"-", "200"}  # Kiali files "no response" under "-"
    rates = build_request_rates({"200": 3.0, "0": 1.0})
    assert (rates.no_response, rates.http_5xx) == (1.0, 0.0)
    assert compute_rate_health(rates).status == HealthStatus.FAILURE  # 25 % >= 10 %
    assert compute_rate_health(build_request_rates({"200": 4.0})).status == HealthStatus.HEALTHY


def test_no_response_thresholds_follow_annotations():
    config = resolve_health_config(annotations={"mesh-ui.io/health-rate": "noresponse:30:50"})
    rates = build_request_rates({"200": 3.0, "0": 1.0})  # 25 %
    assert compute_rate_health(rates, config).status == HealthStatus.HEALTHY


# Rule 5: the service graph holds services and root callers only.


def test_service_graph_drops_workloads_reached_without_a_service():
    caller, direct, front = wl("caller"), wl("direct"), svc("front")
    behind = wl("behind")
    tm = literal_map(
        [caller, direct, front, behind],
        [
            Edge(caller.id, direct.id, "http", rate=1.0),  # workload to workload, no service
            Edge(caller.id, front.id, "http", rate=2.0),
            Edge(front.id, behind.id, "http", rate=2.0),
        ],
    )
    ServiceGraphStep().apply(tm, StepContext(options=GraphOptions(graph_type="service")))
    assert set(tm.nodes) == {caller.id, front.id}  # the root caller stays with its edge to the service
    assert set(tm.edges) == {(caller.id, front.id, "http")}
    lone = wl("lone")
    tm = literal_map([lone, wl("only-direct")], [Edge(lone.id, f"wl|{C}|{NS}|only-direct", "http", rate=1.0)])
    ServiceGraphStep().apply(tm, StepContext(options=GraphOptions(graph_type="service")))
    assert tm.nodes == {}  # a caller left without an edge goes too


# Rule 6: gateways vs waypoints; outside only for real namespaces.

WAYPOINT_LABELS = {
    "gateway.istio.io/managed": "istio.io-mesh-controller",
    "gateway.networking.k8s.io/gateway-name": "waypoint",
}


def test_waypoint_is_flagged_waypoint_never_gateway():
    waypoint, ingress = wl("waypoint"), wl("my-gateway")
    mesh = MeshContext(
        workloads=[
            WorkloadInfo(NS, "waypoint", labels=WAYPOINT_LABELS),
            WorkloadInfo(NS, "my-gateway", labels={"gateway.networking.k8s.io/gateway-name": "my-gateway"}),
        ],
        missing_sidecars=frozenset({(NS, "waypoint")}),
    )
    tm = literal_map([waypoint, ingress], [])
    context = StepContext(options=WORKLOAD, mesh=mesh)
    GatewayStep().apply(tm, context)
    SidecarStep().apply(tm, context)
    assert (waypoint.is_waypoint, waypoint.is_gateway, waypoint.has_missing_sidecar) == (True, None, False)
    assert (ingress.is_waypoint, ingress.is_gateway) == (False, GatewayInfo("ingress"))
    ids = WireIds(readable=True)
    assert build_node_data(waypoint, ids)["isWaypoint"] is True and "isGateway" not in build_node_data(waypoint, ids)
    assert "isWaypoint" not in build_node_data(ingress, ids)


@pytest.mark.parametrize(("namespace", "outside"), [(U, False), ("elsewhere", True), (NS, False)])
def test_only_real_namespaces_are_outside(namespace: str, outside: bool):
    node = svc(U, namespace=namespace)
    tm = literal_map([node], [])
    OutsideStep().apply(tm, StepContext(options=GraphOptions(namespaces=frozenset({NS}))))
    assert node.is_outside is outside
