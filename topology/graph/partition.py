"""Split a stored graph by namespace so a request reads only the namespaces it asks for (pure; no Django).

A snapshot graph covers the whole cluster, but most requests want one or a few namespaces. Each namespace's
share is therefore stored as two chunks of JSON fragments (comma-joined ``{"data": ...}`` objects, one fragment
per line):

* **own**: the namespace's boxes, its other nodes, and the edges whose source is one of its nodes. The own
  chunks of all namespaces together are the whole graph, each element exactly once. Idle nodes, and the boxes
  that hold nothing but idle nodes, are on lines of their own (after the edges), so the default request (every
  namespace, no idle nodes) is spliced from the other lines without parsing (:func:`splice_graph_json`).
* **extra**: what a request scoped to the namespace needs from elsewhere: edges from other namespaces' nodes
  into it, and the nodes at the far end of its edges (with their boxes). These are copies, read only by scoped
  requests.

Boxes without a namespace (cluster boxes) sit in the ``""`` namespace, which every read includes. A scoped read
assembles own + extra of the requested namespaces, drops duplicates and sorts nodes as the wire format does, so
:func:`topology.graph.filtering.filter_graph` gives exactly what it gives on the whole graph.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import zstandard

from topology.graph.wire import decode_graph_json, encode_graph_json, node_order_key

#: The graph's own members besides ``elements`` (stored once, not per namespace).
HEAD_KEYS = ("timestamp", "duration", "graphType")
_OWN_LINES = 5  # boxes, nodes, edges, idle-only boxes, idle nodes (chunks stored before had the first three)
_EXTRA_LINES = 2  # in-edges, far-end nodes


@dataclass(frozen=True)
class NamespaceChunks:
    """The encoded share of one namespace: ``own`` always, ``extra`` only when it links to other namespaces."""

    own: bytes
    extra: bytes


#: What separates two elements in an encoded element list, and what opens and closes one element.
_BETWEEN = b'},{"data":'
_OPEN, _CLOSE = b'{"data":', b"}"


def encode_data_pieces(elements: list[dict[str, Any]]) -> list[bytes]:
    """Each ``{"data": ...}`` element's ``data`` as JSON bytes, cut from one encoding of the whole list.

    The encoded list is ``[{"data":A},{"data":B}...]``: cutting it at ``},{"data":`` gives ``A``, ``B``... A string
    cannot hold that separator (its quote would be escaped); a nested ``{"data": ...}`` object could, so the count
    is checked, and when it differs each element is encoded alone. :func:`join_elements` puts pieces back together.
    """
    if not elements:
        return []
    for element in elements:
        if len(element) != 1 or "data" not in element:
            raise ValueError("a graph element must be {'data': {...}}")
    body = encode_graph_json(elements)
    pieces = body[len(_OPEN) + 1 : -len(_CLOSE) - 1].split(_BETWEEN)
    if len(pieces) != len(elements):
        return [encode_graph_json(element)[len(_OPEN) : -len(_CLOSE)] for element in elements]
    return pieces


def join_elements(pieces: Iterable[bytes]) -> bytes:
    """The elements whose ``data`` pieces are given, as comma-joined ``{"data": ...}`` JSON (b"" for none)."""
    joined = _BETWEEN.join(pieces)
    return _OPEN + joined + _CLOSE if joined else b""


def split_graph_by_namespace(graph: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, NamespaceChunks]]:
    """The graph's head (timestamp, duration, graphType) and the chunks of every namespace it holds.

    Nodes and edges are encoded once each (:func:`encode_data_pieces`); each namespace's lists (own boxes, nodes and
    edges; copied in-edges and far ends) are then joined from the pieces, so a copy reuses its element's bytes.
    """
    elements = graph.get("elements", {})
    nodes: list[dict[str, Any]] = elements.get("nodes", [])
    edges: list[dict[str, Any]] = elements.get("edges", [])
    namespace_of: dict[str, str] = {}
    parent_of: dict[str, str] = {}
    encoded: dict[str, bytes] = {}
    for node, piece in zip(nodes, encode_data_pieces(nodes), strict=True):
        data = node["data"]
        node_id = data["id"]
        namespace_of[node_id] = data.get("namespace") or ""
        if "parent" in data:
            parent_of[node_id] = data["parent"]
        encoded[node_id] = piece
    # A box is drawn without idle nodes when it holds a node that is not idle (filter_graph keeps exactly those).
    active_boxes: set[str] = set()
    for node in nodes:
        data = node["data"]
        if not data.get("isBox") and not data.get("isIdle"):
            box_id = data.get("parent")
            while box_id is not None and box_id not in active_boxes:
                active_boxes.add(box_id)
                box_id = parent_of.get(box_id)
    boxes: dict[str, list[bytes]] = {}
    members: dict[str, list[bytes]] = {}
    idle_boxes: dict[str, list[bytes]] = {}
    idle_members: dict[str, list[bytes]] = {}
    for node in nodes:
        data = node["data"]
        node_id = data["id"]
        if data.get("isBox"):
            share = boxes if node_id in active_boxes else idle_boxes
        else:
            share = idle_members if data.get("isIdle") else members
        share.setdefault(namespace_of[node_id], []).append(encoded[node_id])
    own_edges: dict[str, list[bytes]] = {}
    in_edges: dict[str, list[bytes]] = {}
    far_ends: dict[str, dict[str, bytes]] = {}

    def add_far_end(namespace: str, node_id: str) -> None:
        # The node and its boxes up to (not including) the namespace-less cluster boxes every read has anyway.
        wanted = far_ends.setdefault(namespace, {})
        current: str | None = node_id
        while current is not None and namespace_of.get(current) and current not in wanted:
            wanted[current] = encoded[current]
            current = parent_of.get(current)

    for edge, piece in zip(edges, encode_data_pieces(edges), strict=True):
        data = edge["data"]
        source_ns = namespace_of.get(data["source"], "")
        target_ns = namespace_of.get(data["target"], "")
        own_edges.setdefault(source_ns, []).append(piece)
        if target_ns != source_ns:
            in_edges.setdefault(target_ns, []).append(piece)
            add_far_end(source_ns, data["target"])
            add_far_end(target_ns, data["source"])

    # Compact JSON never holds a raw newline (it is escaped inside strings), so lines separate the lists.
    chunks: dict[str, NamespaceChunks] = {}
    for namespace in sorted(set(namespace_of.values()) | set(own_edges) | set(in_edges)):
        shares = (
            boxes.get(namespace, ()),
            members.get(namespace, ()),
            own_edges.get(namespace, ()),
            idle_boxes.get(namespace, ()),
            idle_members.get(namespace, ()),
        )
        own = b"\n".join(join_elements(share) for share in shares)
        incoming, far = in_edges.get(namespace, ()), far_ends.get(namespace, {}).values()
        extra = b"\n".join((join_elements(incoming), join_elements(far))) if incoming or far else b""
        chunks[namespace] = NamespaceChunks(own=own, extra=extra)
    head = {key: graph[key] for key in HEAD_KEYS if key in graph}
    return head, chunks


#: A namespace's stored share: (namespace, compressed own chunk, compressed extra chunk or b"").
PackedPart = tuple[str, bytes, bytes]

#: zstd level 3: 5x faster than zlib level 6 on graph JSON, and a little smaller (see docs/benchmarks.md).
ZSTD_LEVEL = 3
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def pack_chunks(chunks: dict[str, NamespaceChunks]) -> list[PackedPart]:
    """Compress each namespace's chunks with zstd (which releases the GIL, so a thread can do it)."""
    compress = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress  # one per call: compressors are not thread-safe
    return [
        (namespace, compress(chunk.own), compress(chunk.extra) if chunk.extra else b"")
        for namespace, chunk in chunks.items()
    ]


class ChunkInflater:
    """Decompresses stored chunks: zstd frames, and the zlib streams stored before zstd (told apart by magic).

    One instance per thread (zstd decompression contexts are not thread-safe).
    """

    def __init__(self) -> None:
        self._zstd = zstandard.ZstdDecompressor()

    def inflate(self, chunk: bytes) -> bytes:
        """The chunk's JSON fragments."""
        if chunk[:4] == _ZSTD_MAGIC:
            return self._zstd.decompress(chunk)
        return zlib.decompress(chunk)


@dataclass(frozen=True)
class PackedGraph:
    """One graph as stored: its head, counts and compressed namespace parts."""

    graph_type: str
    window: int
    head: dict[str, Any]
    node_count: int
    edge_count: int
    parts: list[PackedPart]
    #: False for a graph drawn without service nodes (Kiali's ``injectServiceNodes=false``).
    inject_service_nodes: bool = True


def pack_graph(
    graph_type: str, window: int, graph: dict[str, Any], inject_service_nodes: bool = True
) -> tuple[PackedGraph, dict[str, NamespaceChunks]]:
    """The stored form of ``graph`` with its parts still to compress (see :func:`pack_chunks`)."""
    head, chunks = split_graph_by_namespace(graph)
    elements = graph["elements"]
    packed = PackedGraph(
        graph_type, window, head, len(elements["nodes"]), len(elements["edges"]), [], inject_service_nodes
    )
    return packed, chunks


def _lines(chunk: bytes, count: int) -> list[bytes]:
    lines = chunk.split(b"\n") if chunk else []
    return lines + [b""] * (count - len(lines))


def has_idle_lines(own: bytes) -> bool:
    """True when an own chunk keeps its idle nodes apart (every chunk stored since; older ones have 3 lines)."""
    return own.count(b"\n") == _OWN_LINES - 1


def splice_graph_json(head: Mapping[str, Any], owns: Iterable[bytes], include_idle: bool = True) -> bytes:
    """The whole graph as JSON bytes from every namespace's own chunk, without parsing: boxes first, then nodes.

    Without ``include_idle`` the idle nodes and the boxes holding only idle nodes are left out: the graph
    :func:`~topology.graph.filtering.filter_graph` gives for every namespace and every box kind, element for element
    (only the order of the nodes differs). Chunks must then be :func:`has_idle_lines` ones.
    """
    box_parts: list[bytes] = []
    node_parts: list[bytes] = []
    edge_parts: list[bytes] = []
    for own in owns:
        box_line, node_line, edge_line, idle_box_line, idle_node_line = _lines(own, _OWN_LINES)
        box_parts.append(box_line)
        node_parts.append(node_line)
        edge_parts.append(edge_line)
        if include_idle:
            box_parts.append(idle_box_line)
            node_parts.append(idle_node_line)
    nodes = b",".join(part for part in box_parts + node_parts if part)
    edges = b",".join(part for part in edge_parts if part)
    prefix = encode_graph_json(dict(head))[:-1]
    separator = b"," if len(prefix) > 1 else b""
    return prefix + separator + b'"elements":{"nodes":[' + nodes + b'],"edges":[' + edges + b"]}}"


def assemble_graph(head: Mapping[str, Any], owns: Iterable[bytes], extras: Iterable[bytes] = ()) -> dict[str, Any]:
    """The graph made of the given chunks: elements de-duplicated by id, nodes in wire order (boxes first)."""
    node_lines: list[bytes] = []
    edge_lines: list[bytes] = []
    for own in owns:
        box_line, node_line, edge_line, idle_box_line, idle_node_line = _lines(own, _OWN_LINES)
        node_lines += (box_line, node_line, idle_box_line, idle_node_line)
        edge_lines.append(edge_line)
    for extra in extras:
        in_line, far_line = _lines(extra, _EXTRA_LINES)
        edge_lines.append(in_line)
        node_lines.append(far_line)
    # One parse per kind; a copy (far end, in-edge) parses to an equal element, so keeping either is right.
    nodes = {n["data"]["id"]: n for n in decode_graph_json(b"[" + b",".join(x for x in node_lines if x) + b"]")}
    edges = {e["data"]["id"]: e for e in decode_graph_json(b"[" + b",".join(x for x in edge_lines if x) + b"]")}
    graph = dict(head)
    graph["elements"] = {
        "nodes": sorted(nodes.values(), key=lambda node: node_order_key(node["data"])),
        "edges": list(edges.values()),
    }
    return graph
