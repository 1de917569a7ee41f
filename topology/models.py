"""Stored service-graph snapshots, their health, and the state of each cluster's metrics source.

A ``GraphSnapshot`` is one moment of one cluster: a graph per (graph type, window), stored as compressed
Kiali-shaped JSON so the API can answer without Prometheus, and the health of every workload, app, service and
namespace at that moment, so health history can be shown.
"""

from __future__ import annotations

import zlib
from typing import Any

from django.db import models

from inventory.models import Cluster


class GraphSnapshot(models.Model):
    """The service graph and health of one cluster at one moment."""

    class Source(models.TextChoices):
        PROMETHEUS = "prometheus", "Prometheus"
        DIRECT = "direct", "simulator counters (no Prometheus)"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(help_text="The query time the telemetry was read at.")
    source = models.CharField(max_length=20, choices=Source.choices)
    namespaces = models.JSONField(default=list, help_text="Namespaces the snapshot covers.")
    windows = models.JSONField(default=list, help_text="Metric windows in seconds, e.g. [60, 300, 600].")
    health_window = models.IntegerField(default=300)
    health = models.JSONField(
        default=dict, help_text="{kind: {'namespace/name': {'status', 'reason', ...}}, 'namespaces': {...}}"
    )
    metrics = models.JSONField(
        default=dict, help_text="Per-entity rates and response times: {kind: {'namespace/name': {...}}}."
    )
    source_ms = models.IntegerField(default=0, help_text="Time spent reading telemetry (Prometheus or scrape).")
    processing_ms = models.IntegerField(default=0, help_text="mesh-ui's own time building graphs and health.")
    size_bytes = models.IntegerField(default=0, help_text="Stored size of the graphs and health.")

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["cluster", "-taken_at"], name="snapshot_cluster_time")]
        get_latest_by = "taken_at"

    def __str__(self) -> str:
        return f"{self.cluster} @ {self.taken_at:%Y-%m-%d %H:%M:%S}"


class SnapshotGraph(models.Model):
    """One graph of a snapshot: a graph type over a window, as zlib-compressed JSON."""

    snapshot = models.ForeignKey(GraphSnapshot, on_delete=models.CASCADE, related_name="graphs")
    graph_type = models.CharField(max_length=20)
    window = models.IntegerField(help_text="Seconds.")
    body = models.BinaryField()
    node_count = models.IntegerField(default=0)
    edge_count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "graph_type", "window"], name="uniq_snapshot_graph")]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.graph_type}/{self.window}s"

    @staticmethod
    def compress(json_bytes: bytes) -> bytes:
        return zlib.compress(json_bytes, 6)

    def json_bytes(self) -> bytes:
        return zlib.decompress(bytes(self.body))


class MetricsSourceStatus(models.Model):
    """How the last snapshot attempts of a cluster went: the API marks graphs stale from this."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="metrics_status")
    source = models.CharField(max_length=20, blank=True)
    last_attempt = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "metrics source statuses"

    def __str__(self) -> str:
        return f"{self.cluster}: {self.source or 'no source'}"

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


class CounterScrape(models.Model):
    """A raw scrape of the mesh's counters, kept briefly when no Prometheus is used (the direct source).

    Rates over a window are computed from the newest scrape and the one closest to a window ago, as Prometheus
    would from its own samples.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="counter_scrapes")
    taken_at = models.DateTimeField()
    counters = models.BinaryField(help_text="zlib-compressed JSON of the parsed counters.")

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["cluster", "-taken_at"], name="scrape_cluster_time")]

    def __str__(self) -> str:
        return f"{self.cluster} scrape @ {self.taken_at:%H:%M:%S}"

    def payload(self) -> Any:
        return zlib.decompress(bytes(self.counters))
