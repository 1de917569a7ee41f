"""Pure builders of the PromQL queries whose results feed the graph pipeline.

A whole graph needs at most 6 queries whatever the mesh size (requests, 2 TCP, 3 latency), each one
``sum by (...)`` over exactly the labels the pipeline reads, for both reporters.  Traffic in scope is the
union of two disjoint selectors: traffic *from* the requested namespaces, and traffic *into* them from
elsewhere (``source_workload_namespace!~``), so no series is fetched twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from topology.graph.traffic_map import IDENTITY_LABELS

REQUEST_LABELS: tuple[str, ...] = (
    "reporter",
    *IDENTITY_LABELS,
    "source_principal",
    "destination_principal",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
)
TCP_LABELS: tuple[str, ...] = (
    "reporter",
    *IDENTITY_LABELS,
    "source_principal",
    "destination_principal",
    "response_flags",
    "connection_security_policy",
)
LATENCY_LABELS: tuple[str, ...] = ("reporter", *IDENTITY_LABELS, "request_protocol")

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})$")
_WINDOW = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


def _regex_alternation(values: Collection[str], what: str) -> str:
    if not values:
        raise ValueError(f"{what}: at least one value is needed")
    for value in values:
        if not _NAME.match(value):
            raise ValueError(f"{what}: {value!r} is not a valid Kubernetes name")
    return "|".join(value.replace(".", "\\\\.") for value in sorted(set(values)))


def _validate_window(window: str) -> str:
    if not _WINDOW.match(window):
        raise ValueError(f"window: {window!r} is not a Prometheus duration like 5m")
    return window


def build_scope_selectors(namespaces: Collection[str], clusters: Collection[str] = ()) -> tuple[str, str]:
    """Return the two disjoint label selectors (outgoing, incoming) for the requested scope."""
    ns = _regex_alternation(namespaces, "namespaces")
    reporter = 'reporter=~"source|destination"'
    outgoing = [reporter, f'source_workload_namespace=~"{ns}"']
    incoming = [reporter, f'destination_service_namespace=~"{ns}"', f'source_workload_namespace!~"{ns}"']
    if clusters:
        cl = _regex_alternation(clusters, "clusters")
        outgoing.append(f'source_cluster=~"{cl}"')
        incoming.append(f'destination_cluster=~"{cl}"')
    return ",".join(outgoing), ",".join(incoming)


def build_sum_rate_query(
    metric: str,
    labels: Collection[str],
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
) -> str:
    """``sum by (labels) (rate(metric{out}[w]) or rate(metric{in}[w]))``, optionally ``> 0``."""
    outgoing, incoming = build_scope_selectors(namespaces, clusters)
    w = _validate_window(window)
    by = ",".join(labels)
    query = f"sum by ({by}) (rate({metric}{{{outgoing}}}[{w}]) or rate({metric}{{{incoming}}}[{w}]))"
    return f"{query} > 0" if drop_zero else query


def build_request_query(
    namespaces: Collection[str], window: str = "5m", clusters: Collection[str] = (), drop_zero: bool = True
) -> str:
    """Requests/s of every edge row touching the namespaces (``istio_requests_total``)."""
    return build_sum_rate_query("istio_requests_total", REQUEST_LABELS, namespaces, window, clusters, drop_zero)


@dataclass(frozen=True, slots=True)
class TcpQueries:
    """The two TCP queries (bytes/s sent and received per edge row)."""

    sent: str
    received: str


def build_tcp_queries(
    namespaces: Collection[str], window: str = "5m", clusters: Collection[str] = (), drop_zero: bool = True
) -> TcpQueries:
    """TCP throughput queries (``istio_tcp_sent_bytes_total`` and ``istio_tcp_received_bytes_total``)."""
    return TcpQueries(
        sent=build_sum_rate_query("istio_tcp_sent_bytes_total", TCP_LABELS, namespaces, window, clusters, drop_zero),
        received=build_sum_rate_query(
            "istio_tcp_received_bytes_total", TCP_LABELS, namespaces, window, clusters, drop_zero
        ),
    )


@dataclass(frozen=True, slots=True)
class LatencyQueries:
    """Latency queries per edge row: the summed bucket, sum and count rates of the duration histogram.

    The average (``sum / count``) and the p50/p95/p99 (``histogram_quantile``) are derived from these rows by
    :func:`clients.promql_math.derive_latency_rows` with Prometheus' own algorithms: one read of the bucket series
    instead of one per quantile.  ``count`` is also the request rate used to merge rows into one edge.
    """

    buckets: str
    sum: str
    count: str


def build_latency_queries(
    namespaces: Collection[str], window: str = "5m", clusters: Collection[str] = ()
) -> LatencyQueries:
    """Queries over ``istio_request_duration_milliseconds`` (histogram) grouped by edge labels only."""
    metric = "istio_request_duration_milliseconds"
    labels = LATENCY_LABELS

    def summed(suffix: str, extra: tuple[str, ...] = ()) -> str:
        return build_sum_rate_query(f"{metric}_{suffix}", (*labels, *extra), namespaces, window, clusters, False)

    return LatencyQueries(buckets=summed("bucket", ("le",)), sum=summed("sum"), count=summed("count"))


@dataclass(frozen=True, slots=True)
class GraphQueries:
    """Every query one graph snapshot needs."""

    requests: str
    tcp: TcpQueries
    latency: LatencyQueries


def build_graph_queries(
    namespaces: Collection[str], window: str = "5m", clusters: Collection[str] = (), drop_zero: bool = True
) -> GraphQueries:
    """Build all graph queries for the namespaces, window and optional cluster filter."""
    return GraphQueries(
        requests=build_request_query(namespaces, window, clusters, drop_zero),
        tcp=build_tcp_queries(namespaces, window, clusters, drop_zero),
        latency=build_latency_queries(namespaces, window, clusters),
    )
