"""The graph health step: node and edge statuses from the traffic map, replicas and annotations."""

from __future__ import annotations

from tests.topology.bookinfo import NS, literal_map, svc, wl
from topology.graph.health_step import GraphHealthInputs, HealthStep
from topology.graph.model import Edge, GraphOptions
from topology.graph.steps import StepContext
from topology.health import HEALTH_RATE_ANNOTATION, WorkloadReplicas


def run(tm, inputs=None):
    HealthStep(inputs).apply(tm, StepContext(options=GraphOptions(graph_type="workload")))


def test_service_node_health_from_inbound_errors_and_edge_health_from_its_own_traffic():
    caller, reviews = wl("productpage-v1"), svc("reviews")
    tm = literal_map([caller, reviews], [Edge(caller.id, reviews.id, "http", rate=10.0, rate_5xx=1.0)])
    run(tm)
    assert reviews.health is not None and reviews.health.status == "Failure"
    assert reviews.health.reason == "5xx 10% ≥ 10%"
    assert tm.edges[(caller.id, reviews.id, "http")].health.status == "Failure"


def test_workload_node_uses_replicas_and_reports_missing_sidecar():
    node = wl("ratings-v1")
    node.has_missing_sidecar = True
    tm = literal_map([node], [])
    run(tm, GraphHealthInputs(replicas={(NS, "ratings-v1"): WorkloadReplicas("ratings-v1", 3, 3, 1)}))
    assert node.health.status == "Degraded"
    assert node.health.reason == "ratings-v1: 1/3 pods ready"
    assert node.health.warnings == ("ratings-v1: missing sidecar",)


def test_annotation_on_service_relaxes_its_thresholds_and_is_exposed():
    caller, reviews = wl("productpage-v1"), svc("reviews")
    tm = literal_map([caller, reviews], [Edge(caller.id, reviews.id, "http", rate=10.0, rate_5xx=1.0)])
    annotations = {("service", NS, "reviews"): {HEALTH_RATE_ANNOTATION: "5xx:20:50"}}
    run(tm, GraphHealthInputs(annotations=annotations))
    assert reviews.health.status == "Healthy"
    assert reviews.health.config == {HEALTH_RATE_ANNOTATION: "5xx:20:50"}
    assert tm.edges[(caller.id, reviews.id, "http")].health.status == "Healthy"


def test_unknown_node_and_tcp_edges_get_no_health():
    caller, db = wl("reviews-v1"), svc("mysqldb")
    tm = literal_map([caller, db], [Edge(caller.id, db.id, "tcp", rate=100.0)])
    run(tm)
    assert tm.edges[(caller.id, db.id, "tcp")].health is None
