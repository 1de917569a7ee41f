"""Node identity per graph type: which nodes a row's identity labels stand for, as a path of hops.

Every counted row is mapped to a *path*: one hop (caller -> destination) or, when service nodes are injected, two
hops (caller -> service -> workload).  Which node a workload becomes depends on the graph type (an app, a versioned
app or the workload itself).  Paths are cached by the identity labels (:data:`IDENTITY_LABELS`), so a mesh with
thousands of edges and many response codes per edge resolves each edge once.

Before a path is resolved, Kiali's heuristics for Istio's telemetry quirks correct or drop the row
(:mod:`topology.graph.quirks`): a row they drop has an empty path.  An ambient waypoint proxy (given to the resolver
from the inventory) is always a workload node, and no service node is injected next to it: ztunnel reports the L4 hops
client -> waypoint and waypoint -> server, drawn workload to workload as Kiali draws them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from topology.graph.model import UNKNOWN, GraphOptions, Node, ServiceName, build_node_id, is_known
from topology.graph.quirks import (
    Destination,
    handle_destination,
    injects_service_node,
    is_bad_destination,
    is_bad_source,
)
from topology.graph.samples import IstioLabels

#: ``(cluster, namespace, workload)`` of the ambient waypoint proxies; cluster ``""`` matches any cluster.
WaypointKeys = frozenset[tuple[str, str, str]]

#: The labels that decide a row's path in every graph type (its *identity*).  App and version are read as Kiali reads
#: them: the canonical service and revision first (Istio derives them from ``service.istio.io/canonical-name`` and
#: ``-revision``, then ``app.kubernetes.io/name`` and ``/version``, then ``app`` and ``version``), and the ``app`` /
#: ``version`` labels only where telemetry lacks the canonical ones (:func:`read_app_version`).
IDENTITY_LABELS: tuple[str, ...] = (
    "source_cluster",
    "source_workload_namespace",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_app",
    "source_version",
    "destination_cluster",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_workload_namespace",
    "destination_workload",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_app",
    "destination_version",
)


@dataclass(frozen=True, slots=True)
class Hop:
    """One edge of a sample's path, with fresh node prototypes for both ends (inserted on first use)."""

    source: Node
    target: Node


def read_app_version(get: Callable[[str], str | None], side: str) -> tuple[str, str]:
    """``(app, version)`` of one side (``source`` or ``destination``) of a row, ``unknown`` when Istio has none.

    The canonical service/revision labels win; ``<side>_app`` / ``<side>_version`` fill in only for telemetry without
    them (Istio before 1.5, hand-written rows).
    """
    app = get(side + "_canonical_service") or UNKNOWN
    if app == UNKNOWN:
        app = get(side + "_app") or UNKNOWN
    version = get(side + "_canonical_revision") or UNKNOWN
    if version == UNKNOWN:
        version = get(side + "_version") or UNKNOWN
    return app, version


class PathResolver:
    """Map a sample's labels to its path of hops for one graph type (cached by identity labels).

    Nodes are created once per id and shared by every hop that touches them, so the traffic map built
    with a resolver holds the resolver's node objects: use one resolver per traffic map.
    """

    def __init__(self, options: GraphOptions, waypoints: WaypointKeys = frozenset()) -> None:
        """Create a resolver for ``options`` (graph type and service-node injection) and the mesh's ``waypoints``."""
        self.options = options
        self.waypoints = waypoints
        self._cache: dict[tuple[str, ...], tuple[Hop, ...]] = {}
        self._nodes: dict[str, Node] = {}
        #: ``(cluster, namespace, workload, app, version) -> node``: the node :meth:`workload_node` returns.
        self._workload_nodes: dict[tuple[str, str, str, str, str], Node] = {}
        self._identity = operator.itemgetter(*IDENTITY_LABELS)

    def resolve(self, labels: IstioLabels) -> tuple[Hop, ...]:
        """Return the hops for a sample row (empty when it carries no usable identity)."""
        try:
            key: tuple[str, ...] = self._identity(labels)
        except KeyError:
            get = labels.get
            # An absent label is not an `unknown` one for the quirk heuristics: the key keeps them apart.
            key = tuple([get(name) for name in IDENTITY_LABELS])  # type: ignore[misc]
        hops = self._cache.get(key)
        if hops is None:
            hops = self._compute(labels)
            self._cache[key] = hops
        return hops

    def workload_node(self, cluster: str, namespace: str, workload: str, app: str, version: str) -> Node:
        """Return the node standing for a workload in this graph type (app, versioned app or workload)."""
        key = (cluster, namespace, workload, app, version)
        node = self._workload_nodes.get(key)
        if node is None:
            node = self._workload_nodes[key] = self._new_workload_node(cluster, namespace, workload, app, version)
        node.workloads.add(workload)
        return node

    def is_waypoint(self, cluster: str, namespace: str, workload: str) -> bool:
        """True when the workload is an ambient waypoint proxy."""
        waypoints = self.waypoints
        return bool(waypoints) and (
            (cluster, namespace, workload) in waypoints or ("", namespace, workload) in waypoints
        )

    def _new_workload_node(self, cluster: str, namespace: str, workload: str, app: str, version: str) -> Node:
        graph_type = self.options.graph_type
        if self.is_waypoint(cluster, namespace, workload):
            app = version = UNKNOWN  # waypoints are not apps: a workload node in every graph type (as Kiali)
        if graph_type != "workload" and is_known(app):
            versioned = graph_type in ("versionedApp", "service") and is_known(version)
            node_id = build_node_id("app", cluster, namespace, app, version, versioned=versioned)
        else:
            node_id = build_node_id("workload", cluster, namespace, workload)
        node = self._nodes.get(node_id)
        if node is None:
            if node_id.startswith("wl|"):
                node = Node(
                    id=node_id,
                    node_type="workload",
                    cluster=cluster,
                    namespace=namespace,
                    workload=workload,
                    app=app if is_known(app) else "",
                    version=version if is_known(version) else "",
                )
            else:
                node = Node(
                    id=node_id,
                    node_type="app",
                    cluster=cluster,
                    namespace=namespace,
                    workload=workload if graph_type != "app" else "",
                    app=app,
                    version=version if node_id.startswith("vapp|") else "",
                )
            self._nodes[node_id] = node
        return node

    def service_node(self, cluster: str, namespace: str, name: str) -> Node:
        """Return the service node for ``name`` in ``namespace``."""
        node_id = build_node_id("service", cluster, namespace, name)
        node = self._nodes.get(node_id)
        if node is None:
            node = Node(id=node_id, node_type="service", cluster=cluster, namespace=namespace, service=name)
            node.add_dest_service(ServiceName(cluster, namespace, name))
            self._nodes[node_id] = node
        return node

    def unknown_node(self) -> Node:
        """Return the single ``unknown`` node: the caller Istio could not identify (a destination Istio could not
        identify is the ``unknown`` service node of its namespace instead)."""
        node = self._nodes.get(UNKNOWN)
        if node is None:
            node = self._nodes[UNKNOWN] = Node(id=UNKNOWN, node_type="unknown", cluster=UNKNOWN, namespace=UNKNOWN)
        return node

    def _compute(self, labels: IstioLabels) -> tuple[Hop, ...]:
        get = cast("Callable[[str], str | None]", labels.get)
        source_cluster_label = get("source_cluster")
        source_cluster = source_cluster_label or UNKNOWN
        source_namespace = get("source_workload_namespace") or UNKNOWN
        source_workload = get("source_workload") or UNKNOWN
        source_app, source_version = read_app_version(get, "source")
        if is_bad_source(source_cluster_label, source_namespace, source_workload, source_app):
            return ()
        source_is_waypoint = False
        if source_workload == UNKNOWN:
            source = self.unknown_node()
        else:
            source_is_waypoint = self.is_waypoint(source_cluster, source_namespace, source_workload)
            source = self.workload_node(source_cluster, source_namespace, source_workload, source_app, source_version)

        dest_cluster_label = get("destination_cluster")
        svc_name = get("destination_service_name")
        host = get("destination_service") or UNKNOWN
        if not svc_name:  # telemetry without the label (older Istio): the host names the service
            svc_name = host
        svc_namespace = get("destination_service_namespace") or UNKNOWN
        workload_namespace = get("destination_workload_namespace") or UNKNOWN
        if workload_namespace == UNKNOWN:
            workload_namespace = svc_namespace
        destination = handle_destination(
            source_cluster,
            Destination(
                dest_cluster_label or UNKNOWN,
                svc_namespace,
                svc_name,
                workload_namespace,
                get("destination_workload") or UNKNOWN,
                *read_app_version(get, "destination"),
            ),
            host,
        )
        if is_bad_destination(dest_cluster_label is not None, destination, host):
            return ()
        dest_cluster, svc_namespace, svc_name = destination.cluster, destination.service_namespace, destination.service

        if destination.workload == UNKNOWN:
            if svc_name == UNKNOWN and source.id == UNKNOWN:
                return ()
            # An unknown destination (404 NR, no route) is the `unknown` *service* of its namespace, never the unknown
            # caller (Kiali's `svc_<cluster>_<namespace>_unknown`).
            return (Hop(source, self.service_node(dest_cluster, svc_namespace, svc_name)),)

        dest_is_waypoint = self.is_waypoint(dest_cluster, destination.workload_namespace, destination.workload)
        dest = self.workload_node(
            dest_cluster, destination.workload_namespace, destination.workload, destination.app, destination.version
        )
        if svc_name == UNKNOWN:
            return (Hop(source, dest),)
        dest.add_dest_service(ServiceName(dest_cluster, svc_namespace, svc_name))
        if not self.options.with_service_nodes or not injects_service_node(
            svc_name, source_is_waypoint, dest_is_waypoint
        ):
            return (Hop(source, dest),)
        service = self.service_node(dest_cluster, svc_namespace, svc_name)
        return (Hop(source, service), Hop(service, dest))
