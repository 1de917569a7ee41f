"""Read side of the snapshots: find the snapshot for a moment and shape its graph or health for a request.

Requests never query Prometheus: everything here reads stored snapshots, and only complete ones
(``GraphSnapshot.objects``): a snapshot whose windows are still being built, or one that failed, is never served.
When the metrics source is failing, the last complete snapshot is served and marked stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from inventory.models import Cluster
from topology.graph.expressions import ExpressionError, NodePredicate, parse_hide_expression
from topology.graph.filtering import BOX_KINDS, filter_graph, graph_needs_filtering, hide_elements
from topology.graph.partition import assemble_graph, splice_graph_json
from topology.graph.pipeline import pause_cyclic_gc
from topology.graph.wire import encode_graph_json
from topology.models import GraphSnapshot, MetricsSourceStatus, SnapshotGraph

GRAPH_TYPES = ("app", "versionedApp", "workload", "service")


class SnapshotRequestError(ValueError):
    """A request names something that does not exist (cluster, graph type, window)."""


def pick_cluster(name: str | None) -> Cluster:
    """The named enabled cluster, else the first by name; its metrics source status comes in the same query."""
    cluster = _chosen_cluster(name).select_related("metrics_status").first()
    if cluster is None:
        raise SnapshotRequestError(f"cluster {name!r} is not configured" if name else "no cluster is configured")
    return cluster


def _chosen_cluster(name: str | None) -> QuerySet[Cluster]:
    """The enabled cluster of that name, else the first enabled one by name (a queryset of at most one)."""
    clusters = Cluster.objects.filter(enabled=True)
    return clusters.filter(name=name) if name else clusters.order_by("name")[:1]


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


def find_cluster_snapshot(name: str | None, at: datetime | None) -> tuple[Cluster, GraphSnapshot | None]:
    """:func:`pick_cluster` and :func:`find_snapshot` in one query when the cluster has a snapshot (the hot path)."""
    snapshots = (
        GraphSnapshot.objects.filter(cluster__in=Subquery(_chosen_cluster(name).values("pk")))
        .select_related("cluster", "cluster__metrics_status")
        .defer("health", "metrics")
    )
    found = _closest(snapshots, at)
    if found is not None:
        return found.cluster, found
    return pick_cluster(name), None  # says which cluster has no snapshot yet, or that none is configured


def pick_window(snapshot: GraphSnapshot, seconds: int | None) -> int:
    """The stored window closest to the requested one (default: the health window)."""
    windows = snapshot.windows or [snapshot.health_window]
    if seconds is None:
        return snapshot.health_window if snapshot.health_window in windows else windows[0]
    return min(windows, key=lambda w: (abs(w - seconds), w))


@dataclass(frozen=True)
class SnapshotMeta:
    """What a response says about the snapshot it came from."""

    snapshot: GraphSnapshot
    now: datetime
    status: MetricsSourceStatus | None

    @property
    def age_seconds(self) -> float:
        return max(0.0, (self.now - self.snapshot.taken_at).total_seconds())

    @property
    def stale(self) -> bool:
        """True when the source is failing now or the newest snapshot is older than three intervals."""
        failing = self.status is not None and self.status.failing
        too_old = self.age_seconds > 3 * settings.MESH_UI_SNAPSHOT_INTERVAL
        return failing or too_old

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
            data["sourceError"] = self.status.last_error
        return data


def build_meta(snapshot: GraphSnapshot, at: datetime | None) -> SnapshotMeta:
    cluster = snapshot.cluster
    if Cluster.metrics_status.is_cached(cluster):  # loaded by pick_cluster
        status: MetricsSourceStatus | None = getattr(cluster, "metrics_status", None)
    else:
        status = MetricsSourceStatus.objects.filter(cluster_id=snapshot.cluster_id).first()
    # Replaying history: age is measured from the moment asked for, and a past failure is no longer news.
    if at is not None:
        return SnapshotMeta(snapshot=snapshot, now=at, status=None)
    return SnapshotMeta(snapshot=snapshot, now=timezone.now(), status=status)


def read_graph_json(
    snapshot: GraphSnapshot,
    graph_type: str,
    window: int,
    namespaces: list[str] | None,
    include_idle: bool,
    box_by: list[str],
    meta: SnapshotMeta,
    hide: NodePredicate | None = None,
) -> bytes:
    """The graph as JSON bytes with a ``snapshot`` member; the stored bytes untouched when no filter applies.

    ``hide`` (from :func:`parse_hide`) removes the nodes it matches, their edges and boxes left empty.
    """
    if graph_type not in GRAPH_TYPES:
        raise SnapshotRequestError(f"graphType must be one of {', '.join(GRAPH_TYPES)}")
    meta_json = json.dumps(meta.as_dict(), separators=(",", ":")).encode()
    scoped = namespaces is not None and not set(snapshot.namespaces) <= set(namespaces)
    head, owns, extras = SnapshotGraph.read_parts(
        namespaces if scoped else None, snapshot_id=snapshot.pk, graph_type=graph_type, window=window
    )
    if head is None:  # no such graph stored: an empty one
        head = {"timestamp": int(snapshot.taken_at.timestamp()), "duration": window, "graphType": graph_type}
    if hide is None and not graph_needs_filtering(snapshot.namespaces, namespaces, include_idle, box_by):
        body = splice_graph_json(head, owns)
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


def parse_at(raw: str | None) -> datetime | None:
    """``at`` as unix seconds or ISO 8601; None for now."""
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SnapshotRequestError(f"at: {raw!r} is neither unix seconds nor an ISO 8601 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_duration_seconds(raw: str | None) -> int | None:
    """``duration`` as Kiali sends it (``60s``, ``5m``, or plain seconds)."""
    if not raw:
        return None
    from topology.retention import parse_duration

    try:
        return int(raw) if raw.isdigit() else parse_duration(raw)
    except ValueError as exc:
        raise SnapshotRequestError(f"duration: {exc}") from exc


def parse_hide(raw: str | None) -> NodePredicate | None:
    """``hide``: a find/hide expression of server-evaluable terms (see ``topology.graph.expressions``)."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse_hide_expression(raw)
    except ExpressionError as exc:
        raise SnapshotRequestError(f"hide: {exc}") from exc


def parse_box_by(raw: str | None) -> list[str]:
    if raw is None:
        return list(BOX_KINDS)
    kinds = [k.strip() for k in raw.split(",") if k.strip() and k.strip() != "none"]
    unknown = set(kinds) - set(BOX_KINDS)
    if unknown:
        raise SnapshotRequestError(f"boxBy: unknown box kinds {sorted(unknown)}; use {', '.join(BOX_KINDS)}")
    return kinds


def snapshot_times(cluster: Cluster, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Id and time of every stored snapshot in a range (for the replay slider)."""
    rows = (
        GraphSnapshot.objects.filter(cluster=cluster, taken_at__gte=since, taken_at__lte=until)
        .order_by("taken_at")
        .values("id", "taken_at", "source")
    )
    return [{"id": r["id"], "takenAt": r["taken_at"].isoformat(), "source": r["source"]} for r in rows]


def default_range() -> tuple[datetime, datetime]:
    now = timezone.now()
    return now - timedelta(hours=1), now
