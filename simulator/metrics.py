"""Istio standard metrics as the simulated Envoy sidecars would report them.

This module is pure bookkeeping: it knows the Istio metric families, their label sets
(in the order the Istio stats extension emits them) and their histogram buckets, and keeps
bounded per-series counters.  :meth:`MetricsRegistry.collector` copies them into an
:class:`IstioMetricsCollector`, which hands them to ``prometheus_client`` as metric families
(``CounterMetricFamily``, ``HistogramMetricFamily``), and :func:`render_exposition` writes the
Prometheus text exposition format 0.0.4 with ``prometheus_client``'s ``generate_latest`` on a
``CollectorRegistry`` of its own (never the process-wide one).  It knows nothing about routing
or traffic generation (see ``simulator.traffic``).

Series are keyed by ``(reporting pod, metric name, label values)``; only counts and sums
are kept, never individual requests, so memory grows with the number of distinct label
combinations, not with traffic volume.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry
from prometheus_client.samples import Sample

UNKNOWN = "unknown"

REQUESTS_TOTAL = "istio_requests_total"
REQUEST_DURATION = "istio_request_duration_milliseconds"
REQUEST_BYTES = "istio_request_bytes"
RESPONSE_BYTES = "istio_response_bytes"
TCP_SENT_BYTES = "istio_tcp_sent_bytes_total"
TCP_RECEIVED_BYTES = "istio_tcp_received_bytes_total"
TCP_CONNECTIONS_OPENED = "istio_tcp_connections_opened_total"
TCP_CONNECTIONS_CLOSED = "istio_tcp_connections_closed_total"

#: Label names of HTTP/gRPC metrics, in the order the Istio stats extension emits them.
REQUEST_LABEL_NAMES: tuple[str, ...] = (
    "reporter",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_service_name",
    "destination_service_namespace",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
)

#: TCP metrics carry the same labels minus the HTTP-only response_code and grpc_response_status.
TCP_LABEL_NAMES: tuple[str, ...] = tuple(
    name for name in REQUEST_LABEL_NAMES if name not in ("response_code", "grpc_response_status")
)

#: Istio's default buckets for istio_request_duration_milliseconds.
DURATION_BUCKETS_MS: tuple[float, ...] = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
    300000, 600000, 1800000, 3600000,
)  # fmt: skip

#: Istio's default buckets for istio_request_bytes / istio_response_bytes (powers of ten).
BYTES_BUCKETS: tuple[float, ...] = tuple(float(10**exponent) for exponent in range(10))

#: The content type of :meth:`MetricsRegistry.render`'s output.
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

MetricType = Literal["counter", "histogram"]


@dataclass(frozen=True)
class MetricFamily:
    """Static description of one metric family."""

    name: str
    type: MetricType
    help: str
    label_names: tuple[str, ...]
    buckets: tuple[float, ...] = ()


METRIC_FAMILIES: tuple[MetricFamily, ...] = (
    MetricFamily(REQUESTS_TOTAL, "counter", "Total number of requests handled by an Istio proxy.",
                 REQUEST_LABEL_NAMES),
    MetricFamily(REQUEST_DURATION, "histogram", "Duration of requests in milliseconds.",
                 REQUEST_LABEL_NAMES, DURATION_BUCKETS_MS),
    MetricFamily(REQUEST_BYTES, "histogram", "Size of HTTP requests in bytes.",
                 REQUEST_LABEL_NAMES, BYTES_BUCKETS),
    MetricFamily(RESPONSE_BYTES, "histogram", "Size of HTTP responses in bytes.",
                 REQUEST_LABEL_NAMES, BYTES_BUCKETS),
    MetricFamily(TCP_SENT_BYTES, "counter", "Total bytes sent during response of a TCP connection.",
                 TCP_LABEL_NAMES),
    MetricFamily(TCP_RECEIVED_BYTES, "counter", "Total bytes received during request of a TCP connection.",
                 TCP_LABEL_NAMES),
    MetricFamily(TCP_CONNECTIONS_OPENED, "counter", "Total number of TCP connections opened.",
                 TCP_LABEL_NAMES),
    MetricFamily(TCP_CONNECTIONS_CLOSED, "counter", "Total number of TCP connections closed.",
                 TCP_LABEL_NAMES),
)  # fmt: skip

FAMILIES_BY_NAME: dict[str, MetricFamily] = {family.name: family for family in METRIC_FAMILIES}
_DURATION_FAMILY = FAMILIES_BY_NAME[REQUEST_DURATION]
_REQUEST_BYTES_FAMILY = FAMILIES_BY_NAME[REQUEST_BYTES]
_RESPONSE_BYTES_FAMILY = FAMILIES_BY_NAME[RESPONSE_BYTES]


def format_bucket_bound(bound: float) -> str:
    """Bucket bound as Envoy prints it: ``0.5``, ``300000``, ``1.8e+06``."""
    return f"{bound:g}"


#: The ``le`` label values of each histogram family, ``+Inf`` last (given to prometheus_client as strings, so the
#: exposition keeps Envoy's spelling).
_BUCKET_BOUNDS: dict[str, tuple[str, ...]] = {
    family.name: (*(format_bucket_bound(bound) for bound in family.buckets), "+Inf")
    for family in METRIC_FAMILIES
    if family.type == "histogram"
}


@dataclass(frozen=True)
class PeerLabels:
    """What a proxy knows about one side (source or destination) of a request."""

    workload: str = UNKNOWN
    namespace: str = UNKNOWN
    principal: str = UNKNOWN
    app: str = UNKNOWN
    version: str = UNKNOWN
    canonical_service: str = UNKNOWN
    canonical_revision: str = UNKNOWN
    cluster: str = UNKNOWN


UNKNOWN_PEER = PeerLabels()


@dataclass(frozen=True)
class ServiceLabels:
    """The destination service of a request (``destination_service*`` labels)."""

    fqdn: str = UNKNOWN
    name: str = UNKNOWN
    namespace: str = UNKNOWN


UNKNOWN_SERVICE = ServiceLabels()


def standard_labels(
    *,
    reporter: str,
    source: PeerLabels,
    destination: PeerLabels,
    service: ServiceLabels,
    request_protocol: str,
    response_flags: str,
    connection_security_policy: str,
    response_code: str | None = None,
    grpc_response_status: str = "",
) -> dict[str, str]:
    """Build the full Istio label set; ``response_code=None`` means a TCP metric (no HTTP labels)."""
    labels = {
        "reporter": reporter,
        "source_workload": source.workload,
        "source_canonical_service": source.canonical_service,
        "source_canonical_revision": source.canonical_revision,
        "source_workload_namespace": source.namespace,
        "source_principal": source.principal,
        "source_app": source.app,
        "source_version": source.version,
        "source_cluster": source.cluster,
        "destination_workload": destination.workload,
        "destination_workload_namespace": destination.namespace,
        "destination_principal": destination.principal,
        "destination_app": destination.app,
        "destination_version": destination.version,
        "destination_service": service.fqdn,
        "destination_canonical_service": destination.canonical_service,
        "destination_canonical_revision": destination.canonical_revision,
        "destination_service_name": service.name,
        "destination_service_namespace": service.namespace,
        "destination_cluster": destination.cluster,
        "request_protocol": request_protocol,
        "response_flags": response_flags or "-",
        "connection_security_policy": connection_security_policy,
    }
    if response_code is not None:
        labels["response_code"] = response_code
        labels["grpc_response_status"] = grpc_response_status
    return labels


@dataclass
class _HistogramState:
    """Per-bucket (non-cumulative) counts plus sum and count of one histogram series."""

    bucket_counts: list[int]
    total: float = 0.0
    count: int = 0


@dataclass(frozen=True)
class CounterSample:
    """One counter series in a snapshot."""

    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class HistogramSample:
    """One histogram series in a snapshot; ``cumulative_counts[i]`` counts observations <= ``bounds[i]``."""

    name: str
    labels: dict[str, str]
    bounds: tuple[float, ...]
    cumulative_counts: tuple[int, ...]
    sum: float
    count: int


def _labels_match(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


@dataclass(frozen=True)
class MetricsSnapshot:
    """A consistent copy of all series (summed over the selected pods) at one simulated instant."""

    simulated_seconds: float
    counters: tuple[CounterSample, ...] = ()
    histograms: tuple[HistogramSample, ...] = ()

    def counter_total(self, name: str, **wanted: str) -> float:
        """Sum of the counter ``name`` over all series whose labels include ``wanted``."""
        return sum(s.value for s in self.counters if s.name == name and _labels_match(s.labels, wanted))

    def histogram_count(self, name: str, **wanted: str) -> int:
        """Sum of ``_count`` of histogram ``name`` over all series whose labels include ``wanted``."""
        return sum(s.count for s in self.histograms if s.name == name and _labels_match(s.labels, wanted))

    def histogram_sum(self, name: str, **wanted: str) -> float:
        """Sum of ``_sum`` of histogram ``name`` over all series whose labels include ``wanted``."""
        return sum(s.sum for s in self.histograms if s.name == name and _labels_match(s.labels, wanted))


_SeriesKey = tuple[str, tuple[str, ...]]
#: A counter series of the merged exposition: name, Istio label values, and its pod's scrape target labels.
_TargetSeriesKey = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]


@dataclass
class MetricsRegistry:
    """Thread-safe store of Istio metric series, attributed to the pod whose proxy reported them."""

    _counters: dict[str, dict[_SeriesKey, float]] = field(default_factory=dict)
    _histograms: dict[str, dict[_SeriesKey, _HistogramState]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Labels Prometheus' pod-label relabelling gives every series scraped from a pod (ztunnel's ``app="ztunnel"``,
    #: which tells its rows apart): the merged exposition carries them on that pod's counters, as Prometheus stores
    #: them; a pod's own endpoint does not (the proxy does not export them).
    _target_labels: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def set_target_labels(self, reporter_pod: str, labels: Mapping[str, str]) -> None:
        """The scrape target labels of ``reporter_pod`` (see ``_target_labels``; counters only)."""
        with self._lock:
            self._target_labels[reporter_pod] = tuple(sorted(labels.items()))

    def add_to_counter(self, reporter_pod: str, name: str, labels: Mapping[str, str], amount: float = 1) -> None:
        """Increase counter ``name`` of the series ``labels`` reported by ``reporter_pod``."""
        family = FAMILIES_BY_NAME[name]
        if family.type != "counter":
            raise ValueError(f"{name} is not a counter")
        key = (name, _label_values(family, labels))
        with self._lock:
            series = self._counters.setdefault(reporter_pod, {})
            series[key] = series.get(key, 0) + amount

    def observe(self, reporter_pod: str, name: str, labels: Mapping[str, str], value: float) -> None:
        """Record one observation of histogram ``name`` for the series ``labels``."""
        family = FAMILIES_BY_NAME[name]
        if family.type != "histogram":
            raise ValueError(f"{name} is not a histogram")
        values = _label_values(family, labels)
        with self._lock:
            self._observe_locked(reporter_pod, family, values, value)

    def record_request(
        self,
        reporter_pod: str,
        labels: Mapping[str, str],
        duration_ms: float,
        request_bytes: float,
        response_bytes: float,
    ) -> None:
        """One HTTP request as a proxy reports it: the counter plus the three histograms."""
        values = _label_values(FAMILIES_BY_NAME[REQUESTS_TOTAL], labels)
        with self._lock:
            series = self._counters.setdefault(reporter_pod, {})
            key = (REQUESTS_TOTAL, values)
            series[key] = series.get(key, 0) + 1
            self._observe_locked(reporter_pod, _DURATION_FAMILY, values, duration_ms)
            self._observe_locked(reporter_pod, _REQUEST_BYTES_FAMILY, values, request_bytes)
            self._observe_locked(reporter_pod, _RESPONSE_BYTES_FAMILY, values, response_bytes)

    def _observe_locked(self, reporter_pod: str, family: MetricFamily, values: tuple[str, ...], value: float) -> None:
        series = self._histograms.setdefault(reporter_pod, {})
        key = (family.name, values)
        state = series.get(key)
        if state is None:
            state = series[key] = _HistogramState([0] * (len(family.buckets) + 1))
        state.bucket_counts[bisect.bisect_left(family.buckets, value)] += 1  # first bound >= value
        state.total += value
        state.count += 1

    def reporter_pods(self) -> list[str]:
        """Names of all pods that have reported at least one series."""
        with self._lock:
            return sorted(set(self._counters) | set(self._histograms))

    def _merged(self, pod: str | None) -> tuple[dict[_TargetSeriesKey, float], dict[_SeriesKey, _HistogramState]]:
        """Copies of the counter and histogram series of ``pod`` (or all pods summed, counters with their pod's target
        labels), taken under the lock."""
        counters: dict[_TargetSeriesKey, float] = {}
        histograms: dict[_SeriesKey, _HistogramState] = {}
        with self._lock:
            pods = [pod] if pod is not None else list(self._counters) + list(self._histograms)
            for reporter in dict.fromkeys(pods):
                target = self._target_labels.get(reporter, ()) if pod is None else ()
                for (name, values), value in self._counters.get(reporter, {}).items():
                    counter_key = (name, values, target)
                    counters[counter_key] = counters.get(counter_key, 0) + value
                for key, state in self._histograms.get(reporter, {}).items():
                    merged = histograms.get(key)
                    if merged is None:
                        merged = histograms[key] = _HistogramState([0] * len(state.bucket_counts))
                    merged.bucket_counts = [
                        a + b for a, b in zip(merged.bucket_counts, state.bucket_counts, strict=True)
                    ]
                    merged.total += state.total
                    merged.count += state.count
        return counters, histograms

    def snapshot(self, simulated_seconds: float, pod: str | None = None) -> MetricsSnapshot:
        """Structured copy of all series (of one reporting pod, or all pods summed)."""
        counters, histograms = self._merged(pod)
        counter_samples = tuple(
            CounterSample(
                name, {**dict(zip(FAMILIES_BY_NAME[name].label_names, values, strict=True)), **dict(target)}, value
            )
            for (name, values, target), value in sorted(counters.items())
        )
        histogram_samples = []
        for (name, values), state in sorted(histograms.items()):
            family = FAMILIES_BY_NAME[name]
            cumulative = list(accumulate(state.bucket_counts))
            histogram_samples.append(
                HistogramSample(
                    name,
                    dict(zip(family.label_names, values, strict=True)),
                    family.buckets,
                    tuple(cumulative[:-1]),
                    state.total,
                    state.count,
                )
            )
        return MetricsSnapshot(simulated_seconds, counter_samples, tuple(histogram_samples))

    def collector(self, pod: str | None = None) -> IstioMetricsCollector:
        """A collector of a copy of the current series: one reporting pod's, or all pods summed."""
        counters, histograms = self._merged(pod)
        return IstioMetricsCollector(counters, histograms)

    def render(self, pod: str | None = None) -> str:
        """Prometheus text format 0.0.4 of one reporting pod's series, or of all pods summed."""
        return render_exposition(self.collector(pod))


class IstioMetricsCollector:
    """A ``prometheus_client`` collector of a copy of Istio series (made by :meth:`MetricsRegistry.collector`).

    Families come in :data:`METRIC_FAMILIES` order, each with its HELP and TYPE even when it has no series yet;
    series are sorted by label values.  Counters carry no created timestamp, so no ``_created`` series appear.
    """

    def __init__(
        self, counters: Mapping[_TargetSeriesKey, float], histograms: Mapping[_SeriesKey, _HistogramState]
    ) -> None:
        self._counters = counters
        self._histograms = histograms

    def describe(self) -> Iterator[Metric]:
        """The families without samples (how a ``CollectorRegistry`` learns the names a collector owns)."""
        for family in METRIC_FAMILIES:
            if family.type == "counter":
                yield CounterMetricFamily(family.name, family.help, labels=family.label_names)
            else:
                yield HistogramMetricFamily(family.name, family.help, labels=family.label_names)

    def collect(self) -> Iterator[Metric]:
        """Every family with its samples."""
        counter_families = {
            family.name: CounterMetricFamily(family.name, family.help, labels=family.label_names)
            for family in METRIC_FAMILIES
            if family.type == "counter"
        }
        histogram_families = {
            family.name: HistogramMetricFamily(family.name, family.help, labels=family.label_names)
            for family in METRIC_FAMILIES
            if family.type == "histogram"
        }
        for (name, values, target), value in sorted(self._counters.items()):
            counter_family = counter_families[name]
            if not target:
                counter_family.add_metric(values, value)
                continue
            labels = {**dict(zip(FAMILIES_BY_NAME[name].label_names, values, strict=True)), **dict(target)}
            counter_family.samples.append(Sample(counter_family.name + "_total", labels, value))
        for (name, values), state in sorted(self._histograms.items()):
            buckets = list(zip(_BUCKET_BOUNDS[name], accumulate(state.bucket_counts), strict=True))
            histogram_families[name].add_metric(values, buckets, state.total)
        for family in METRIC_FAMILIES:
            yield counter_families[family.name] if family.type == "counter" else histogram_families[family.name]


def render_exposition(collector: IstioMetricsCollector) -> str:
    """The Prometheus text format 0.0.4 of ``collector``, written by prometheus_client on a registry of its own."""
    exposition = CollectorRegistry()
    exposition.register(collector)
    return generate_latest(exposition).decode()


def _label_values(family: MetricFamily, labels: Mapping[str, str]) -> tuple[str, ...]:
    try:
        return tuple([labels[name] for name in family.label_names])
    except KeyError as missing:
        raise KeyError(f"{family.name}: missing label {missing}") from None
