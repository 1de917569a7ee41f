"""Which graphs without service nodes a window stores: only those the collapse of the graph with them would not give.

Each mesh below is Bookinfo (``productpage`` is the only caller of ``reviews``, which has three backends; ``reviews``
v2 and v3 call ``ratings``) with one change; the decision is worked out by hand per graph type, and where the graph is
skipped, the collapse is compared with the graph built without service nodes (and node graphs read with one or the
other as their pairs).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.topology.bookinfo import NS, bookinfo_latencies, bookinfo_requests, both_reporters, labels
from tests.topology.test_snapshot_build import varied_inputs
from topology.graph import GraphHealthInputs, GraphInputs, build_graph
from topology.graph.derive import NodeRef, collapse_service_nodes, focus_graph
from topology.graph.exactness import names_missing_services
from topology.graph.model import GraphType
from topology.graph.samples import LatencySample, RequestSample
from topology.graph.snapshot_build import StoredGraphKey, WindowGraphBuilder, snapshot_graph_options

NAMESPACES = frozenset({NS, "istio-system"})
FLAT_TYPES: tuple[GraphType, ...] = ("app", "versionedApp", "workload")


def bookinfo(requests: list[RequestSample] | None = None, **kw: Any) -> GraphInputs:
    return GraphInputs(requests=requests or bookinfo_requests(), latencies=bookinfo_latencies(), **kw)


def window(inputs: GraphInputs) -> tuple[WindowGraphBuilder, dict[StoredGraphKey, dict[str, Any]]]:
    builder = WindowGraphBuilder(inputs, NAMESPACES, 1_700_000_000, 300)
    return builder, dict(builder.graphs(inputs.latencies))


def normalized(graph: dict[str, Any]) -> tuple[Any, ...]:
    """The graph modulo the order of its nodes, edges and keys."""
    head = {key: value for key, value in graph.items() if key != "elements"}
    nodes = sorted((n["data"] for n in graph["elements"]["nodes"]), key=lambda data: data["id"])
    edges = sorted((e["data"] for e in graph["elements"]["edges"]), key=lambda data: data["id"])
    return head, nodes, edges


def built_without_service_nodes(inputs: GraphInputs, graph_type: GraphType) -> dict[str, Any]:
    return build_graph(inputs, snapshot_graph_options(graph_type, NAMESPACES, False), 1_700_000_000, 300)


def test_bookinfo_stores_no_graph_without_service_nodes_and_the_collapse_is_that_graph() -> None:
    inputs = bookinfo()
    builder, graphs = window(inputs)
    assert builder.collapsible == FLAT_TYPES
    assert list(graphs) == [(t, True) for t in ("app", "versionedApp", "workload", "service")]
    for graph_type in FLAT_TYPES:
        collapsed = collapse_service_nodes(graphs[StoredGraphKey(graph_type)])
        assert normalized(collapsed) == normalized(built_without_service_nodes(inputs, graph_type)), graph_type


@pytest.mark.parametrize(
    "node",
    [
        NodeRef("workload", NS, "reviews-v2"),  # behind reviews: productpage sent it 3/s of its 10/s, 0.5/s of them 503
        NodeRef("workload", NS, "productpage-v1"),  # calls reviews: its traffic to each backend
        NodeRef("workload", NS, "ratings-v1"),
        NodeRef("service", NS, "reviews"),
    ],
)
def test_bookinfo_node_graphs_read_the_collapse_as_they_would_the_stored_pairs(node: NodeRef) -> None:
    inputs = bookinfo()
    _, graphs = window(inputs)
    default = graphs[StoredGraphKey("workload")]
    from_collapse = focus_graph(default, node, collapse_service_nodes(default))
    from_built = focus_graph(default, node, built_without_service_nodes(inputs, "workload"))
    assert normalized(from_collapse) == normalized(from_built)
    if node.name == "reviews-v2":  # not the proportional split (no pairs): 3/10 of 10/s with 3/10 of 0.5/s 503s
        assert named_edges(from_collapse) == {
            ("productpage-v1", "svc:reviews"): ("3.00", "0.50"),
            ("svc:reviews", "reviews-v2"): ("3.00", "0.50"),
            ("reviews-v2", "svc:ratings"): ("3.00", None),
            ("svc:ratings", "ratings-v1"): ("3.00", None),
        }
        proportional = named_edges(focus_graph(default, node))
        assert proportional[("productpage-v1", "svc:reviews")] == ("3.00", "0.15")


def named_edges(graph: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``(source, target) -> (http rate, http 5xx rate)``, workloads by name and services as ``svc:<name>``."""
    names = {
        n["data"]["id"]: n["data"].get("workload") or f"svc:{n['data'].get('service')}"
        for n in graph["elements"]["nodes"]
    }
    return {
        (names[e["data"]["source"]], names[e["data"]["target"]]): (
            e["data"]["traffic"]["rates"]["http"],
            e["data"]["traffic"]["rates"].get("http5xx"),
        )
        for e in graph["elements"]["edges"]
    }


def test_a_service_with_two_callers_and_two_backends_stores_the_types_that_tell_them_apart() -> None:
    # details-v1 calls reviews too: reviews has two callers and three backends in the workload and versioned app
    # graphs, but one backend (the reviews app) in the app graph.
    requests = bookinfo_requests() + both_reporters("details", "reviews-v1", "reviews", 1.0)
    builder, graphs = window(bookinfo(requests))
    assert builder.collapsible == ("app",)
    assert [key for key in graphs if not key.inject_service_nodes] == [("versionedApp", False), ("workload", False)]
    inputs = bookinfo(requests)
    collapsed = collapse_service_nodes(graphs[StoredGraphKey("app")])
    assert normalized(collapsed) == normalized(built_without_service_nodes(inputs, "app"))
    # Where it is stored, the collapse would not have given it.
    workload = collapse_service_nodes(graphs[StoredGraphKey("workload")])
    assert normalized(workload) != normalized(graphs[StoredGraphKey("workload", False)])


def test_requests_that_reached_no_backend_of_a_service_with_backends_store_every_type() -> None:
    # productpage -> reviews answered 503 UH by its own proxy: no destination workload, drawn to the service.
    requests = bookinfo_requests()
    requests.append(
        RequestSample(labels("productpage", None, "reviews", reporter="source", code="503", flags="UH"), 0.2)
    )
    builder, graphs = window(bookinfo(requests))
    assert builder.collapsible == ()
    assert [key for key in graphs if not key.inject_service_nodes] == [(t, False) for t in FLAT_TYPES]


def test_a_caller_reaching_a_workload_through_two_services_stores_every_type() -> None:
    # productpage reaches details-v1 through details and through details-canary: two routes for one pair.
    requests = bookinfo_requests() + both_reporters("productpage", "details", "details-canary", 1.0)
    builder, _ = window(bookinfo(requests))
    assert builder.collapsible == ()


def test_health_annotations_store_every_type() -> None:
    health = GraphHealthInputs(annotations={("service", NS, "reviews"): {"mesh-ui.io/health-rate": "5xx:1:2"}})
    builder, graphs = window(bookinfo(health=health))
    assert builder.collapsible == ()
    assert len(graphs) == 7


def test_a_latency_row_through_a_service_without_request_rows_builds_the_graphs_after_all() -> None:
    # details-v1 -> reviews-v1 has response times but no request row: they land on svc:reviews -> reviews-v1, which
    # the collapse would give productpage.
    latency = LatencySample(labels("details", "reviews-v1", "reviews"), avg=90.0, p50=90, p95=90, p99=90, weight=1)
    inputs = replace(bookinfo(), latencies=[*bookinfo_latencies(), latency])
    builder, graphs = window(inputs)
    assert builder.collapsible == FLAT_TYPES  # the traffic rows alone allowed it
    assert list(graphs)[4:] == [(t, False) for t in FLAT_TYPES]
    for graph_type in FLAT_TYPES:
        flat = graphs[StoredGraphKey(graph_type, False)]
        assert normalized(flat) == normalized(built_without_service_nodes(inputs, graph_type))
    # The collapse would have given productpage details' 90 ms in reviews-v1's response times.
    collapsed = collapse_service_nodes(graphs[StoredGraphKey("workload")])
    assert normalized(collapsed) != normalized(graphs[StoredGraphKey("workload", False)])


def test_the_varied_mesh_without_its_skewing_rows_is_collapsed_exactly() -> None:
    # Every response class, grpc, tcp, unknown callers, a terminal external service, idle workloads behind a service
    # with a VirtualService (hasVS on the idle reviews-v4 too) and sidecar-less workloads; without the health
    # annotation and the latency row without request rows, nothing is stored twice.
    varied = varied_inputs()
    assert varied.health is not None
    inputs = replace(
        varied,
        latencies=[row for row in varied.latencies if row.labels["source_workload"] != "ratings-v1"],
        health=replace(varied.health, annotations={}),
    )
    builder, graphs = window(inputs)
    assert builder.collapsible == FLAT_TYPES and len(graphs) == 4
    for graph_type in FLAT_TYPES:
        collapsed = collapse_service_nodes(graphs[StoredGraphKey(graph_type)])
        assert normalized(collapsed) == normalized(built_without_service_nodes(inputs, graph_type)), graph_type
    idle = [n["data"] for n in collapsed["elements"]["nodes"] if n["data"].get("workload") == "reviews-v4"]
    assert idle[0]["hasVS"] == {"hostnames": [f"reviews.{NS}.svc.cluster.local"]}


def test_a_node_serving_a_service_the_graph_has_no_node_of_is_found() -> None:
    def node(node_type: str, **data: Any) -> dict[str, Any]:
        return {"data": {"id": str(data), "nodeType": node_type, "cluster": "east", "namespace": NS, **data}}

    served = [{"cluster": "east", "namespace": NS, "name": "reviews"}]
    graph = {"elements": {"nodes": [node("workload", workload="reviews-v1", destServices=served)], "edges": []}}
    assert names_missing_services(graph)
    graph["elements"]["nodes"].append(node("service", service="reviews"))
    assert not names_missing_services(graph)
