"""Pure post-processing of a stored graph for one request: namespace scope, idle nodes, boxes and hidden nodes.

Snapshots store each graph for the whole cluster with idle nodes and every kind of box; a request narrows it.
A node outside the requested namespaces stays when an edge links it to one inside, flagged ``isOutside`` as
Kiali does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from topology.graph.expressions import NodePredicate

BOX_KINDS = ("cluster", "namespace", "app")
#: Boxes the app graph types draw whatever ``boxBy`` asks (Kiali's config vendor boxes apps for them).
IMPLIED_BOXES = frozenset({"app"})


def graph_needs_filtering(
    graph_namespaces: Collection[str],
    namespaces: Collection[str] | None,
    include_idle: bool,
    box_by: Collection[str],
) -> bool:
    """False when the stored graph already is the requested one (the API then sends the stored bytes)."""
    all_namespaces = namespaces is None or set(graph_namespaces) <= set(namespaces)
    return not (all_namespaces and include_idle and set(BOX_KINDS) <= set(box_by))


def filter_graph(
    graph: Mapping[str, Any],
    namespaces: Collection[str] | None,
    include_idle: bool,
    box_by: Collection[str],
) -> dict[str, Any]:
    """Return the part of ``graph`` the request asks for (``namespaces`` None = every namespace)."""
    wanted = set(namespaces) if namespaces is not None else None
    nodes = graph.get("elements", {}).get("nodes", [])
    edges = graph.get("elements", {}).get("edges", [])
    by_id: dict[str, dict[str, Any]] = {n["data"]["id"]: n["data"] for n in nodes}

    def in_scope(data: Mapping[str, Any]) -> bool:
        return (wanted is None or data.get("namespace") in wanted) and (include_idle or not data.get("isIdle"))

    kept_ids = {node_id for node_id, data in by_id.items() if not data.get("isBox") and in_scope(data)}
    kept_edges = []
    outside: set[str] = set()
    for edge in edges:
        source, target = edge["data"]["source"], edge["data"]["target"]
        if source in kept_ids or target in kept_ids:
            kept_edges.append(edge)
            for end in (source, target):
                if end not in kept_ids:
                    outside.add(end)
    kept_ids |= outside
    # Boxes: keep the requested kinds that contain a kept node; re-parent children of dropped boxes.  App boxes are
    # implied by the app and versioned-app graph types, whatever `boxBy` says (`none` included), as in Kiali.
    wanted_boxes = set(box_by) | (IMPLIED_BOXES if graph.get("graphType") in ("app", "versionedApp") else set())

    def visible_parent(data: Mapping[str, Any]) -> str | None:
        parent = data.get("parent")
        while parent:
            box = by_id.get(parent)
            if box is None:
                return None
            if box.get("isBox") in wanted_boxes:
                return str(parent)
            parent = box.get("parent")
        return None

    out_nodes: list[dict[str, Any]] = []
    used_boxes: set[str] = set()
    for node_id in kept_ids:
        data = by_id[node_id]
        parent = visible_parent(data)
        changed = parent != data.get("parent") or (node_id in outside and wanted is not None)
        if changed:
            data = dict(data)
            if parent is None:
                data.pop("parent", None)
            else:
                data["parent"] = parent
            namespace = data.get("namespace")
            if node_id in outside and wanted is not None and namespace not in wanted and namespace != "unknown":
                data["isOutside"] = True  # a real namespace outside the request; `unknown` never is (Kiali)
        out_nodes.append({"data": data})
        box_id = parent
        while box_id:
            if box_id in used_boxes:
                break
            used_boxes.add(box_id)
            box_id = visible_parent(by_id[box_id])
    for box_id in used_boxes:
        data = by_id[box_id]
        parent = visible_parent(data)
        if parent != data.get("parent"):
            data = dict(data)
            if parent is None:
                data.pop("parent", None)
            else:
                data["parent"] = parent
        out_nodes.append({"data": data})
    order = {node_id: index for index, node_id in enumerate(by_id)}
    out_nodes.sort(key=lambda node: order[node["data"]["id"]])
    result = {key: value for key, value in graph.items() if key != "elements"}
    result["elements"] = {"nodes": out_nodes, "edges": kept_edges}
    return result


def hide_elements(graph: Mapping[str, Any], hide: NodePredicate) -> dict[str, Any]:
    """Remove what a hide expression matches, as the page hides it (``applyFilters`` in graph.js).

    Matched nodes go with everything inside them (a hidden box hides its members) and every edge touching them;
    matched edges go; then boxes whose members all went, innermost first.
    """
    nodes = graph.get("elements", {}).get("nodes", [])
    edges = graph.get("elements", {}).get("edges", [])
    by_id: dict[str, Mapping[str, Any]] = {n["data"]["id"]: n["data"] for n in nodes}
    children: dict[str, list[str]] = {}
    for node_id, data in by_id.items():
        parent = data.get("parent")
        if parent in by_id:
            children.setdefault(str(parent), []).append(node_id)

    removed: set[str] = set()

    def remove(node_id: str) -> None:
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current not in removed:
                removed.add(current)
                stack.extend(children.get(current, ()))

    for node_id, data in by_id.items():
        if node_id not in removed and hide(data, True):
            remove(node_id)

    def depth(node_id: str) -> int:
        count, parent = 0, by_id[node_id].get("parent")
        while parent in by_id and count < len(by_id):
            count, parent = count + 1, by_id[str(parent)].get("parent")
        return count

    for box_id in sorted(children, key=depth, reverse=True):
        if box_id not in removed and all(child in removed for child in children[box_id]):
            removed.add(box_id)
    kept_edges = [
        edge
        for edge in edges
        if edge["data"]["source"] not in removed
        and edge["data"]["target"] not in removed
        and not hide(edge["data"], False)
    ]
    result = {key: value for key, value in graph.items() if key != "elements"}
    result["elements"] = {"nodes": [n for n in nodes if n["data"]["id"] not in removed], "edges": kept_edges}
    return result
