"""The health step: annotate graph nodes and edges with ``topology.health`` statuses.

Nodes get the health of what they stand for (workload, app or service) from the traffic in the map plus
optional replica counts; edges get the request health of their own traffic, judged with the thresholds of
their target.  Per-object ``mesh-ui.io/health-rate`` annotations change the thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from topology.graph.model import Edge, HealthAnnotation, Node, TrafficMap
from topology.graph.steps import StepContext
from topology.health import (
    DEFAULT_HEALTH_CONFIG,
    HealthConfig,
    HealthResult,
    HealthStatus,
    RequestRates,
    WorkloadReplicas,
    compute_app_health,
    compute_rate_health,
    compute_service_health,
    compute_workload_health,
    resolve_health_config,
)

HealthObjectKey = tuple[str, str, str]  # (kind: "workload" | "app" | "service", namespace, name)


@dataclass(frozen=True)
class GraphHealthInputs:
    """Optional health inputs: the global config, replicas by ``(namespace, workload)`` and annotations."""

    config: HealthConfig = DEFAULT_HEALTH_CONFIG
    replicas: Mapping[tuple[str, str], WorkloadReplicas] = field(default_factory=dict)
    annotations: Mapping[HealthObjectKey, Mapping[str, str]] = field(default_factory=dict)


_RATE_KEYS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    direction: (
        f"http{direction}",
        f"http{direction}4xx",
        f"http{direction}5xx",
        f"grpc{direction}",
        f"grpc{direction}Err",
        f"http{direction}NoResponse",
        f"grpc{direction}NoResponse",
    )
    for direction in ("In", "Out")
}


def _node_rates(node: Node, direction: str) -> RequestRates:
    """Request rates of a node in one direction (``In`` or ``Out``) from its Kiali rate keys."""
    get = node.rates.get
    http, http_4xx, http_5xx, grpc, grpc_err, http_none, grpc_none = _RATE_KEYS[direction]
    no_response = get(http_none, 0.0) + get(grpc_none, 0.0)
    return RequestRates(
        get(http, 0.0), get(http_4xx, 0.0), get(http_5xx, 0.0), get(grpc, 0.0), get(grpc_err, 0.0), no_response
    )


def build_inbound_rates(node: Node) -> RequestRates:
    """Inbound request rates of a node from its Kiali rate keys."""
    return _node_rates(node, "In")


def build_outbound_rates(node: Node) -> RequestRates:
    """Outbound request rates of a node from its rate keys."""
    return _node_rates(node, "Out")


def build_edge_rates(edge: Edge) -> RequestRates:
    """Request rates of one edge (tcp edges carry none)."""
    if edge.protocol == "http":
        return RequestRates(edge.rate, edge.rate_4xx, edge.rate_5xx, no_response=edge.rate_no_response)
    if edge.protocol == "grpc":
        return RequestRates(grpc=edge.rate, grpc_err=edge.rate_grpc_err, no_response=edge.rate_no_response)
    return RequestRates()


class HealthStep:
    """Set ``health`` on every workload, app and service node and on every request edge."""

    name = "health"

    def __init__(self, inputs: GraphHealthInputs | None = None) -> None:
        """Use ``inputs`` (defaults: Kiali-like thresholds, no replica information, no annotations)."""
        self.inputs = inputs or GraphHealthInputs()

    def _config_for(self, node: Node) -> HealthConfig:
        annotations = self.inputs.annotations
        if not annotations:
            return self.inputs.config
        if node.node_type == "service":
            key: HealthObjectKey = ("service", node.namespace, node.service)
        elif node.node_type == "app":
            key = ("app", node.namespace, node.app)
            if key not in annotations and node.workload:
                key = ("workload", node.namespace, node.workload)
        else:
            key = ("workload", node.namespace, node.workload)
        return resolve_health_config(self.inputs.config, annotations.get(key))

    def compute_node_health(self, node: Node, config: HealthConfig) -> HealthResult | None:
        """Health of one node, or None for nodes without health (unknown, boxes)."""
        inbound, outbound = build_inbound_rates(node), build_outbound_rates(node)
        if node.node_type == "service":
            return compute_service_health(inbound, config)
        replicas = [
            r for w in sorted(node.workloads) if (r := self.inputs.replicas.get((node.namespace, w))) is not None
        ]
        if node.has_missing_sidecar:
            replicas = [WorkloadReplicas(r.name, r.desired, r.current, r.available, False) for r in replicas]
        if node.node_type == "workload":
            result = compute_workload_health(replicas[0] if replicas else None, inbound, outbound, config)
        elif node.node_type == "app":
            result = compute_app_health(replicas, inbound, outbound, config)
        else:
            return None
        if node.has_missing_sidecar and not replicas:
            result = HealthResult(result.status, result.reasons, (*result.warnings, "missing sidecar"))
        return result

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Annotate nodes, then edges (with their target's thresholds).

        Annotations are immutable, so equal ones are shared (most nodes and edges are simply healthy).
        """
        configs: dict[str, HealthConfig] = {}
        annotations = _Annotations()
        for node in tm.nodes.values():
            config = self._config_for(node)
            configs[node.id] = config
            result = self.compute_node_health(node, config)
            if result is not None:
                node.health = annotations.get(result, config)
        default = self.inputs.config
        for edge in tm.edges.values():
            protocol = edge.protocol
            if protocol == "tcp" or edge.rate <= 0:
                continue
            config = configs.get(edge.target, default)
            if not edge.rate_no_response and (
                (protocol == "http" and not (edge.rate_4xx or edge.rate_5xx))
                or (protocol == "grpc" and not edge.rate_grpc_err)
            ):
                result = _HEALTHY  # what compute_rate_health says of requests without errors
            else:
                result = compute_rate_health(build_edge_rates(edge), config)
            edge.health = annotations.get(result, config)


_HEALTHY = HealthResult(HealthStatus.HEALTHY)


class _Annotations:
    """Health annotations memoized by result and config (the configs must outlive the memo)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[HealthStatus, tuple[str, ...], tuple[str, ...], int], HealthAnnotation] = {}

    def get(self, result: HealthResult, config: HealthConfig) -> HealthAnnotation:
        key = (result.status, result.reasons, result.warnings, id(config))
        annotation = self._memo.get(key)
        if annotation is None:
            annotation = self._memo[key] = _annotation(result, config)
        return annotation


def _annotation(result: HealthResult, config: HealthConfig) -> HealthAnnotation:
    return HealthAnnotation(
        status=result.status.value,
        reason=result.reason,
        warnings=result.warnings,
        config=dict(config.annotations) if config.annotations else None,
    )
