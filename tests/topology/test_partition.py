"""Pure tests of storing a graph split by namespace: scoped reads must equal filtering the whole graph."""

import itertools
import json
import zlib

import pytest

from tests.topology.bookinfo import bookinfo_requests, both_reporters
from topology.graph import GraphInputs, GraphOptions, MeshContext, WorkloadInfo, build_graph
from topology.graph.filtering import filter_graph
from topology.graph.model import GRAPH_TYPES
from topology.graph.partition import (
    ChunkInflater,
    assemble_graph,
    encode_data_pieces,
    has_idle_lines,
    join_elements,
    pack_chunks,
    splice_graph_json,
    split_graph_by_namespace,
)

ALL_BOXES = frozenset({"cluster", "namespace", "app"})


def _graph(graph_type: str) -> dict:
    """Bookinfo with the gateway in istio-system, unknown callers, and an idle workload."""
    samples = bookinfo_requests() + both_reporters("unknown", "productpage", "productpage", 1.0)
    mesh = MeshContext(workloads=[WorkloadInfo(namespace="bookinfo", name="reviews-v9", app="reviews", version="v9")])
    options = GraphOptions(
        graph_type=graph_type,  # type: ignore[arg-type]
        namespaces=frozenset({"bookinfo", "istio-system"}),
        include_idle=True,
        box_by=ALL_BOXES,
    )
    return build_graph(GraphInputs(requests=samples, mesh=mesh), options, 1000, 60)


def _edge_set(graph):
    """Edges as comparable text, in any order: a scoped read lists them by namespace."""
    return sorted(json.dumps(e, sort_keys=True) for e in graph["elements"]["edges"])


def _chunks_for(chunks, namespaces):
    names = sorted({"", *namespaces} & set(chunks))
    return [chunks[n].own for n in names], [chunks[n].extra for n in names if chunks[n].extra]


@pytest.mark.parametrize("graph_type", GRAPH_TYPES)
def test_every_element_is_in_exactly_one_own_chunk(graph_type):
    graph = _graph(graph_type)
    head, chunks = split_graph_by_namespace(graph)
    assert head == {"timestamp": 1000, "duration": 60, "graphType": graph_type}
    assert len(chunks) >= 3  # bookinfo, istio-system, unknown (and "" for the cluster box when there is one)
    rebuilt = assemble_graph(head, [c.own for c in chunks.values()])
    assert rebuilt["elements"]["nodes"] == graph["elements"]["nodes"]  # same order too: the wire order
    key = lambda e: e["data"]["id"]  # noqa: E731
    assert sorted(rebuilt["elements"]["edges"], key=key) == sorted(graph["elements"]["edges"], key=key)
    own_ids = [
        element["data"]["id"]
        for chunk in chunks.values()
        for line in chunk.own.split(b"\n")
        if line
        for element in json.loads(b"[" + line + b"]")
    ]
    assert len(own_ids) == len(set(own_ids)) == len(graph["elements"]["nodes"]) + len(graph["elements"]["edges"])


@pytest.mark.parametrize("graph_type", GRAPH_TYPES)
def test_scoped_reads_equal_filtering_the_whole_graph(graph_type):
    graph = _graph(graph_type)
    head, chunks = split_graph_by_namespace(graph)
    namespaces = sorted(n for n in chunks if n)
    scopes = [list(c) for size in (1, 2) for c in itertools.combinations(namespaces, size)] + [["nowhere"]]
    box_choices = (ALL_BOXES, frozenset(), frozenset({"namespace"}), frozenset({"app", "cluster"}))
    checked_outside = False
    for scope, include_idle, box_by in itertools.product(scopes, (True, False), box_choices):
        expected = filter_graph(graph, scope, include_idle, box_by)
        owns, extras = _chunks_for(chunks, scope)
        actual = filter_graph(assemble_graph(head, owns, extras), scope, include_idle, box_by)
        assert actual["elements"]["nodes"] == expected["elements"]["nodes"], (scope, include_idle, box_by)
        assert _edge_set(actual) == _edge_set(expected), (scope, include_idle, box_by)
        checked_outside |= any(n["data"].get("isOutside") for n in actual["elements"]["nodes"])
    assert checked_outside  # the far ends of cross-namespace edges were really exercised


def test_a_scoped_read_needs_only_its_namespaces_chunks():
    graph = _graph("workload")
    _, chunks = split_graph_by_namespace(graph)
    bookinfo = chunks["bookinfo"]
    gateway = b'"workload":"istio-ingressgateway"'
    assert gateway not in bookinfo.own  # the gateway lives in istio-system's chunk...
    assert gateway in bookinfo.extra  # ...and is copied as the far end of its edge into bookinfo
    assert b'"namespace":"bookinfo"' in chunks["istio-system"].extra  # the gateway's callee (productpage's service)


def test_spliced_whole_graph_has_every_element_and_parents_first():
    graph = _graph("versionedApp")
    head, chunks = split_graph_by_namespace(graph)
    spliced = json.loads(splice_graph_json(head, [chunks[n].own for n in sorted(chunks)]))
    assert {k: spliced[k] for k in head} == head
    nodes = spliced["elements"]["nodes"]
    assert sorted(json.dumps(n, sort_keys=True) for n in nodes) == sorted(
        json.dumps(n, sort_keys=True) for n in graph["elements"]["nodes"]
    )
    seen: set[str] = set()
    for node in nodes:
        assert node["data"].get("parent") in seen | {None}
        seen.add(node["data"]["id"])
    assert len(spliced["elements"]["edges"]) == len(graph["elements"]["edges"])


def test_empty_graph_splits_and_splices():
    head, chunks = split_graph_by_namespace({"timestamp": 1, "duration": 60, "graphType": "app", "elements": {}})
    assert chunks == {}
    assert json.loads(splice_graph_json(head, [])) == {
        "timestamp": 1,
        "duration": 60,
        "graphType": "app",
        "elements": {"nodes": [], "edges": []},
    }


def test_chunk_lines_are_the_standard_librarys_compact_json_of_their_elements():
    graph = _graph("versionedApp")
    # A non-ASCII name and an element nesting a "data" key: escaped and kept as json.dumps does.
    graph["elements"]["nodes"][-1]["data"]["note"] = [{"x": 1}, {"data": "é ☃ \U0001f512"}]
    _, chunks = split_graph_by_namespace(graph)
    compact = lambda e: json.dumps(e, separators=(",", ":")).encode()  # noqa: E731
    for chunk in chunks.values():
        for line in [*chunk.own.split(b"\n"), *chunk.extra.split(b"\n")]:
            assert line.isascii()
            assert line == b",".join(compact(element) for element in json.loads(b"[" + line + b"]"))
    assert any(b"\\u00e9" in chunk.own for chunk in chunks.values())


def test_data_pieces_join_back_into_the_elements_with_or_without_a_nested_separator():
    compact = lambda e: json.dumps(e, separators=(",", ":")).encode()  # noqa: E731
    plain = [{"data": {"id": "a"}}, {"data": {"id": "b", "name": "é"}}, {"data": {"id": "c"}}]
    tricky = [{"data": {"id": "a", "nested": [{"x": 1}, {"data": 2}]}}, *plain[1:]]  # holds the separator
    for elements in (plain, tricky):
        pieces = encode_data_pieces(elements)
        assert pieces == [compact(e["data"]) for e in elements]
        assert join_elements(pieces) == b",".join(compact(e) for e in elements)
        assert join_elements(pieces[1:]) == b",".join(compact(e) for e in elements[1:])
    assert join_elements([]) == b"" and encode_data_pieces([]) == []
    with pytest.raises(ValueError):
        encode_data_pieces([{"data": {"id": "a"}, "classes": "x"}])


def test_packed_chunks_inflate_back_and_older_zlib_chunks_still_read():
    _, chunks = split_graph_by_namespace(_graph("workload"))
    inflate = ChunkInflater().inflate
    packed = pack_chunks(chunks)
    assert [namespace for namespace, _, _ in packed] == list(chunks)
    for namespace, own, extra in packed:
        assert own[:4] == b"\x28\xb5\x2f\xfd"  # zstd frames
        assert inflate(own) == chunks[namespace].own
        assert (inflate(extra) if extra else b"") == chunks[namespace].extra
    # Rows stored before zstd hold zlib streams, read as they are (from PostgreSQL they come as memoryviews).
    legacy = zlib.compress(chunks["bookinfo"].own, 6)
    assert inflate(legacy) == inflate(memoryview(legacy)) == chunks["bookinfo"].own
    with pytest.raises(zlib.error):
        inflate(b"neither zstd nor zlib")


def _graph_with_idle_boxes(graph_type: str) -> dict:
    """``_graph`` plus a namespace holding only idle workloads of one app (two versions: an app box of its own)."""
    samples = bookinfo_requests() + both_reporters("unknown", "productpage", "productpage", 1.0)
    mesh = MeshContext(
        workloads=[
            WorkloadInfo(namespace="bookinfo", name="reviews-v9", app="reviews", version="v9"),
            WorkloadInfo(namespace="quiet", name="ghost-v1", app="ghost", version="v1"),
            WorkloadInfo(namespace="quiet", name="ghost-v2", app="ghost", version="v2"),
        ]
    )
    options = GraphOptions(
        graph_type=graph_type,  # type: ignore[arg-type]
        namespaces=frozenset({"bookinfo", "istio-system", "quiet"}),
        include_idle=True,
        box_by=ALL_BOXES,
    )
    return build_graph(GraphInputs(requests=samples, mesh=mesh), options, 1000, 60)


def _node_set(graph: dict) -> list[str]:
    return sorted(json.dumps(n, sort_keys=True) for n in graph["elements"]["nodes"])


@pytest.mark.parametrize("graph_type", GRAPH_TYPES)
def test_splicing_without_idle_nodes_equals_filtering_them_out(graph_type):
    graph = _graph_with_idle_boxes(graph_type)
    head, chunks = split_graph_by_namespace(graph)
    owns = [chunks[n].own for n in sorted(chunks)]
    assert all(has_idle_lines(own) for own in owns)
    expected = filter_graph(graph, None, False, ALL_BOXES)
    spliced = json.loads(splice_graph_json(head, owns, include_idle=False))
    assert _node_set(spliced) == _node_set(expected)
    assert _edge_set(spliced) == _edge_set(expected)
    assert not any(n["data"].get("isIdle") for n in spliced["elements"]["nodes"])
    if graph_type != "service":  # the service graph draws no idle workloads
        # The namespace of idle workloads only, and (app graphs) their app box, are really left out.
        assert any(n["data"].get("namespace") == "quiet" for n in graph["elements"]["nodes"])
        assert not any(n["data"].get("namespace") == "quiet" for n in spliced["elements"]["nodes"])
    seen: set[str] = set()
    for node in spliced["elements"]["nodes"]:  # parents still come first
        assert node["data"].get("parent") in seen | {None}
        seen.add(node["data"]["id"])
    everything = json.loads(splice_graph_json(head, owns))
    assert _node_set(everything) == _node_set(graph)


def test_chunks_stored_before_the_idle_lines_still_splice_and_assemble():
    graph = _graph("versionedApp")
    head, chunks = split_graph_by_namespace(graph)
    # The older layout: boxes, nodes (idle ones among them), edges.
    old_owns = []
    for namespace in sorted(chunks):
        boxes, nodes, edges, idle_boxes, idle_nodes = chunks[namespace].own.split(b"\n")
        old_owns.append(
            b"\n".join(
                (b",".join(x for x in (boxes, idle_boxes) if x), b",".join(x for x in (nodes, idle_nodes) if x), edges)
            )
        )
    assert not any(has_idle_lines(own) for own in old_owns)
    assert _node_set(json.loads(splice_graph_json(head, old_owns))) == _node_set(graph)
    assert assemble_graph(head, old_owns)["elements"]["nodes"] == graph["elements"]["nodes"]
