"""Syncing one cluster's inventory: claim the cluster, list every kind, then follow watches.

``sync_cluster`` is what the Celery task calls. It

1. claims the cluster's lease with a conditional UPDATE, so two workers never sync the same cluster at once;
2. lists every inventory kind (each kind on its own: a failed, timed-out or forbidden list is recorded on that
   kind's ``SyncStatus`` and keeps the stored rows, and the other kinds go on; an optional kind whose CRD is not
   installed answers 404, which is recorded as "not installed", keeps the stored rows too and is not watched);
3. follows a watch per listed kind (one thread each, network only) and applies the events on the calling thread,
   so a change in the cluster reaches the database within a second; a 410 Gone makes that kind relist;
4. ends after ``watch_seconds`` (the safety relist interval), releasing the lease; the next beat run relists.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from clients.kubernetes import (
    ClusterConnection,
    KubeError,
    KubernetesClient,
    ResourceKind,
    WatchEvent,
    inventory_kinds,
)
from inventory.models import LEASE_RENEW_SECONDS, LEASE_SECONDS, Cluster, SyncStatus
from inventory.store import ApplyResult, apply_events, apply_full_list

log = logging.getLogger(__name__)

WATCH_RETRY_FIRST_SECONDS = 0.5
#: The cap of the retry backoff: a kind that failed is listed again at most this long after the server answers,
#: which leaves room for the list itself within the 10 s in which a recovery must show.
WATCH_RETRY_MAX_SECONDS = 8.0
EVENT_BATCH_SECONDS = 0.1


@dataclass
class SyncOutcome:
    """What one ``sync_cluster`` run did, returned by the Celery task."""

    cluster: str
    claimed: bool = True
    listed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_installed: list[str] = field(default_factory=list)
    events_applied: int = 0
    relists_after_gone: int = 0
    relists_after_error: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "claimed": self.claimed,
            "listed": self.listed,
            "failed": self.failed,
            "not_installed": self.not_installed,
            "events_applied": self.events_applied,
            "relists_after_gone": self.relists_after_gone,
            "relists_after_error": self.relists_after_error,
        }


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_lease(cluster_id: int, owner: str, seconds: float = LEASE_SECONDS) -> bool:
    """Take or renew the cluster's sync lease; False when another live worker holds it."""
    now = timezone.now()
    free = Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now) | Q(sync_owner=owner)
    return (
        Cluster.objects.filter(pk=cluster_id, enabled=True)
        .filter(free)
        .update(sync_owner=owner, sync_lease_until=now + timedelta(seconds=seconds))
        == 1
    )


def release_lease(cluster_id: int, owner: str) -> None:
    Cluster.objects.filter(pk=cluster_id, sync_owner=owner).update(sync_owner="", sync_lease_until=None)


def connection_for(cluster: Cluster) -> ClusterConnection:
    return ClusterConnection(
        name=cluster.name,
        kubeconfig_path=cluster.kubeconfig_path,
        context=cluster.context,
        in_cluster=cluster.in_cluster,
    )


def _status(cluster: Cluster, kind: ResourceKind) -> SyncStatus:
    status, _ = SyncStatus.objects.get_or_create(cluster=cluster, kind=kind.key)
    return status


def record_failure(cluster: Cluster, kind: ResourceKind, error: KubeError | str) -> None:
    """Mark a kind as failed, keeping its stored rows and its last success.

    A failed list and a failed watch alike: either way what is stored may be going out of date, so the kind (and
    with it the cluster's banner) shows the error at once instead of at the next relist.
    """
    now = timezone.now()
    SyncStatus.objects.filter(pk=_status(cluster, kind).pk).update(
        state=SyncStatus.State.FAILED, last_attempt=now, watching=False, last_error=str(error), last_error_at=now
    )


def record_configuration_failure(cluster: Cluster, error: KubeError) -> None:
    """Mark every kind failed because the cluster's configuration (its kubeconfig) cannot be loaded.

    Nothing is retried until the next dispatch, and the error is logged once, when it first appears or changes,
    not on every dispatch: the file will not mend itself until someone edits it.
    """
    message = str(error)
    if set(SyncStatus.objects.filter(cluster=cluster).values_list("last_error", flat=True)) != {message}:
        log.warning("cannot sync %s: %s", cluster.name, message)
    for kind in kinds_of(cluster):
        record_failure(cluster, kind, message)


def kinds_of(cluster: Cluster) -> tuple[ResourceKind, ...]:
    """The kinds synced for ``cluster``: every inventory kind, the mesh config read from its control plane."""
    return inventory_kinds(cluster.control_plane_namespace)


def record_not_installed(cluster: Cluster, kind: ResourceKind) -> None:
    """Mark an optional kind as not installed (its list answered 404), keeping whatever rows are stored.

    Logged once, when the kind goes missing, not on every sync: most clusters simply lack the Gateway API CRDs.
    """
    now = timezone.now()
    status = _status(cluster, kind)
    if status.state != SyncStatus.State.NOT_INSTALLED:
        log.info("%s is not installed in %s (the API server does not serve it)", kind.key, cluster.name)
    SyncStatus.objects.filter(pk=status.pk).update(
        state=SyncStatus.State.NOT_INSTALLED, last_attempt=now, watching=False, last_error=""
    )


def relist_kind(cluster: Cluster, client: KubernetesClient, kind: ResourceKind) -> str | None:
    """List one kind completely and store it; returns the version to watch from, or None after recording a failure
    (or, for an optional kind that answers 404, that it is not installed).

    Pages are turned into row fields as they arrive, so only one page of raw objects is held at a time; nothing is
    written until the whole list has been read, so a list that fails half-way keeps what is stored.
    """
    started = time.monotonic()
    version = ""

    def items() -> Iterator[dict[str, Any]]:
        nonlocal version
        for page in client.iter_list_pages(kind):
            version = page.resource_version
            yield from page.items

    try:
        result = apply_full_list(cluster, kind.key, items(), lambda: version)
    except KubeError as exc:
        if kind.optional and exc.not_found:
            record_not_installed(cluster, kind)
            return None
        log.warning("list of %s in %s failed: %s", kind.key, cluster.name, exc)
        record_failure(cluster, kind, exc)
        return None
    record_list_success(cluster, kind, result, version, started)
    return version


def record_list_success(
    cluster: Cluster, kind: ResourceKind, result: ApplyResult, version: str, started: float, watching: bool = False
) -> None:
    """Mark a kind as listed (clearing any failure); ``watching`` when its watch resumes from this list."""
    now = timezone.now()
    SyncStatus.objects.filter(pk=_status(cluster, kind).pk).update(
        state=SyncStatus.State.OK,
        watching=watching,
        last_attempt=now,
        last_success=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        object_count=result.total,
        resource_version=version,
        relists=F("relists") + 1,
        last_error="",
    )
    log.info(
        "listed %s in %s: %d objects (+%d ~%d -%d)",
        kind.key,
        cluster.name,
        result.total,
        result.created,
        result.updated,
        result.deleted,
    )


class _Watcher(threading.Thread):
    """Lists (when needed) and follows one kind's watch, handing results to the syncing thread; never touches the
    database.

    A watcher whose kind has no version to watch from (its list failed) lists it first. A 410 Gone lists the kind
    again at once; a 404 on an optional kind (its CRD was removed) ends the watch and is reported as "not
    installed". Any other error is reported at once (the kind shows "failed" within a batch), and the kind is listed
    again with backoff (0.5 s doubling, capped at ``WATCH_RETRY_MAX_SECONDS``) until the server answers: the
    complete list then replaces the stored rows, clears the failure and the watch resumes from it.
    """

    def __init__(
        self,
        client: KubernetesClient,
        kind: ResourceKind,
        resource_version: str | None,
        deadline: float,
        out: queue.Queue[tuple[str, ResourceKind, Any]],
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"watch-{kind.key}", daemon=True)
        self.client, self.kind, self.resource_version = client, kind, resource_version
        self.deadline, self.out, self.stop = deadline, out, stop
        self.backoff = WATCH_RETRY_FIRST_SECONDS
        #: Whether the one immediate retry of an unreachable watch was spent since the last event.
        self.quiet_retry_used = False
        #: Why the next list happens: "gone" (410), "retry" (after an error or a failed first list).
        self.relist_reason = "retry"

    def run(self) -> None:
        while not self.stop.is_set():
            remaining = self.deadline - time.monotonic()
            if remaining <= 0.5:
                return
            if self.resource_version is None:
                listed = self._relist()
                if listed is None:
                    return
                if not listed:
                    self._wait_backoff()
                continue
            try:
                for event in self.client.watch(
                    self.kind, self.resource_version, max(1, int(min(remaining, 60))), self.stop.is_set
                ):
                    self.quiet_retry_used = False
                    if event.resource_version:
                        self.resource_version = event.resource_version
                    if event.type != "BOOKMARK":
                        self.out.put(("event", self.kind, event))
            except KubeError as exc:
                if self.stop.is_set():
                    return
                if exc.gone:
                    self.resource_version = None
                    self.relist_reason = "gone"
                    continue
                if self.kind.optional and exc.not_found:
                    # The CRD went away: nothing to watch until a later sync finds it installed again.
                    self.out.put(("absent", self.kind, None))
                    return
                if exc.status == 0 and not self.quiet_retry_used:
                    # A pooled keep-alive connection the server had closed fails its first request: try once more
                    # at once before calling the kind failed (a server that is really gone fails again at once).
                    self.quiet_retry_used = True
                    continue
                self.out.put(("error", self.kind, exc))
                self.resource_version = None
                self.relist_reason = "retry"
                self._wait_backoff()

    def _wait_backoff(self) -> None:
        self.stop.wait(self.backoff)
        self.backoff = min(self.backoff * 2, WATCH_RETRY_MAX_SECONDS)

    def _relist(self) -> bool | None:
        """List the kind and hand the complete list over: True when listed, False (after reporting the error)
        when the list failed, None when an optional kind turned out not installed (nothing to watch)."""
        started = time.monotonic()
        try:
            listing = self.client.fetch_list(self.kind)
        except KubeError as exc:
            if self.kind.optional and exc.not_found:
                self.out.put(("absent", self.kind, None))
                return None
            self.out.put(("error", self.kind, exc))
            return False
        self.resource_version = listing.resource_version
        self.backoff = WATCH_RETRY_FIRST_SECONDS
        self.out.put(("relist", self.kind, (listing, started, self.relist_reason)))
        return True


def sync_cluster(cluster_id: int, watch_seconds: float = 0.0, owner: str | None = None) -> SyncOutcome:
    """List every kind of one cluster into the database, then follow watches for ``watch_seconds``."""
    cluster = Cluster.objects.get(pk=cluster_id)
    outcome = SyncOutcome(cluster=cluster.name)
    owner = owner or new_owner_id()
    if not claim_lease(cluster.pk, owner):
        outcome.claimed = False
        return outcome
    client: KubernetesClient | None = None
    try:
        try:
            from django.conf import settings

            client = KubernetesClient(
                connection_for(cluster),
                timeout=settings.MESH_UI_KUBE_TIMEOUT,
                page_size=settings.MESH_UI_KUBE_PAGE_SIZE,
            )
        except KubeError as exc:
            record_configuration_failure(cluster, exc)
            outcome.failed = {kind.key: str(exc) for kind in kinds_of(cluster)}
            return outcome
        # The version each kind's watch starts from; None for a kind whose list failed (its watcher retries it).
        versions: dict[str, str | None] = {}
        for kind in kinds_of(cluster):
            version = relist_kind(cluster, client, kind)
            if version is None:
                status = SyncStatus.objects.get(cluster=cluster, kind=kind.key)
                if status.state == SyncStatus.State.NOT_INSTALLED:
                    outcome.not_installed.append(kind.key)
                else:
                    outcome.failed[kind.key] = status.last_error
                    versions[kind.key] = None
            else:
                outcome.listed.append(kind.key)
                versions[kind.key] = version
            claim_lease(cluster.pk, owner)
        if watch_seconds > 0 and versions:
            follow_watches(cluster, client, versions, watch_seconds, owner, outcome)
    finally:
        if client is not None:
            client.close()
        release_lease(cluster.pk, owner)
    return outcome


def follow_watches(
    cluster: Cluster,
    client: KubernetesClient,
    versions: Mapping[str, str | None],
    watch_seconds: float,
    owner: str,
    outcome: SyncOutcome,
) -> None:
    """Watch each kind from its version in ``versions`` and apply what arrives until ``watch_seconds`` pass.

    A kind whose version is None (its list failed) is listed again with backoff first, then watched.
    """
    deadline = time.monotonic() + watch_seconds
    inbox: queue.Queue[tuple[str, ResourceKind, Any]] = queue.Queue()
    stop = threading.Event()
    kinds = [kind for kind in kinds_of(cluster) if kind.key in versions]
    watchers = [_Watcher(client, kind, versions[kind.key], deadline, inbox, stop) for kind in kinds]
    watched = [key for key, version in versions.items() if version is not None]
    SyncStatus.objects.filter(cluster=cluster, kind__in=watched).update(watching=True)
    for watcher in watchers:
        watcher.start()
    next_renewal = time.monotonic() + LEASE_RENEW_SECONDS
    try:
        while time.monotonic() < deadline:
            try:
                first = inbox.get(timeout=0.5)
            except queue.Empty:
                first = None
            if first is not None:
                batch = [first]
                batch_end = time.monotonic() + EVENT_BATCH_SECONDS
                while len(batch) < 1000 and time.monotonic() < batch_end:
                    try:
                        batch.append(inbox.get(timeout=max(0.0, batch_end - time.monotonic())))
                    except queue.Empty:
                        break
                _handle_batch(cluster, batch, outcome)
            if time.monotonic() >= next_renewal:
                if not claim_lease(cluster.pk, owner):
                    log.warning("lost the sync lease of %s; stopping", cluster.name)
                    return
                next_renewal = time.monotonic() + LEASE_RENEW_SECONDS
    finally:
        stop.set()
        SyncStatus.objects.filter(cluster=cluster).update(watching=False)
        for watcher in watchers:
            watcher.join(timeout=2.0)


def _handle_batch(cluster: Cluster, batch: list[tuple[str, ResourceKind, Any]], outcome: SyncOutcome) -> None:
    """Apply queued watch output in arrival order, grouping consecutive events of one kind."""
    pending: list[WatchEvent] = []
    pending_kind: ResourceKind | None = None

    def flush() -> None:
        nonlocal pending, pending_kind
        if pending and pending_kind is not None:
            outcome.events_applied += apply_events(cluster, pending_kind.key, pending)
            SyncStatus.objects.filter(cluster=cluster, kind=pending_kind.key).update(
                last_event=timezone.now(), resource_version=pending[-1].resource_version
            )
        pending, pending_kind = [], None

    for what, kind, payload in batch:
        if what == "event":
            if pending_kind is not None and pending_kind.key != kind.key:
                flush()
            pending_kind = kind
            pending.append(payload)
            continue
        flush()
        if what == "relist":
            listing, started, reason = payload
            result = apply_full_list(cluster, kind.key, listing.items, listing.resource_version)
            record_list_success(cluster, kind, result, listing.resource_version, started, watching=True)
            if reason == "gone":
                outcome.relists_after_gone += 1
            else:
                outcome.relists_after_error += 1
                outcome.failed.pop(kind.key, None)
                if kind.key not in outcome.listed:
                    outcome.listed.append(kind.key)
        elif what == "error":
            if kind.key not in outcome.failed:
                log.warning("sync of %s in %s failing: %s", kind.key, cluster.name, payload)
            outcome.failed[kind.key] = str(payload)
            record_failure(cluster, kind, payload)
        elif what == "absent":
            record_not_installed(cluster, kind)
            if kind.key not in outcome.not_installed:
                outcome.not_installed.append(kind.key)
    flush()
