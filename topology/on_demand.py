"""Graphs for any window and any moment: built on demand when no periodic snapshot holds them.

Periodic snapshots store a few windows (``MESH_UI_GRAPH_WINDOWS``) every interval. A graph request for another
``duration``, or for a ``queryTime`` farther than :func:`moment_tolerance` from every stored snapshot, gets its graph
built by a Celery task instead (``topology.tasks.build_snapshot_window``, the periodic windows' own task): an
*on-demand* snapshot (``GraphSnapshot.on_demand``) with that one window, read at that moment. Until it is complete
the API answers ``202`` with a status URL (``GraphBuildView``); then the graph is read from it as from any snapshot
(derived answers included) and said to be on demand (``snapshot.onDemand``). A build not complete after
``MESH_UI_ON_DEMAND_TIMEOUT`` seconds is failed; a failed build is answered as such for :data:`RETRY_AFTER` seconds,
then a new request starts another. On-demand snapshots are never the periodic snapshot of their time (the readers'
``GraphSnapshot.objects`` leaves them out), fail without marking the metrics source as failing, and are deleted by
thinning after ``topology.snapshots.ON_DEMAND_KEEP_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from inventory.models import Cluster
from topology.models import GraphSnapshot, SnapshotWindow
from topology.snapshots import fail_snapshot

#: Seconds a failed build is answered as failed before a request may start another.
RETRY_AFTER = 30


def moment_tolerance() -> timedelta:
    """How far a periodic snapshot may be from a requested ``queryTime`` and still answer it: one interval."""
    return timedelta(seconds=max(settings.MESH_UI_SNAPSHOT_INTERVAL, 1.0))


def needs_build(periodic: GraphSnapshot, window: int | None, moment: datetime | None) -> bool:
    """True when the periodic snapshot ``periodic`` (the closest to ``moment``) holds neither the window nor the
    moment asked for."""
    if window is not None and window not in (periodic.windows or [periodic.health_window]):
        return True
    return moment is not None and abs(periodic.taken_at - moment) > moment_tolerance()


@dataclass(frozen=True)
class Build:
    """An on-demand snapshot as a request sees it."""

    snapshot: GraphSnapshot
    started: bool = False

    @property
    def status(self) -> str:
        return str(self.snapshot.status)

    def as_dict(self) -> dict[str, Any]:
        snapshot = self.snapshot
        now = timezone.now()
        data: dict[str, Any] = {
            "id": snapshot.pk,
            "status": self.status,
            "cluster": snapshot.cluster.name,
            "window": (snapshot.windows or [0])[0],
            "queryTime": (snapshot.telemetry_at or snapshot.taken_at).isoformat(),
            "startedAt": snapshot.taken_at.isoformat(),
            "elapsedSeconds": round(max(0.0, (now - snapshot.taken_at).total_seconds()), 1),
            "timeoutSeconds": settings.MESH_UI_ON_DEMAND_TIMEOUT,
            "statusUrl": reverse("v1:graph-build", args=[snapshot.pk]),
        }
        if snapshot.error:
            data["error"] = snapshot.error
        return data


def reuse_tolerance(window: int, live: bool) -> timedelta:
    """How far an on-demand graph's moment may be from the one asked for and still answer it.

    A moment asked for (``queryTime``): one snapshot interval, as for periodic snapshots. A live request for an
    unstored window (the page polling "the last hour"): also a twentieth of the window, so a page polling every 30 s
    reuses an hour's graph for 3 minutes instead of building one per poll.
    """
    tolerance = moment_tolerance()
    return max(tolerance, timedelta(seconds=window / 20)) if live else tolerance


def _matching(cluster: Cluster, window: int, moment: datetime, tolerance: timedelta) -> GraphSnapshot | None:
    """The newest on-demand snapshot of ``window`` read within ``tolerance`` of ``moment``."""
    return (
        GraphSnapshot.every_snapshot.filter(
            cluster=cluster,
            on_demand=True,
            windows=[window],
            telemetry_at__gte=moment - tolerance,
            telemetry_at__lte=moment + tolerance,
        )
        .select_related("cluster")
        .order_by("-taken_at")
        .first()
    )


def expire(snapshot: GraphSnapshot) -> GraphSnapshot:
    """Fail a build still not complete after ``MESH_UI_ON_DEMAND_TIMEOUT``; the snapshot as it is now."""
    if snapshot.status != GraphSnapshot.Status.BUILDING:
        return snapshot
    if timezone.now() - snapshot.taken_at > timedelta(seconds=settings.MESH_UI_ON_DEMAND_TIMEOUT):
        fail_snapshot(snapshot.pk, f"not built within {settings.MESH_UI_ON_DEMAND_TIMEOUT:g} s")
        snapshot.refresh_from_db(fields=["status", "error"])
    return snapshot


def find_or_start(
    cluster: Cluster, periodic: GraphSnapshot, window: int, moment: datetime, live: bool = False
) -> Build:
    """The on-demand build of ``window`` at ``moment``: an existing one, or a new one queued for a worker.

    ``periodic`` (the closest periodic snapshot) gives the telemetry source and the namespaces; ``live``: no moment
    was asked for (see :func:`reuse_tolerance`).
    """
    found = _matching(cluster, window, moment, reuse_tolerance(window, live))
    if found is not None:
        found = expire(found)
        recent_failure = timezone.now() - found.taken_at < timedelta(seconds=RETRY_AFTER)
        if found.status != GraphSnapshot.Status.FAILED or recent_failure:
            return Build(found)
    from topology import tasks  # the tasks module imports the snapshot services, which import this one's models

    with transaction.atomic():
        snapshot = GraphSnapshot.every_snapshot.create(
            cluster=cluster,
            taken_at=timezone.now(),
            telemetry_at=moment,
            status=GraphSnapshot.Status.BUILDING,
            source=periodic.source,
            namespaces=periodic.namespaces,
            windows=[window],
            health_window=0,  # no health or metrics summary: the periodic snapshots hold those
            windows_pending=1,
            on_demand=True,
        )
        SnapshotWindow.objects.create(snapshot=snapshot, window=window)
    try:
        tasks.build_snapshot_window.delay(snapshot.pk, window)
    except OperationalError as exc:  # the broker cannot be reached: the build can never run
        fail_snapshot(snapshot.pk, f"the task broker cannot be reached: {exc}")
        snapshot.refresh_from_db(fields=["status", "error"])
    snapshot.cluster = cluster
    return Build(snapshot, started=True)
