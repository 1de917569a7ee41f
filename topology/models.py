"""Stored service-graph snapshots, their health, and the state of each cluster's metrics source.

A ``GraphSnapshot`` is one moment of one cluster: a graph per (graph type, window), stored as compressed
Kiali-shaped JSON so the API can answer without Prometheus, and the health of every workload, app, service and
namespace at that moment, so health history can be shown. Its windows are built by separate Celery tasks (see
``topology.snapshots``); each records its attempts in a ``SnapshotWindow``, and the snapshot becomes visible
(``GraphSnapshot.objects``) only once every window is stored.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import FilteredRelation, Q

from inventory.models import Cluster
from topology.graph.partition import (
    ChunkInflater,
    PackedGraph,
    assemble_graph,
    pack_chunks,
    pack_graph,
    splice_graph_json,
)


class CompleteSnapshotManager(models.Manager["GraphSnapshot"]):
    """Only complete, periodic snapshots: what every reader sees (a building or failed snapshot is not there for
    them, nor one built on demand, which ``topology.on_demand`` reads for the request that asked for it)."""

    def get_queryset(self) -> models.QuerySet[GraphSnapshot]:
        return super().get_queryset().filter(status=GraphSnapshot.Status.COMPLETE, on_demand=False)


class GraphSnapshot(models.Model):
    """The service graph and health of one cluster at one moment.

    ``objects`` holds only complete snapshots; ``every_snapshot`` also those building or failed (the snapshot
    service and thinning use it).
    """

    class Source(models.TextChoices):
        PROMETHEUS = "prometheus", "Prometheus"
        DIRECT = "direct", "simulator counters (no Prometheus)"

    class Status(models.TextChoices):
        BUILDING = "building", "building"
        COMPLETE = "complete", "complete"
        FAILED = "failed", "failed"

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
    source_ms = models.IntegerField(
        default=0,
        help_text="Reading telemetry: the longest wall time of a window from its first query (or read of the stored "
        "scrapes) until its last rows arrived.",
    )
    processing_ms = models.IntegerField(
        default=0,
        help_text="CPU time mesh-ui spent on the rows after they arrived (parsing, graphs, health, compression; not "
        "reading, not storing), summed over the windows.",
    )
    size_bytes = models.IntegerField(default=0, help_text="Stored size of the graphs and health.")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.COMPLETE,
        help_text="Readers see only complete snapshots; one is building until its last window is stored.",
    )
    error = models.TextField(blank=True, help_text="Why a failed snapshot failed.")
    telemetry_at = models.DateTimeField(
        null=True, blank=True, help_text="The moment telemetry is read at (taken_at unless asked otherwise)."
    )
    windows_pending = models.IntegerField(default=0, help_text="Windows not stored yet (0 once complete).")
    on_demand = models.BooleanField(
        default=False,
        help_text="Built for a request whose window or moment no periodic snapshot holds (topology.on_demand); "
        "never served as the periodic snapshot of its time.",
    )

    every_snapshot = models.Manager()
    objects = CompleteSnapshotManager()

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["cluster", "-taken_at"], name="snapshot_cluster_time")]
        get_latest_by = "taken_at"
        # Related managers (``cluster.snapshots``), the admin and dumpdata see complete snapshots only too.
        default_manager_name = "objects"

    def __str__(self) -> str:
        return f"{self.cluster} @ {self.taken_at:%Y-%m-%d %H:%M:%S}"


class SnapshotWindow(models.Model):
    """One window of a snapshot as a task builds it: attempts, state, and what it took.

    Celery counts retries only for retries it is asked for; a message redelivered after its worker was lost starts
    again at zero. The attempts are counted here instead, so a window that keeps losing its worker gives up.
    """

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    snapshot = models.ForeignKey(GraphSnapshot, on_delete=models.CASCADE, related_name="window_builds")
    window = models.IntegerField(help_text="Seconds.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.IntegerField(default=0)
    error = models.TextField(blank=True, help_text="The last attempt's error.")
    worker = models.CharField(max_length=255, blank=True, help_text="host:pid of the process of the last attempt.")
    source_ms = models.IntegerField(default=0)
    processing_ms = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "window"], name="uniq_snapshot_window")]

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.window}s: {self.state}"


class SnapshotGraph(models.Model):
    """One graph of a snapshot (a graph type over a window, with or without injected service nodes), stored as one
    :class:`SnapshotGraphPart` per namespace.

    A request for some namespaces reads only their parts (see :mod:`topology.graph.partition`). Snapshots stored
    before the graphs without service nodes were have only ``inject_service_nodes`` ones.
    """

    snapshot = models.ForeignKey(GraphSnapshot, on_delete=models.CASCADE, related_name="graphs")
    graph_type = models.CharField(max_length=20)
    window = models.IntegerField(help_text="Seconds.")
    inject_service_nodes = models.BooleanField(
        default=True,
        help_text="Drawn with service nodes between callers and workloads (Kiali's default); false: the graph of "
        "injectServiceNodes=false, built from the same rows (never for the service graph).",
    )
    head = models.JSONField(default=dict, help_text="The graph's members besides its elements: timestamp, ...")
    node_count = models.IntegerField(default=0)
    edge_count = models.IntegerField(default=0)
    size_bytes = models.IntegerField(default=0, help_text="Stored (compressed) size of the parts.")
    linked = models.BooleanField(
        default=True,
        help_text="The parts carry the copies linking namespaces, so a scoped read needs only its namespaces' parts "
        "(thinning drops them from old snapshots; a scoped read of those reads every part).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "graph_type", "window", "inject_service_nodes"], name="uniq_snapshot_graph"
            )
        ]

    def __str__(self) -> str:
        flat = "" if self.inject_service_nodes else " without service nodes"
        return f"{self.snapshot} {self.graph_type}/{self.window}s{flat}"

    @classmethod
    def from_packed(cls, packed: PackedGraph, **fields: Any) -> tuple[SnapshotGraph, list[SnapshotGraphPart]]:
        """An unsaved row and its unsaved parts for a packed graph (see :meth:`save_with_parts`)."""
        parts = [SnapshotGraphPart(namespace=ns, own=own, extra=extra) for ns, own, extra in packed.parts]
        stored = cls(
            graph_type=packed.graph_type,
            window=packed.window,
            inject_service_nodes=packed.inject_service_nodes,
            head=packed.head,
            node_count=packed.node_count,
            edge_count=packed.edge_count,
            size_bytes=sum(len(own) + len(extra) for _, own, extra in packed.parts),
            **fields,
        )
        return stored, parts

    @classmethod
    def save_with_parts(cls, rows: Sequence[tuple[SnapshotGraph, list[SnapshotGraphPart]]]) -> None:
        """Insert graphs and their parts (bulk; on PostgreSQL the parts go in one binary COPY)."""
        graphs = SnapshotGraph.objects.bulk_create([graph for graph, _ in rows])
        for graph, (_, parts) in zip(graphs, rows, strict=True):
            for part in parts:
                part.graph = graph
        parts = [part for _, parts in rows for part in parts]
        if connection.vendor == "postgresql":
            _copy_parts(parts)
        else:
            SnapshotGraphPart.objects.bulk_create(parts, batch_size=500)

    @classmethod
    def create_from_graph(
        cls, graph: dict[str, Any], *, graph_type: str, window: int, inject_service_nodes: bool = True, **fields: Any
    ) -> SnapshotGraph:
        """Store ``graph`` (a wire-format dict) with its parts."""
        packed, chunks = pack_graph(graph_type, window, graph, inject_service_nodes)
        packed.parts.extend(pack_chunks(chunks))
        row = cls.from_packed(packed, **fields)
        cls.save_with_parts([row])
        return row[0]

    @classmethod
    def read_parts(
        cls, namespaces: Collection[str] | None, **graph: Any
    ) -> tuple[dict[str, Any] | None, list[bytes], list[bytes]]:
        """One query: the head of the graph matching ``graph`` (field lookups), and its inflated chunks.

        The own chunks of ``namespaces`` (None: all) and of ``""``, and when scoped their extra chunks. The head is
        None when there is no such graph. A graph whose linking copies were dropped (``linked`` false) is read
        whole, in a second query: the caller's filter then finds the far ends in the other namespaces' parts.
        """
        scoped = namespaces is not None
        wanted = Q(parts__namespace__in={"", *namespaces}) if namespaces is not None else Q()
        rows = (
            cls.objects.filter(**graph)
            .annotate(part=FilteredRelation("parts", condition=wanted))
            .order_by("part__namespace")
            .values_list("head", "part__own", "part__extra" if scoped else "part__own", "linked")
        )
        head: dict[str, Any] | None = None
        inflate = ChunkInflater().inflate
        owns: list[bytes] = []
        extras: list[bytes] = []
        for graph_head, own, extra, linked in rows:
            if scoped and not linked:
                return cls.read_parts(None, **graph)
            head = graph_head
            if own is not None:  # the outer join's row when no part matched
                owns.append(inflate(own))
                if scoped and extra:
                    extras.append(inflate(extra))
        return head, owns, extras

    def json_bytes(self) -> bytes:
        """The whole graph as JSON bytes, spliced from the parts without parsing."""
        _, owns, _ = SnapshotGraph.read_parts(None, pk=self.pk)
        return splice_graph_json(self.head, owns)

    def load_graph(self, namespaces: Collection[str] | None = None) -> dict[str, Any]:
        """The graph as a dict: everything, or what a request for ``namespaces`` needs (filter it afterwards)."""
        _, owns, extras = SnapshotGraph.read_parts(namespaces, pk=self.pk)
        return assemble_graph(self.head, owns, extras)


class SnapshotGraphPart(models.Model):
    """One namespace's share of a stored graph: its own elements, and copies of what links it to other namespaces.

    ``own`` and ``extra`` are zstd-compressed chunks of :func:`topology.graph.partition.split_graph_by_namespace`
    (zlib in rows stored before; :class:`~topology.graph.partition.ChunkInflater` reads both);
    the namespace ``""`` holds the boxes that belong to no namespace (clusters) and is read with every request.
    """

    graph = models.ForeignKey(SnapshotGraph, on_delete=models.CASCADE, related_name="parts")
    namespace = models.CharField(max_length=253, blank=True)
    own = models.BinaryField()
    extra = models.BinaryField(default=b"", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["graph", "namespace"], name="uniq_graph_part")]

    def __str__(self) -> str:
        return f"{self.graph} [{self.namespace or '-'}]"


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


def _copy_parts(parts: Sequence[SnapshotGraphPart]) -> None:
    """Insert parts with PostgreSQL's binary COPY: the compressed chunks travel as they are.

    An INSERT binds them as hex text, twice their size, which the server then parses: about four times slower
    for a snapshot's ~10 MB of parts (``bench/graph_snapshot.py --postgres``).
    """
    quote = connection.ops.quote_name
    table = quote(SnapshotGraphPart._meta.db_table)
    columns = ", ".join(quote(name) for name in ("graph_id", "namespace", "own", "extra"))
    sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.set_types(["int8", "text", "bytea", "bytea"])
        for part in parts:
            copy.write_row((part.graph_id, part.namespace, bytes(part.own), bytes(part.extra)))
