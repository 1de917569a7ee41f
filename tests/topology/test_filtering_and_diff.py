"""Pure tests of narrowing a stored graph for a request, and of graph diffs."""

from tests.topology.bookinfo import bookinfo_requests, both_reporters
from topology.graph import GraphInputs, GraphOptions, MeshContext, WorkloadInfo, build_graph
from topology.graph.diff import compute_graph_diff
from topology.graph.filtering import filter_graph, graph_needs_filtering

ALL_BOXES = frozenset({"cluster", "namespace", "app"})


def _graph(samples=None, idle=()):
    mesh = MeshContext(workloads=[WorkloadInfo(namespace=ns, name=name) for ns, name in idle])
    options = GraphOptions(
        graph_type="workload",
        namespaces=frozenset({"bookinfo", "istio-system"}),
        include_idle=True,
        box_by=ALL_BOXES,
        id_style="readable",
    )
    return build_graph(GraphInputs(requests=samples or bookinfo_requests(), mesh=mesh), options, 1000, 60)


def _workloads(graph):
    return {n["data"].get("workload") for n in graph["elements"]["nodes"] if n["data"].get("nodeType") == "workload"}


def test_stored_graph_is_sent_as_is_only_when_the_request_wants_all_of_it():
    assert not graph_needs_filtering(["bookinfo"], None, True, ALL_BOXES)
    assert graph_needs_filtering(["bookinfo", "shop"], ["bookinfo"], True, ALL_BOXES)
    assert graph_needs_filtering(["bookinfo"], None, False, ALL_BOXES)
    assert graph_needs_filtering(["bookinfo"], None, True, ["namespace"])


def test_namespace_filter_keeps_linked_outside_nodes_flagged():
    graph = filter_graph(_graph(), ["bookinfo"], include_idle=True, box_by=ALL_BOXES)
    gateway = next(n["data"] for n in graph["elements"]["nodes"] if n["data"].get("workload") == "istio-ingressgateway")
    assert gateway["isOutside"] is True
    productpage = next(n["data"] for n in graph["elements"]["nodes"] if n["data"].get("workload") == "productpage-v1")
    assert not productpage.get("isOutside")
    ids = {n["data"]["id"] for n in graph["elements"]["nodes"]}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in graph["elements"]["edges"])


def test_idle_nodes_are_dropped_unless_requested():
    graph = _graph(idle=[("bookinfo", "reviews-v9")])
    assert "reviews-v9" in _workloads(filter_graph(graph, None, include_idle=True, box_by=ALL_BOXES))
    assert "reviews-v9" not in _workloads(filter_graph(graph, None, include_idle=False, box_by=ALL_BOXES))


def test_unrequested_boxes_are_removed_and_children_reparented():
    graph = filter_graph(_graph(), None, include_idle=True, box_by=["namespace"])
    boxes = [n["data"] for n in graph["elements"]["nodes"] if n["data"].get("isBox")]
    assert boxes and all(b["isBox"] == "namespace" for b in boxes)
    box_ids = {b["id"] for b in boxes}
    parents = {n["data"].get("parent") for n in graph["elements"]["nodes"] if n["data"].get("parent")}
    assert parents <= box_ids
    no_boxes = filter_graph(_graph(), None, include_idle=True, box_by=[])
    assert not any(n["data"].get("isBox") or n["data"].get("parent") for n in no_boxes["elements"]["nodes"])


def test_diff_reports_added_removed_and_changed_edges():
    before = _graph()
    samples = [s for s in bookinfo_requests() if s.labels["destination_workload"] != "reviews-v3"]
    samples = [s for s in samples if s.labels["source_workload"] != "reviews-v3"]
    samples += both_reporters("productpage", "reviews-v1", "reviews", 4.0)
    after = _graph(samples)
    diff = compute_graph_diff(before, after)
    assert ("bookinfo/reviews", "bookinfo/reviews-v3") in {
        (e["sourceLabel"], e["targetLabel"]) for e in diff["removed"]
    }
    assert not diff["added"]
    changed = {(e["sourceLabel"], e["targetLabel"]): e for e in diff["changed"]}
    assert changed[("bookinfo/reviews", "bookinfo/reviews-v1")]["delta"] > 0
