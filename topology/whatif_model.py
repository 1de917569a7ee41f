"""Plain typed data of the what-if preview (``topology.whatif``): its inputs, the ``Estimate`` it computes with,
and its answer. Pure: no Django, no network.

An ``Estimate`` is a non-negative quantity known exactly (``value``) or only between bounds (``low``..``high``,
``value`` None): a route whose match depends on what telemetry does not record (a header) catches an unknown
share of the traffic, and every rate downstream of it is then known only between bounds. Arithmetic on estimates
keeps the bounds valid (not always tight: correlations between two unknown shares are not tracked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: Differences below this are rounding, not change (rates are requests/s).
EPSILON = 1e-9


@dataclass(frozen=True)
class Estimate:
    """A non-negative number, exact (``value``) or only known to lie in ``[low, high]`` (``value`` None)."""

    low: float
    high: float
    value: float | None

    @staticmethod
    def exact(value: float) -> Estimate:
        return Estimate(value, value, value)

    @staticmethod
    def between(low: float, high: float) -> Estimate:
        """An unknown amount in ``[low, high]``; exact when the bounds meet."""
        if high - low <= EPSILON:
            return Estimate.exact(low)
        return Estimate(low, high, None)

    @property
    def known(self) -> bool:
        return self.value is not None

    def __add__(self, other: Estimate) -> Estimate:
        if self.value is not None and other.value is not None:
            return Estimate.exact(self.value + other.value)
        return Estimate.between(self.low + other.low, self.high + other.high)

    def scaled(self, factor: float) -> Estimate:
        """This times a non-negative exact ``factor``."""
        if self.value is not None:
            return Estimate.exact(self.value * factor)
        return Estimate.between(self.low * factor, self.high * factor)

    def times(self, other: Estimate) -> Estimate:
        """The product of two non-negative estimates."""
        if self.value is not None and other.value is not None:
            return Estimate.exact(self.value * other.value)
        return Estimate.between(self.low * other.low, self.high * other.high)

    def capped(self, ceiling: Estimate) -> Estimate:
        """At most ``ceiling`` (errors never exceed the requests they are errors of)."""
        if self.value is not None and ceiling.value is not None:
            return Estimate.exact(min(self.value, ceiling.value))
        return Estimate.between(min(self.low, ceiling.low), min(self.high, ceiling.high))

    def close_to(self, other: Estimate) -> bool:
        return (
            abs(self.low - other.low) <= EPSILON
            and abs(self.high - other.high) <= EPSILON
            and (self.value is None) == (other.value is None)
        )


ZERO = Estimate.exact(0.0)
ONE = Estimate.exact(1.0)


@dataclass(frozen=True)
class ServiceBackend:
    """A Kubernetes Service: the pods it selects are its endpoints."""

    namespace: str
    name: str
    selector: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkloadBackend:
    """A workload, its pod template labels and how many ready pods (endpoints) it has."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ready_pods: int = 1


@dataclass(frozen=True)
class RoutingObject:
    """A VirtualService or DestinationRule as stored or proposed (only the spec matters to routing)."""

    kind: str
    namespace: str
    name: str
    spec: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProposedChange:
    """Create or replace (``apply``) an object, or ``delete`` it."""

    action: Literal["apply", "delete"]
    obj: RoutingObject


@dataclass(frozen=True)
class MeshInventory:
    """What routing needs of the cluster besides the Istio objects."""

    services: tuple[ServiceBackend, ...] = ()
    workloads: tuple[WorkloadBackend, ...] = ()
    domain_suffix: str = "cluster.local"


@dataclass(frozen=True)
class EdgeTraffic:
    """Requests/s on an edge and how many of them fail (HTTP 4xx/5xx or no response; gRPC errors)."""

    rate: Estimate = ZERO
    errors: Estimate = ZERO

    def __add__(self, other: EdgeTraffic) -> EdgeTraffic:
        return EdgeTraffic(self.rate + other.rate, self.errors + other.errors)

    def scaled(self, factor: Estimate) -> EdgeTraffic:
        return EdgeTraffic(self.rate.times(factor), self.errors.times(factor))

    @property
    def error_percent(self) -> float | None:
        """Errors in percent of requests, when both are known or there can be no error (0 without requests)."""
        if self.errors.high <= EPSILON:
            return 0.0
        if self.rate.value is None or self.errors.value is None:
            return None
        return 100.0 * self.errors.value / self.rate.value if self.rate.value > EPSILON else 0.0


#: How a predicted edge came about: ``routed`` by a changed routing rule, ``mirror`` (copies whose responses are
#: ignored), ``scaled`` because the traffic into its source changed, ``unchanged``.
EdgeKind = Literal["routed", "mirror", "scaled", "unchanged"]


@dataclass(frozen=True)
class PredictedEdge:
    """One edge of the versioned-app graph: what it carries now and what it is expected to carry."""

    source: str
    target: str
    protocol: str
    kind: EdgeKind
    current: EdgeTraffic
    predicted: EdgeTraffic
    edge_id: str = ""
    response_time_ms: Estimate | None = None
    delay_ms: float = 0.0
    delayed_share: Estimate = ZERO
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return not (
            self.predicted.rate.close_to(self.current.rate) and self.predicted.errors.close_to(self.current.errors)
        ) or bool(self.delay_ms)

    @property
    def delta(self) -> float | None:
        """Predicted minus current requests/s, when the prediction is exact."""
        if self.predicted.rate.value is None or self.current.rate.value is None:
            return None
        return self.predicted.rate.value - self.current.rate.value


@dataclass(frozen=True)
class WhatIfResult:
    """Every edge of the graph predicted, the nodes the change adds, which services it reroutes, and notes."""

    edges: tuple[PredictedEdge, ...]
    new_nodes: tuple[Mapping[str, Any], ...]
    affected_services: tuple[str, ...]
    notes: tuple[str, ...]
    #: Workloads (``namespace/name``) predicted to get requests with no traffic today and no profile from older
    #: graphs: older graphs would tell what they call.
    unprofiled: tuple[str, ...] = ()

    @property
    def changed_edges(self) -> tuple[PredictedEdge, ...]:
        return tuple(e for e in self.edges if e.changed)
