"""The header every page shows: cluster selector, freshness of the inventory and of the graph snapshot, and
banners when data is stale or a source is failing.

Everything is read lazily: a template that never touches ``mesh_header`` (an htmx partial) costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accounts import access
from dashboard.clusters import selected_cluster
from dashboard.inventory import describe_sync_failure
from inventory.clusters import read_enabled_clusters
from inventory.models import Cluster, SyncStatus
from mesh_ui.auth import may_see_error_details
from topology.models import GraphSnapshot, MetricsSourceStatus
from topology.reading import SnapshotMeta, describe_source_failure


@dataclass(frozen=True)
class Banner:
    """One problem the header shows: ``kind`` is ``sync``, ``slow``, ``metrics``, ``stale`` or ``empty``."""

    kind: str
    message: str
    detail: str = ""


# (label, URL name): the URLs come from reverse(), never typed by hand. Labels are translated per request.
NAV_ITEMS = (
    (gettext_noop("Overview"), "dashboard:overview"),
    (gettext_noop("Graph"), "dashboard:graph"),
    (gettext_noop("Applications"), "dashboard:applications"),
    (gettext_noop("Workloads"), "dashboard:workloads"),
    (gettext_noop("Services"), "dashboard:services"),
    (gettext_noop("Istio config"), "dashboard:istio"),
    (gettext_noop("Inventory"), "dashboard:inventory"),
    (gettext_noop("Admin"), "admin:index"),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


class MeshHeader:
    """Header data of one request, each part queried on first use."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @property
    def nav(self) -> list[NavItem]:
        path = self.request.path
        home = reverse("dashboard:overview")
        items = []
        for label, name in NAV_ITEMS if access.has_any_grant(self.request.user) else ():
            url = reverse(name)
            items.append(NavItem(_(label), url, path == url if url == home else path.startswith(url)))
        return items

    @cached_property
    def clusters(self) -> list[Cluster]:
        return read_enabled_clusters(access.visible_cluster_ids(self.request.user))

    @cached_property
    def cluster(self) -> Cluster | None:
        return selected_cluster(self.request)

    @cached_property
    def sync_statuses(self) -> list[SyncStatus]:
        if self.cluster is None:
            return []
        return list(SyncStatus.objects.filter(cluster=self.cluster).order_by("kind"))

    @cached_property
    def failing_kinds(self) -> list[SyncStatus]:
        return [s for s in self.sync_statuses if s.state == SyncStatus.State.FAILED]

    @cached_property
    def last_sync(self) -> datetime | None:
        times = [s.last_success for s in self.sync_statuses if s.last_success]
        return max(times) if times else None

    @cached_property
    def metrics_status(self) -> MetricsSourceStatus | None:
        # Loaded with the cluster (inventory.clusters.read_chosen_cluster), so this costs no query.
        status: MetricsSourceStatus | None = getattr(self.cluster, "metrics_status", None)
        return status

    @cached_property
    def snapshot(self) -> SnapshotMeta | None:
        if self.cluster is None:
            return None
        latest = (
            GraphSnapshot.objects.filter(cluster=self.cluster)
            .only("id", "cluster_id", "taken_at", "source")
            .order_by("-taken_at")
            .first()
        )
        if latest is None:
            return None
        return SnapshotMeta(snapshot=latest, now=timezone.now(), status=self.metrics_status)

    @cached_property
    def banners(self) -> list[Banner]:
        if self.cluster is None:
            if not access.has_any_grant(self.request.user):
                return []  # the page says the user has no role; whether clusters exist is not its business
            return [Banner("empty", _("No cluster is configured: set MESH_UI_CLUSTERS or add one in the admin."))]
        banners = []
        # Error texts can name internal hosts and a server's own answer: mesh admins only (the rest: what and when).
        detailed = may_see_error_details(self.request.user)
        if self.failing_kinds:
            kinds = ", ".join(s.kind for s in self.failing_kinds)
            detail = "; ".join(
                f"{s.kind}: {describe_sync_failure(s, detailed)}" for s in self.failing_kinds if s.last_error
            )
            banners.append(
                Banner(
                    "sync", _("Kubernetes sync failing for %(kinds)s: showing stored data.") % {"kinds": kinds}, detail
                )
            )
        silent = self.cluster.sync_silent_seconds(timezone.now())
        if silent is not None:
            banners.append(
                Banner(
                    "sync",
                    _(
                        "Kubernetes sync stalled: its worker has been silent for %(seconds).0f s; "
                        "another worker takes over when its lease ends."
                    )
                    % {"seconds": silent},
                )
            )
        slow = [s for s in self.sync_statuses if s.is_slow(settings.MESH_UI_KUBE_TIMEOUT)]
        if slow:
            listed = ", ".join(f"{s.kind} in {(s.duration_ms or 0) / 1000:.1f} s" for s in slow)
            banners.append(
                Banner("slow", f"Kubernetes API slow: listed {listed} (timeout {settings.MESH_UI_KUBE_TIMEOUT:g} s).")
            )
        status = self.metrics_status
        if status is not None and status.failing:
            banners.append(
                Banner(
                    "metrics",
                    ngettext(
                        "Metrics source failing (%(n)d attempt in a row): "
                        "traffic and health come from the last good snapshot.",
                        "Metrics source failing (%(n)d attempts in a row): "
                        "traffic and health come from the last good snapshot.",
                        status.consecutive_failures,
                    )
                    % {"n": status.consecutive_failures},
                    describe_source_failure(status, detailed),
                )
            )
        meta = self.snapshot
        if meta is None:
            banners.append(Banner("stale", _("No graph snapshot yet: traffic and health appear after the first one.")))
        elif meta.stale and not (status is not None and status.failing):
            banners.append(
                Banner(
                    "stale",
                    _("Graph data is stale: the last snapshot is %(seconds).0f s old.") % {"seconds": meta.age_seconds},
                )
            )
        return banners


def mesh_header(request: HttpRequest) -> dict[str, Any]:
    return {"mesh_header": MeshHeader(request)}
