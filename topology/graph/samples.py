"""Typed pipeline inputs: Istio metric samples, the optional inventory, and parsers for Prometheus rows.

A sample is one row of an instant-vector result: the Istio standard labels it was grouped by plus a value.
Labels are a plain dict (a ``TypedDict``) so parsing stays cheap on large meshes; a missing label reads as
Istio's ``"unknown"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from topology.graph.model import UNKNOWN, GatewayInfo, ServiceEntryInfo


class IstioLabels(TypedDict, total=False):
    """Istio standard metric labels used by the graph (all strings, ``"unknown"`` when Istio has no value)."""

    reporter: str
    source_cluster: str
    source_workload_namespace: str
    source_workload: str
    source_app: str
    source_version: str
    source_canonical_service: str
    source_canonical_revision: str
    source_principal: str
    destination_cluster: str
    destination_service: str
    destination_service_name: str
    destination_service_namespace: str
    destination_workload_namespace: str
    destination_workload: str
    destination_app: str
    destination_version: str
    destination_canonical_service: str
    destination_canonical_revision: str
    destination_principal: str
    request_protocol: str
    response_code: str
    grpc_response_status: str
    response_flags: str
    connection_security_policy: str


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One row of ``sum(rate(istio_requests_total[W])) by (...)``: labels and requests per second."""

    labels: IstioLabels
    rate: float


@dataclass(frozen=True, slots=True)
class TcpSample:
    """TCP traffic of one edge row: bytes/s sent and received (``istio_tcp_{sent,received}_bytes_total``)."""

    labels: IstioLabels
    sent_bytes: float = 0.0
    received_bytes: float = 0.0


@dataclass(frozen=True, slots=True)
class DirectionSample:
    """Traffic of one request edge row in both directions, per second: gRPC messages
    (``istio_request_messages_total`` / ``istio_response_messages_total``) or HTTP body bytes
    (``istio_request_bytes_sum`` / ``istio_response_bytes_sum``)."""

    labels: IstioLabels
    request: float = 0.0
    response: float = 0.0


@dataclass(frozen=True, slots=True)
class DirectionSamples:
    """A window's traffic by direction: gRPC messages and HTTP body bytes (what completes the graphs with the latency
    samples)."""

    grpc_messages: Sequence[DirectionSample] = ()
    http_bytes: Sequence[DirectionSample] = ()


@dataclass(frozen=True, slots=True)
class LatencySample:
    """Request duration of one edge row in milliseconds: average and histogram quantiles.

    ``weight`` is the request rate the values were measured over (used to merge rows into one edge); a row
    without one (0) weighs 1.
    """

    labels: IstioLabels
    avg: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class WorkloadInfo:
    """A workload known from the inventory (used for idle nodes, dead nodes and gateway detection).

    ``pods`` is the number of pods currently running, or None when unknown; ``services`` are names of the
    services (same namespace) selecting it.  ``cluster`` may be empty to match any cluster.
    """

    namespace: str
    name: str
    app: str = UNKNOWN
    version: str = UNKNOWN
    cluster: str = ""
    services: tuple[str, ...] = ()
    pods: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A service known from the inventory; ``cluster`` may be empty to match any cluster."""

    namespace: str
    name: str
    cluster: str = ""


@dataclass(frozen=True, slots=True)
class MeshContext:
    """Mesh facts the steps need besides telemetry; every field is optional.

    - ``workloads`` / ``services``: inventory (idle nodes, dead nodes).
    - ``gateways``: ``(namespace, workload)`` -> gateway info; workloads named or labelled like Istio
      gateways are detected without it.
    - ``virtual_service_hosts``: hosts that have a VirtualService (FQDN, ``name.namespace`` or short name).
    - ``missing_sidecars``: ``(namespace, workload)`` pairs running without an Istio sidecar.
    - ``service_entries``: host -> ServiceEntry info for hosts declared by ServiceEntries.
    - ``routing_flags``: host -> the routing flags of the VirtualServices naming it (``topology.graph.istio_flags``).
    - ``circuit_breakers``: FQDN host -> the versions a DestinationRule breaks circuits for.
    """

    workloads: Sequence[WorkloadInfo] = ()
    services: Sequence[ServiceInfo] = ()
    gateways: Mapping[tuple[str, str], GatewayInfo] = field(default_factory=dict)
    virtual_service_hosts: frozenset[str] = frozenset()
    missing_sidecars: frozenset[tuple[str, str]] = frozenset()
    service_entries: Mapping[str, ServiceEntryInfo] = field(default_factory=dict)
    routing_flags: Mapping[str, frozenset[str]] = field(default_factory=dict)
    circuit_breakers: Mapping[str, frozenset[str]] = field(default_factory=dict)


#: The label and value Istio puts on an ambient waypoint proxy's pods (Kiali's ``ambientWaypointLabel``).
WAYPOINT_LABEL: Final = ("gateway.istio.io/managed", "istio.io-mesh-controller")


def is_waypoint_workload(workload: WorkloadInfo | None) -> bool:
    """True for an ambient waypoint proxy (a Gateway API gateway of class ``istio-waypoint``, labelled as such)."""
    return workload is not None and workload.labels.get(WAYPOINT_LABEL[0]) == WAYPOINT_LABEL[1]


def waypoint_keys(mesh: MeshContext) -> frozenset[tuple[str, str, str]]:
    """``(cluster, namespace, workload)`` of every waypoint proxy of the inventory (cluster ``""``: any cluster)."""
    return frozenset((w.cluster, w.namespace, w.name) for w in mesh.workloads if is_waypoint_workload(w))


def label(labels: IstioLabels, name: str) -> str:
    """Return one label value, ``"unknown"`` when absent or empty."""
    value = labels.get(name)
    return value if isinstance(value, str) and value else UNKNOWN


def _float_value(row: Mapping[str, Any]) -> float:
    value = row.get("value")
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"Prometheus row without a [timestamp, value] pair: {row!r}")
    number = float(value[1])
    return 0.0 if math.isnan(number) or math.isinf(number) else number


def parse_request_samples(rows: Iterable[Mapping[str, Any]]) -> list[RequestSample]:
    """Turn Prometheus instant-vector rows (``{"metric": {...}, "value": [ts, "1.5"]}``) into samples."""
    return [RequestSample(labels=row.get("metric", {}), rate=_float_value(row)) for row in rows]


def _label_key(metric: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(metric.items()))


def build_tcp_samples(
    sent_rows: Iterable[Mapping[str, Any]], received_rows: Iterable[Mapping[str, Any]]
) -> list[TcpSample]:
    """Join the sent-bytes and received-bytes query results on their labels into TCP samples."""
    joined: dict[tuple[tuple[str, str], ...], list[Any]] = {}
    for rows, index in ((sent_rows, 1), (received_rows, 2)):
        for row in rows:
            metric = row.get("metric", {})
            entry = joined.setdefault(_label_key(metric), [metric, 0.0, 0.0])
            entry[index] += _float_value(row)
    return [TcpSample(labels=m, sent_bytes=s, received_bytes=r) for m, s, r in joined.values()]


def build_direction_samples(
    request_rows: Iterable[Mapping[str, Any]], response_rows: Iterable[Mapping[str, Any]]
) -> list[DirectionSample]:
    """Join the request-direction and response-direction query results on their labels (as
    :func:`build_tcp_samples`)."""
    return [
        DirectionSample(labels=t.labels, request=t.sent_bytes, response=t.received_bytes)
        for t in build_tcp_samples(request_rows, response_rows)
    ]


def build_latency_samples(
    avg_rows: Iterable[Mapping[str, Any]] = (),
    p50_rows: Iterable[Mapping[str, Any]] = (),
    p95_rows: Iterable[Mapping[str, Any]] = (),
    p99_rows: Iterable[Mapping[str, Any]] = (),
    count_rows: Iterable[Mapping[str, Any]] = (),
) -> list[LatencySample]:
    """Join the average, quantile and (optional) request-count query results on their labels.

    Rows whose value is NaN (``histogram_quantile`` over an empty window) count as missing.
    """
    joined: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for rows, stat in ((avg_rows, "avg"), (p50_rows, "p50"), (p95_rows, "p95"), (p99_rows, "p99")):
        for row in rows:
            metric = row.get("metric", {})
            raw = row.get("value", [0, "NaN"])[1]
            value = float(raw)
            if not math.isfinite(value):
                continue
            joined.setdefault(_label_key(metric), {"labels": metric})[stat] = value
    for row in count_rows:
        metric = row.get("metric", {})
        entry = joined.get(_label_key(metric))
        if entry is not None:
            entry["weight"] = _float_value(row)
    return [LatencySample(**entry) for entry in joined.values()]
