"""Response schemas of the graph, health, snapshot and metrics endpoints, for the OpenAPI schema only.

The views build these bodies themselves (the graph is spliced from stored JSON without parsing it); these
serializers describe them, member by member, so the schema has no free-form objects at the top and a fuzzer can
check every answer against it. Members marked not required are absent when empty (``docs/graph.md``).
Members named like attributes of DRF's ``Field`` (``source``, ``parent``, ``data``) need a type-ignore: the
wire format's names win.
"""

from __future__ import annotations

from rest_framework import serializers

from topology.entity_metrics import ENTITY_KINDS
from topology.graph.model import GRAPH_TYPES


def optional_map(help_text: str = "") -> serializers.DictField:
    return serializers.DictField(child=serializers.JSONField(), required=False, help_text=help_text)


def optional_text(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, help_text=help_text)


def optional_flag(help_text: str = "") -> serializers.BooleanField:
    return serializers.BooleanField(required=False, help_text=help_text)


class SnapshotMetaSerializer(serializers.Serializer):
    """Which stored snapshot an answer comes from."""

    id = serializers.IntegerField()
    cluster = serializers.CharField()
    takenAt = serializers.DateTimeField()
    ageSeconds = serializers.FloatField(help_text="From now, or from `at` when replaying.")
    source = serializers.ChoiceField(choices=["prometheus", "direct"])  # type: ignore[assignment]
    stale = serializers.BooleanField(help_text="The metrics source is failing, or the snapshot is old.")
    sourceError = optional_text("Why the metrics source fails.")
    onDemand = optional_flag("Built on demand for a window or moment no periodic snapshot holds.")
    queryTime = serializers.DateTimeField(required=False, help_text="The moment an on-demand graph was read at.")


class ProtocolTrafficSerializer(serializers.Serializer):
    protocol = serializers.ChoiceField(choices=["http", "grpc", "tcp"])
    rates = serializers.DictField(child=serializers.CharField(), help_text="Rates as strings, e.g. httpIn: '1.50'.")


class NodeDataSerializer(serializers.Serializer):
    """A node of Kiali's graph: a workload, app, service, unknown node or box."""

    id = serializers.CharField()
    nodeType = serializers.ChoiceField(choices=["app", "workload", "service", "unknown", "box"])
    parent = optional_text("Id of the enclosing box.")  # type: ignore[assignment]
    cluster = optional_text()
    namespace = optional_text()
    workload = optional_text()
    app = optional_text()
    version = optional_text()
    service = optional_text()
    destServices = serializers.ListField(child=optional_map(), required=False)
    traffic = ProtocolTrafficSerializer(many=True, required=False)
    isGateway = optional_map("ingressInfo or egressInfo with hostnames.")
    isServiceEntry = optional_map()
    hasVS = optional_map()
    hasMissingSC = optional_flag()
    isOutOfMesh = optional_flag()
    isDead = optional_flag()
    isIdle = optional_flag()
    isOutside = optional_flag()
    isRoot = optional_flag()
    isBox = optional_text("Boxes only: app, namespace or cluster.")
    healthStatus = optional_text()
    healthReason = optional_text()
    healthWarnings = serializers.ListField(child=serializers.CharField(), required=False)
    hasHealthConfig = optional_map()


class EdgeTrafficSerializer(serializers.Serializer):
    protocol = serializers.ChoiceField(choices=["http", "grpc", "tcp"])
    rates = serializers.DictField(child=serializers.CharField(), required=False)
    responses = optional_map("By response code: flags and hosts, in percent of the edge.")


class EdgeDataSerializer(serializers.Serializer):
    id = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    traffic = EdgeTrafficSerializer(required=False)
    responseTime = optional_text("Milliseconds.")
    responseTimes = serializers.DictField(child=serializers.CharField(), required=False)
    isMTLS = optional_text("Percent of the traffic secured by mutual TLS.")
    throughput = optional_text()
    sourcePrincipal = optional_text()
    destPrincipal = optional_text()
    healthStatus = optional_text()
    healthReason = optional_text()
    healthWarnings = serializers.ListField(child=serializers.CharField(), required=False)


class NodeSerializer(serializers.Serializer):
    data = NodeDataSerializer()  # type: ignore[assignment]


class EdgeSerializer(serializers.Serializer):
    data = EdgeDataSerializer()  # type: ignore[assignment]


class ElementsSerializer(serializers.Serializer):
    nodes = NodeSerializer(many=True)
    edges = EdgeSerializer(many=True)


class GraphSerializer(serializers.Serializer):
    """Kiali's graph JSON plus the snapshot it was read from; without a snapshot, empty elements and a warning."""

    timestamp = serializers.IntegerField(required=False, help_text="Query time, unix seconds.")
    duration = serializers.IntegerField(required=False, help_text="Metric window, seconds.")
    graphType = serializers.ChoiceField(choices=list(GRAPH_TYPES), required=False)
    elements = ElementsSerializer()
    snapshot = SnapshotMetaSerializer(allow_null=True)
    warning = optional_text("Why the graph is empty (no snapshot yet).")


class GraphBuildSerializer(serializers.Serializer):
    """A graph built on demand: ``GET /api/v1/graph/builds/{id}``, and ``build`` in a graph request's 202 or 503."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["building", "complete", "failed"])
    cluster = serializers.CharField()
    window = serializers.IntegerField(help_text="Metric window, seconds.")
    queryTime = serializers.DateTimeField(help_text="The moment the telemetry is read at.")
    startedAt = serializers.DateTimeField()
    elapsedSeconds = serializers.FloatField()
    timeoutSeconds = serializers.FloatField(help_text="A build not complete by then fails.")
    statusUrl = serializers.CharField()
    error = optional_text("Why the build failed.")


class GraphBuildingSerializer(serializers.Serializer):
    """``202`` of a graph request being built on demand."""

    status = serializers.ChoiceField(choices=["building"])
    build = GraphBuildSerializer()
    elements = ElementsSerializer()


class DiffEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    sourceLabel = serializers.CharField()
    targetLabel = serializers.CharField()
    protocol = serializers.CharField()
    rate = serializers.FloatField(required=False)
    rateBefore = serializers.FloatField(required=False)
    rateAfter = serializers.FloatField(required=False)
    delta = serializers.FloatField(required=False)


class GraphDiffSerializer(serializers.Serializer):
    """Edges added, removed and changed between two snapshots (without two snapshots: the empty graph answer)."""

    graphType = serializers.ChoiceField(choices=list(GRAPH_TYPES), required=False)
    added = DiffEdgeSerializer(many=True, required=False)
    removed = DiffEdgeSerializer(many=True, required=False)
    changed = DiffEdgeSerializer(many=True, required=False)
    elements = ElementsSerializer(required=False)
    snapshot = SnapshotMetaSerializer(allow_null=True, required=False)
    warning = optional_text()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "from" is a Python keyword: declared here.
        fields["from"] = SnapshotMetaSerializer(required=False, help_text="The older snapshot.")
        fields["to"] = SnapshotMetaSerializer(required=False, help_text="The newer snapshot.")
        return fields


class EntityHealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    reason = optional_text()
    warnings = serializers.ListField(child=serializers.CharField(), required=False)
    idle = optional_flag()


class NamespaceHealthSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    reason = optional_text()
    counts = serializers.DictField(child=serializers.IntegerField(), required=False)


class HealthAnswerSerializer(serializers.Serializer):
    """Health of every entity of one kind, and namespace summaries; without a snapshot, the empty graph answer."""

    type = serializers.ChoiceField(choices=["app", "service", "workload"], required=False)
    window = serializers.IntegerField(required=False, help_text="Seconds the rates were measured over.")
    snapshot = SnapshotMetaSerializer(allow_null=True)
    namespaces = serializers.DictField(child=NamespaceHealthSummarySerializer(), required=False)
    items = serializers.DictField(child=EntityHealthSerializer(), required=False, help_text="Keyed namespace/name.")
    elements = ElementsSerializer(required=False)
    warning = optional_text()


class SnapshotTimeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    takenAt = serializers.DateTimeField()
    source = serializers.CharField()  # type: ignore[assignment]


class SnapshotListSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    snapshots = SnapshotTimeSerializer(many=True)
    graphTypes = serializers.ListField(child=serializers.CharField())


def _number(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, required=False, help_text=help_text)


class MetricsPointSerializer(serializers.Serializer):
    t = serializers.DateTimeField()
    inRate = _number("Requests/s in (http + grpc).")
    errorRate5xx = _number("Percent.")
    errorRate4xx = _number("Percent.")
    errorRateGrpc = _number("Percent.")
    avg = _number("ms")
    p50 = _number("ms")
    p95 = _number("ms")
    p99 = _number("ms")
    outRate = _number()
    outErrorRate5xx = _number()
    outErrorRate4xx = _number()
    outErrorRateGrpc = _number()
    outAvg = _number()
    outP50 = _number()
    outP95 = _number()
    outP99 = _number()
    tcpIn = _number("Bytes/s.")
    tcpOut = _number("Bytes/s.")


class EntityMetricsSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    kind = serializers.ChoiceField(choices=list(ENTITY_KINDS))
    namespace = serializers.CharField()
    name = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    points = MetricsPointSerializer(many=True)
