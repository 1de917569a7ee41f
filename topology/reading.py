"""Read side of the snapshots: find the snapshot for a moment and shape its graph or health for a request.

Requests never query Prometheus: everything here reads stored snapshots, and only complete ones
(``GraphSnapshot.objects``): a snapshot whose windows are still being built, or one that failed, is never served.
When the metrics source is failing, the last complete snapshot is served and marked stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from inventory.clusters import ClusterChoice
from inventory.models import Cluster
from topology.graph.derive import collapse_service_nodes
from topology.graph.expressions import NodePredicate
from topology.graph.filtering import BOX_KINDS, filter_graph, graph_needs_filtering, hide_elements
from topology.graph.model import GRAPH_TYPES
from topology.graph.partition import assemble_graph, has_idle_lines, splice_graph_json
from topology.graph.pipeline import pause_cyclic_gc
from topology.graph.restriction import restrict_graph
from topology.graph.wire import encode_graph_json
from topology.models import GraphSnapshot, MetricsSourceStatus, SnapshotGraph
from topology.telemetry.targets import TARGETS_DOWN


class SnapshotRequestError(ValueError):
    """A request names something that does not exist (cluster, graph type, window)."""


def pick_cluster(choice: ClusterChoice) -> Cluster:
    """The cluster ``choice`` names (see :class:`inventory.clusters.ClusterChoice`) with its metrics source status."""
    cluster = choice.candidates().select_related("metrics_status").first()
    if cluster is None:
        raise SnapshotRequestError(str(choice.missing_error()))
    return cluster


def find_snapshot(cluster: Cluster, at: datetime | None) -> GraphSnapshot | None:
    """The latest snapshot taken at or before ``at`` (default now), else the earliest after it."""
    # The health and metrics JSON grow with the mesh (hundreds of KB); graph requests never read them.
    found = _closest(GraphSnapshot.objects.filter(cluster=cluster).defer("health", "metrics"), at)
    if found is not None:
        found.cluster = cluster  # the caller's instance (and what it already loaded), not another query
    return found


def _closest(snapshots: QuerySet[GraphSnapshot], at: datetime | None) -> GraphSnapshot | None:
    if at is None:
        return snapshots.order_by("-taken_at").first()
    before = snapshots.filter(taken_at__lte=at).order_by("-taken_at").first()
    return before or snapshots.filter(taken_at__gt=at).order_by("taken_at").first()


def find_cluster_snapshot(choice: ClusterChoice, at: datetime | None) -> tuple[Cluster, GraphSnapshot | None]:
    """:func:`pick_cluster` and :func:`find_snapshot` in one query when the cluster has a snapshot (the hot path)."""
    snapshots = (
        GraphSnapshot.objects.filter(cluster=Subquery(choice.candidates().values("pk")))
        .select_related("cluster", "cluster__metrics_status")
        .defer("health", "metrics")
    )
    found = _closest(snapshots, at)
    if found is not None:
        return found.cluster, found
    return pick_cluster(choice), None  # says which cluster has no snapshot yet, or that none is configured


def pick_window(snapshot: GraphSnapshot, seconds: int | None) -> int:
    """The stored window closest to the requested one (default: the health window)."""
    windows = snapshot.windows or [snapshot.health_window]
    if seconds is None:
        return snapshot.health_window if snapshot.health_window in windows else windows[0]
    return min(windows, key=lambda w: (abs(w - seconds), w))


def describe_source_failure(status: MetricsSourceStatus, detailed: bool) -> str:
    """What a user is told of a failing metrics source.

    ``detailed`` (mesh admins): the recorded error text, credentials already redacted by the client. Everyone else
    learns only which source fails and since when: an error text can name internal hosts, paths and a proxy's
    own answer.
    """
    if detailed:
        return status.last_error
    what = "Prometheus" if status.source == GraphSnapshot.Source.PROMETHEUS else "Metrics source"
    what = f"{what} unavailable"
    if status.last_error.startswith(TARGETS_DOWN):  # the job and target names stay with the admins
        what = f"{TARGETS_DOWN}: its targets are down"
    since = status.last_error_at or status.last_attempt
    return f"{what} since {since.isoformat(timespec='seconds')}" if since else what


@dataclass(frozen=True)
class SnapshotMeta:
    """What a response says about the snapshot it came from.

    ``detailed_errors`` says whether the reader may see the metrics source's error text
    (:func:`describe_source_failure`).
    """

    snapshot: GraphSnapshot
    now: datetime
    status: MetricsSourceStatus | None
    detailed_errors: bool = False

    @property
    def age_seconds(self) -> float:
        return max(0.0, (self.now - self.snapshot.taken_at).total_seconds())

    @property
    def stale(self) -> bool:
        """True when the source is failing now or the newest snapshot is older than three intervals."""
        failing = self.status is not None and self.status.failing
        too_old = self.age_seconds > 3 * settings.MESH_UI_SNAPSHOT_INTERVAL
        return failing or too_old

    def etag_parts(self) -> tuple[Any, ...]:
        """What ``as_dict`` says that can change, without ``ageSeconds``, which grows every second: an answer's
        ``ETag`` built from these stays the same while the snapshot and what is said of it do."""
        data = self.as_dict()
        return (data["id"], data["stale"], data.get("sourceError"))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.snapshot.pk,
            "cluster": self.snapshot.cluster.name,
            "takenAt": self.snapshot.taken_at.isoformat(),
            "ageSeconds": round(self.age_seconds, 1),
            "source": self.snapshot.source,
            "stale": self.stale,
        }
        if self.status is not None and self.status.failing:
            data["sourceError"] = describe_source_failure(self.status, self.detailed_errors)
        if self.snapshot.on_demand:  # built for a request (topology.on_demand), read at its queryTime
            data["onDemand"] = True
            data["queryTime"] = (self.snapshot.telemetry_at or self.snapshot.taken_at).isoformat()
        return data


def build_meta(snapshot: GraphSnapshot, at: datetime | None, detailed_errors: bool = False) -> SnapshotMeta:
    """What to say about ``snapshot`` when read for the moment ``at`` (None: now).

    ``detailed_errors``: the reader may see the metrics source's error text (mesh admins).
    """
    # Replaying history: age is measured from the moment asked for, and a past failure is no longer news.
    if at is not None:
        return SnapshotMeta(snapshot=snapshot, now=at, status=None)
    cluster = snapshot.cluster
    if Cluster.metrics_status.is_cached(cluster):  # loaded by pick_cluster
        status: MetricsSourceStatus | None = getattr(cluster, "metrics_status", None)
    else:
        status = MetricsSourceStatus.objects.filter(cluster_id=snapshot.cluster_id).first()
    return SnapshotMeta(snapshot=snapshot, now=timezone.now(), status=status, detailed_errors=detailed_errors)


def read_graph_json(
    snapshot: GraphSnapshot,
    graph_type: str,
    window: int,
    namespaces: list[str] | None,
    include_idle: bool,
    box_by: list[str],
    meta: SnapshotMeta,
    hide: NodePredicate | None = None,
    granted: Collection[str] | None = None,
    derive: Derivation | None = None,
    inject_service_nodes: bool = True,
) -> bytes:
    """The graph as JSON bytes with a ``snapshot`` member; the stored bytes untouched when no filter applies.

    ``inject_service_nodes`` False reads the graph stored without service nodes (Kiali's ``injectServiceNodes=false``;
    the service graph has only one). Where none is stored it is the graph with service nodes collapsed by
    :func:`~topology.graph.derive.collapse_service_nodes`: exactly the same answer where the snapshot skipped it
    (``topology.graph.exactness``), proportional where a service had several callers and several backends in a
    snapshot stored before those graphs were, or one thinned past ``MESH_UI_EXACT_GRAPHS_MAX_AGE``.

    The whole graph, with or without idle nodes (the default request), is spliced from the stored fragments without
    parsing them; other requests parse the parts they need and filter them.

    ``hide`` (from :func:`parse_hide`) removes the nodes it matches, their edges and boxes left empty.

    ``granted`` (None: every namespace) is what the user may read: then only those namespaces' parts are read, and
    everything else collapses into one opaque node per cluster (:func:`topology.graph.restriction.restrict_graph`);
    ``namespaces`` must be among them (the caller refuses others) and defaults to all of them.

    ``derive`` (a :class:`Derivation`: no injected service nodes, a node graph, rate options) is applied to the
    whole graph before the namespace filter; its answers are cached (``DERIVED_CACHE_SECONDS``) by snapshot, graph,
    request and grants, since a snapshot never changes.
    """
    if graph_type not in GRAPH_TYPES:
        raise SnapshotRequestError(f"graphType must be one of {', '.join(GRAPH_TYPES)}")
    meta_json = json.dumps(meta.as_dict(), separators=(",", ":")).encode()
    stored = StoredGraph(graph_type, window, inject_service_nodes or graph_type == "service")
    if not stored.inject_service_nodes and not _is_stored(snapshot, stored):
        stored, derive = StoredGraph(graph_type, window), _collapsing(derive)
    if derive is not None:
        key = _derived_key(snapshot, stored, namespaces, include_idle, box_by, granted, derive)
        body = cache.get(key)
        if body is None:
            readable = sorted(granted) if granted is not None else None
            body = _read_transformed_graph(snapshot, stored, namespaces, include_idle, box_by, hide, derive, readable)
            cache.set(key, body, settings.MESH_UI_DERIVED_CACHE_SECONDS)
        return body[:-1] + b',"snapshot":' + meta_json + b"}"
    if granted is not None:
        body = _read_transformed_graph(snapshot, stored, namespaces, include_idle, box_by, hide, None, sorted(granted))
        return body[:-1] + b',"snapshot":' + meta_json + b"}"
    scoped = namespaces is not None and not set(snapshot.namespaces) <= set(namespaces)
    head, owns, extras = _read_parts(snapshot, stored, namespaces if scoped else None)
    if hide is None and not graph_needs_filtering(snapshot.namespaces, namespaces, include_idle, box_by):
        body = splice_graph_json(head, owns)
    elif hide is None and not scoped and set(BOX_KINDS) <= set(box_by) and all(map(has_idle_lines, owns)):
        body = splice_graph_json(head, owns, include_idle=False)  # what filter_graph leaves, in another node order
    else:
        # Parsing creates ~100k acyclic objects per MB: the GC would find nothing. They are all freed again before
        # the GC is back on, or its first allocation would trigger a full pass over them.
        with pause_cyclic_gc():
            graph = filter_graph(assemble_graph(head, owns, extras), namespaces, include_idle, box_by)
            if hide is not None:
                graph = hide_elements(graph, hide)
            body = encode_graph_json(graph)
            del graph
    # Splice the snapshot member into the stored object instead of parsing it again.
    return body[:-1] + b',"snapshot":' + meta_json + b"}"


@dataclass(frozen=True)
class StoredGraph:
    """Which graph of a snapshot is read: its type and window, with or without injected service nodes."""

    graph_type: str
    window: int
    inject_service_nodes: bool = True

    def lookups(self, snapshot: GraphSnapshot) -> dict[str, Any]:
        """The field lookups of its :class:`~topology.models.SnapshotGraph` row."""
        return {
            "snapshot_id": snapshot.pk,
            "graph_type": self.graph_type,
            "window": self.window,
            "inject_service_nodes": self.inject_service_nodes,
        }


def _is_stored(snapshot: GraphSnapshot, stored: StoredGraph) -> bool:
    return SnapshotGraph.objects.filter(**stored.lookups(snapshot)).exists()


def _read_parts(
    snapshot: GraphSnapshot, stored: StoredGraph, namespaces: list[str] | None
) -> tuple[dict[str, Any], list[bytes], list[bytes]]:
    """:meth:`SnapshotGraph.read_parts` of one stored graph; an empty graph's head when it is not stored."""
    head, owns, extras = SnapshotGraph.read_parts(namespaces, **stored.lookups(snapshot))
    if head is None:  # no such graph stored: an empty one
        head = {
            "timestamp": int(snapshot.taken_at.timestamp()),
            "duration": stored.window,
            "graphType": stored.graph_type,
        }
    return head, owns, extras


def _read_pairs(
    snapshot: GraphSnapshot, stored: StoredGraph, derive: Derivation, namespaces: list[str] | None
) -> dict[str, Any] | None:
    """The graph without service nodes that ``derive`` reads beside ``stored`` (None: it reads none, or the snapshot
    has none: then :func:`_read_transformed_graph` collapses ``stored``), whole or the parts of ``namespaces``."""
    if not _reads_pairs(stored, derive):
        return None
    head, owns, extras = SnapshotGraph.read_parts(
        namespaces, **StoredGraph(stored.graph_type, stored.window, False).lookups(snapshot)
    )
    return None if head is None else assemble_graph(head, owns, extras)


def _reads_pairs(stored: StoredGraph, derive: Derivation) -> bool:
    return derive.reads_pairs and stored.inject_service_nodes and stored.graph_type != "service"


@dataclass(frozen=True)
class Derivation:
    """A derived answer: ``apply`` turns the whole stored graph into it; ``key`` names it in the cache.

    ``apply``'s second argument is the graph stored without service nodes when ``reads_pairs`` (node graphs read
    each caller → workload pair there: exact traffic through a service), else None. ``before`` (the ambient-traffic
    filter) runs first on the stored graph and on those pairs, before any collapse or focus.
    """

    key: str
    apply: Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]
    reads_pairs: bool = False
    before: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _collapsing(derive: Derivation | None) -> Derivation:
    """``derive`` after :func:`~topology.graph.derive.collapse_service_nodes` (where a snapshot stores no graph
    without service nodes)."""

    def apply(graph: dict[str, Any], pairs: dict[str, Any] | None) -> dict[str, Any]:
        collapsed = collapse_service_nodes(graph)
        return derive.apply(collapsed, None) if derive is not None else collapsed

    return Derivation(
        key="collapse|" + (derive.key if derive is not None else ""),
        apply=apply,
        before=derive.before if derive is not None else None,
    )


def _derived_key(
    snapshot: GraphSnapshot,
    stored: StoredGraph,
    namespaces: list[str] | None,
    include_idle: bool,
    box_by: list[str],
    granted: Collection[str] | None,
    derive: Derivation,
) -> str:
    what = repr((namespaces, include_idle, sorted(box_by), sorted(granted) if granted is not None else None))
    digest = hashlib.sha256(f"{what}|{derive.key}".encode()).hexdigest()[:32]
    variant = "" if stored.inject_service_nodes else ":flat"
    return f"graph-derived:{snapshot.pk}:{stored.graph_type}:{stored.window}{variant}:{digest}"


def _read_transformed_graph(
    snapshot: GraphSnapshot,
    stored: StoredGraph,
    namespaces: list[str] | None,
    include_idle: bool,
    box_by: list[str],
    hide: NodePredicate | None,
    derive: Derivation | None,
    readable: list[str] | None,
) -> bytes:
    """The stored graph ``derive``d (its ``before`` step first, then restricted to ``readable``, then ``apply``), then
    scoped to ``namespaces``, filtered, encoded.

    ``readable`` (None: every namespace) is what the user may read: only those namespaces' parts are read (own and
    linking copies) and the rest collapses (:func:`~topology.graph.restriction.restrict_graph`); ``namespaces``
    defaults to it. Without a restriction the whole graph is read, since a node graph or a collapsed hop spans
    namespaces.
    """
    head, owns, extras = _read_parts(snapshot, stored, readable)
    pairs = _read_pairs(snapshot, stored, derive, readable) if derive is not None else None
    with pause_cyclic_gc():
        graph = assemble_graph(head, owns, extras)
        if derive is not None and derive.before is not None:  # first: every later step reads the rows it counts
            graph = derive.before(graph)
            pairs = derive.before(pairs) if pairs is not None else None
        if pairs is None and derive is not None and _reads_pairs(stored, derive):
            # Not stored: a snapshot stores it only where this collapse would not give it exactly (or predates it).
            pairs = collapse_service_nodes(graph)
        if readable is not None:
            graph = restrict_graph(graph, readable)
            pairs = restrict_graph(pairs, readable) if pairs is not None else None
        if derive is not None:
            graph = derive.apply(graph, pairs)
        graph = filter_graph(graph, namespaces if namespaces is not None else readable, include_idle, box_by)
        if hide is not None:
            graph = hide_elements(graph, hide)
        body = encode_graph_json(graph)
        del graph
    return body


def snapshot_times(cluster: Cluster, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Id and time of every stored snapshot in a range (for the replay slider)."""
    rows = (
        GraphSnapshot.objects.filter(cluster=cluster, taken_at__gte=since, taken_at__lte=until)
        .order_by("taken_at")
        .values("id", "taken_at", "source")
    )
    return [{"id": r["id"], "takenAt": r["taken_at"].isoformat(), "source": r["source"]} for r in rows]
