"""The box step: compound parent nodes grouping nodes by app, namespace and cluster (Kiali ``boxBy``).

Boxes nest innermost first: app boxes (only for nodes of one app with two or more members), then namespace
boxes, then cluster boxes; a node's ``parent`` is its innermost box, a box's ``parent`` the next one out.
Namespace and cluster boxes are drawn only when the graph spans more than one namespace / cluster, and the
``unknown`` namespace/cluster is never boxed (Kiali's rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from topology.graph.model import UNKNOWN, BoxNode, TrafficMap, is_known
from topology.graph.steps import StepContext
from topology.health import HealthStatus


@dataclass(slots=True)
class _Member:
    id: str
    cluster: str
    namespace: str
    app: str
    parent: str | None


def build_box_id(kind: str, cluster: str, namespace: str = "", app: str = "") -> str:
    """Readable id of a box: ``box|app|<cluster>|<ns>|<app>``, ``box|namespace|<cluster>|<ns>``, ..."""
    if kind == "app":
        return f"box|app|{cluster}|{namespace}|{app}"
    if kind == "namespace":
        return f"box|namespace|{cluster}|{namespace}"
    return f"box|cluster|{cluster}"


class BoxStep:
    """Create box nodes in ``tm.boxes`` and set ``parent`` on their members."""

    name = "box"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Box by app (requested, or implied by app graphs as in Kiali), namespace and cluster."""
        options = ctx.options
        tm.boxes.clear()
        for node in tm.nodes.values():
            node.parent = None
        box_by = set(options.box_by)
        if options.graph_type in ("app", "versionedApp"):
            box_by.add("app")
        if "app" in box_by and options.graph_type != "service":
            self._box_apps(tm)
        if "namespace" in box_by:
            self._box_outer(tm, "namespace")
        if "cluster" in box_by:
            self._box_outer(tm, "cluster")

    @staticmethod
    def _box_apps(tm: TrafficMap) -> None:
        groups: dict[tuple[str, str, str], list[str]] = {}
        for node in tm.nodes.values():
            if node.node_type in ("app", "workload") and is_known(node.app):
                groups.setdefault((node.cluster, node.namespace, node.app), []).append(node.id)
        for (cluster, namespace, app), members in groups.items():
            if len(members) < 2:
                continue
            box = BoxNode(build_box_id("app", cluster, namespace, app), "app", cluster, namespace, app)
            statuses = []
            for member_id in members:
                member = tm.nodes[member_id]
                member.parent = box.id
                box.is_outside = box.is_outside or member.is_outside
                box.has_missing_sidecar = box.has_missing_sidecar or member.has_missing_sidecar
                if member.health is not None:
                    statuses.append(member.health)
            if statuses:
                box.health = max(statuses, key=lambda h: _STATUS_RANK.get(h.status, 0))
            tm.boxes[box.id] = box

    @staticmethod
    def _box_outer(tm: TrafficMap, kind: str) -> None:
        # top-level members: nodes and boxes without a parent yet
        members: list[_Member] = [
            _Member(n.id, n.cluster, n.namespace, n.app, n.parent) for n in tm.nodes.values() if n.parent is None
        ]
        members += [
            _Member(b.id, b.cluster, b.namespace, b.app, b.parent) for b in tm.boxes.values() if b.parent is None
        ]
        groups: dict[tuple[str, str], list[_Member]] = {}
        for member in members:
            if kind == "namespace":
                if member.namespace in (UNKNOWN, "") or member.cluster == "":
                    continue
                groups.setdefault((member.cluster, member.namespace), []).append(member)
            else:
                if member.cluster in (UNKNOWN, ""):
                    continue
                groups.setdefault((member.cluster, ""), []).append(member)
        if len(groups) < 2:
            return
        for (cluster, namespace), group in groups.items():
            box = BoxNode(build_box_id(kind, cluster, namespace), kind, cluster, namespace)
            for member in group:
                if member.id in tm.nodes:
                    tm.nodes[member.id].parent = box.id
                else:
                    tm.boxes[member.id].parent = box.id
            tm.boxes[box.id] = box


_STATUS_RANK = {
    HealthStatus.NA.value: 0,
    HealthStatus.HEALTHY.value: 1,
    HealthStatus.NOT_READY.value: 2,
    HealthStatus.DEGRADED.value: 3,
    HealthStatus.FAILURE.value: 4,
}
