"""Pure builders of the PromQL queries whose results feed the graph pipeline.

A whole graph needs 9 queries whatever the mesh size (requests, 2 TCP, latency buckets and sum, 2 gRPC message and
2 HTTP body byte rates), each one
``sum by (...)`` over exactly the labels the pipeline reads.  Traffic in scope is the union of two disjoint
selectors: traffic *from* the requested namespaces, and traffic *into* them from elsewhere
(``source_workload_namespace!~``), so no series is fetched twice.  By default (``counted_only``) each side is
further split so that only the rows the graph counts are sent (:mod:`topology.graph.reporters`: every destination
report, a waypoint report only where the destination did not report the same request, and a source report only where
neither did, ``unless on(<key>)``); the second report of a request, which the pipeline would drop, is neither sent
nor parsed.  The request and TCP queries fetch what every value of Kiali's ``ambientTraffic`` option counts (a source
report a waypoint report outranks counts with ``none``), and TCP rows are grouped also by ztunnel's marker
(:data:`~topology.graph.reporters.ZTUNNEL_MARKER`, a label of the scrape target).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from topology.graph.paths import IDENTITY_LABELS
from topology.graph.reporters import LATENCY_KEY_LABELS, REQUEST_KEY_LABELS, TCP_KEY_LABELS, ZTUNNEL_MARKER

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
    ZTUNNEL_MARKER[0],
)
LATENCY_LABELS: tuple[str, ...] = ("reporter", *IDENTITY_LABELS, "request_protocol")
#: The labels of the gRPC message and HTTP body byte rates: an edge row's identity and protocol (as latency rows).
DIRECTION_LABELS: tuple[str, ...] = LATENCY_LABELS

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
    reporter = ALL_REPORTERS
    outgoing = [reporter, f'source_workload_namespace=~"{ns}"']
    incoming = [reporter, f'destination_service_namespace=~"{ns}"', f'source_workload_namespace!~"{ns}"']
    if clusters:
        cl = _regex_alternation(clusters, "clusters")
        outgoing.append(f'source_cluster=~"{cl}"')
        incoming.append(f'destination_cluster=~"{cl}"')
    return ",".join(outgoing), ",".join(incoming)


#: Every reporter the graph reads (sidecars and ztunnel: source, destination; ambient waypoints), as the scope
#: selectors start.
ALL_REPORTERS = 'reporter=~"source|destination|waypoint"'
#: The three disjoint reporter selections of :func:`build_counted_parts` (a missing label reads as ``""`` in PromQL,
#: which Istio's ``unknown`` stands for): destination reports of requests to a workload, waypoint reports (counted
#: unless the destination reported the same key) and source reports (counted unless the destination or a waypoint
#: did; one of a request that reached no workload can only have a waypoint twin).
DESTINATION_REPORTS = 'reporter="destination",destination_workload!~"unknown|"'
WAYPOINT_REPORTS = 'reporter="waypoint"'
SOURCE_REPORTS = 'reporter="source"'
#: ztunnel's rows and the others (its scrape target's label; Kiali's ``app!="ztunnel"``).
ZTUNNEL_ROWS = f'{ZTUNNEL_MARKER[0]}="{ZTUNNEL_MARKER[1]}"'
NOT_ZTUNNEL_ROWS = f'{ZTUNNEL_MARKER[0]}!="{ZTUNNEL_MARKER[1]}"'


def _sum_rate(metric: str, by: str, selector: str, window: str, drop_zero: bool) -> str:
    query = f"sum by ({by}) (rate({metric}{{{selector}}}[{window}]))"
    return f"{query} > 0" if drop_zero else query


def build_counted_parts(
    metric: str,
    labels: Collection[str],
    key_labels: Collection[str],
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    every_option: bool = False,
    marked: bool = False,
) -> tuple[str, ...]:
    """The disjoint queries whose rows are exactly the rows the graph counts (:mod:`topology.graph.reporters`).

    Per scope side: the destination reports of requests to a workload, the waypoint reports ``unless on(<key>)`` the
    destination reported the same key, and the source reports ``unless on(<key>)`` the destination or a waypoint did
    (each with the same ``> 0`` as its own part, so a row is dropped exactly when a twin that outranks it is among the
    rows sent; the key holds ``destination_workload``, so a source report of a request that reached no workload
    stays unless a waypoint reported it).

    ``every_option`` fetches the rows some ``ambientTraffic`` value counts
    (:func:`~topology.graph.reporters.select_readable_rows`): a source report unless the destination reported the
    key (``none`` reads no waypoint report).  With ``marked`` (TCP, grouped by ztunnel's marker) only a destination
    report that is not ztunnel's outranks a waypoint report or a source report that is not ztunnel's (``none`` and
    ``waypoint`` read no ztunnel row), and ztunnel's source reports stay unless any destination reported the key.
    """
    w = _validate_window(window)
    by = ",".join(labels)
    key = ",".join(key_labels)
    parts: list[str] = []
    for scope in build_scope_selectors(namespaces, clusters):
        rest = scope.removeprefix(ALL_REPORTERS + ",")
        destination = _sum_rate(metric, by, f"{DESTINATION_REPORTS},{rest}", w, drop_zero)
        parts.append(destination)
        if not every_option:
            waypoint = _sum_rate(metric, by, f"{WAYPOINT_REPORTS},{rest}", w, drop_zero)
            parts.append(f"{waypoint} unless on({key}) {destination}")
            source = _sum_rate(metric, by, f"{SOURCE_REPORTS},{rest}", w, drop_zero)
            parts.append(f"{source} unless on({key}) {destination} unless on({key}) {waypoint}")
            continue
        outranking = destination
        if marked:
            outranking = _sum_rate(metric, by, f"{DESTINATION_REPORTS},{NOT_ZTUNNEL_ROWS},{rest}", w, drop_zero)
        waypoint = _sum_rate(metric, by, f"{WAYPOINT_REPORTS},{rest}", w, drop_zero)
        parts.append(f"{waypoint} unless on({key}) {outranking}")
        if marked:
            source = _sum_rate(metric, by, f"{SOURCE_REPORTS},{NOT_ZTUNNEL_ROWS},{rest}", w, drop_zero)
            parts.append(f"{source} unless on({key}) {outranking}")
            ztunnel_source = _sum_rate(metric, by, f"{SOURCE_REPORTS},{ZTUNNEL_ROWS},{rest}", w, drop_zero)
            parts.append(f"{ztunnel_source} unless on({key}) {destination}")
        else:
            source = _sum_rate(metric, by, f"{SOURCE_REPORTS},{rest}", w, drop_zero)
            parts.append(f"{source} unless on({key}) {destination}")
    return tuple(parts)


def build_sum_rate_query(
    metric: str,
    labels: Collection[str],
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    counted_only: bool = True,
    key_labels: Collection[str] = (),
    every_option: bool = False,
    marked: bool = False,
) -> str:
    """The rows of ``metric`` in scope, summed by ``labels``, optionally ``> 0``.

    With ``counted_only`` (and the reporter ``key_labels``) the ``or`` of :func:`build_counted_parts`; otherwise
    ``sum by (labels) (rate(metric{outgoing}[w]) or rate(metric{incoming}[w]))``: both reporters' rows.
    """
    if counted_only:
        if not key_labels:
            raise ValueError("counted_only needs the reporter key labels")
        parts = build_counted_parts(
            metric, labels, key_labels, namespaces, window, clusters, drop_zero, every_option, marked
        )
        return " or ".join(parts)
    w = _validate_window(window)
    by = ",".join(labels)
    rates = " or ".join(f"rate({metric}{{{s}}}[{w}])" for s in build_scope_selectors(namespaces, clusters))
    query = f"sum by ({by}) ({rates})"
    return f"{query} > 0" if drop_zero else query


_SUM_RATE = re.compile(r"^(sum by \([^)]*\) )\((rate\(.*\))\)( > 0)?$")


def split_sum_rate_query(query: str) -> tuple[str, ...]:
    """Split a query of :func:`build_sum_rate_query` into its disjoint parts, one query each.

    The counted query is the ``or`` of its parts; the both-reporter query's ``rate(...) or rate(...)`` becomes one
    ``sum by (...) (rate(...))`` per selector.  The parts' label sets are disjoint (every label list groups by
    ``reporter``, ``source_workload_namespace`` and ``destination_workload``, which tell them apart), so the parts'
    rows concatenated are the rows of the whole query.  Prometheus answers the parts faster than the ``or`` of them,
    which matches every series' labels against the other operands.  A query of another shape is returned alone.
    """
    if " or sum by (" in query:
        return tuple(query.split(" or "))
    match = _SUM_RATE.match(query)
    if match is None:
        return (query,)
    prefix, rates, drop_zero = match.group(1), match.group(2), match.group(3) or ""
    return tuple(f"{prefix}({rate}){drop_zero}" for rate in rates.split(" or "))


def build_request_query(
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    counted_only: bool = True,
) -> str:
    """Requests/s of every edge row touching the namespaces (``istio_requests_total``)."""
    return build_sum_rate_query(
        "istio_requests_total",
        REQUEST_LABELS,
        namespaces,
        window,
        clusters,
        drop_zero,
        counted_only,
        REQUEST_KEY_LABELS,
        every_option=True,
    )


@dataclass(frozen=True, slots=True)
class TcpQueries:
    """The two TCP queries (bytes/s sent and received per edge row)."""

    sent: str
    received: str


def build_tcp_queries(
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    counted_only: bool = True,
) -> TcpQueries:
    """TCP throughput queries (``istio_tcp_sent_bytes_total`` and ``istio_tcp_received_bytes_total``)."""

    def query(metric: str) -> str:
        return build_sum_rate_query(
            metric, TCP_LABELS, namespaces, window, clusters, drop_zero, counted_only, TCP_KEY_LABELS, True, True
        )

    return TcpQueries(sent=query("istio_tcp_sent_bytes_total"), received=query("istio_tcp_received_bytes_total"))


@dataclass(frozen=True, slots=True)
class LatencyQueries:
    """Latency queries per edge row: the summed bucket and sum rates of the duration histogram.

    The count (the ``+Inf`` bucket: a histogram's ``_count`` always equals it), the average (``sum / count``) and
    the p50/p95/p99 (``histogram_quantile``) are derived from these rows by
    :mod:`topology.telemetry.promql_math` with Prometheus' own algorithms: one read of the bucket series instead
    of one per quantile and one for the count.  The count is also the request rate used to merge rows into one edge.
    """

    buckets: str
    sum: str


def build_latency_queries(
    namespaces: Collection[str], window: str = "5m", clusters: Collection[str] = (), counted_only: bool = True
) -> LatencyQueries:
    """Queries over ``istio_request_duration_milliseconds`` (histogram) grouped by edge labels only."""
    metric = "istio_request_duration_milliseconds"
    labels = LATENCY_LABELS

    def summed(suffix: str, extra: tuple[str, ...] = ()) -> str:
        by = (*labels, *extra)
        return build_sum_rate_query(
            f"{metric}_{suffix}", by, namespaces, window, clusters, False, counted_only, LATENCY_KEY_LABELS
        )

    return LatencyQueries(buckets=summed("bucket", ("le",)), sum=summed("sum"))


@dataclass(frozen=True, slots=True)
class DirectionQueries:
    """The two queries of a request edge's traffic by direction: from the client (``request``) and back
    (``response``)."""

    request: str
    response: str


def build_direction_queries(
    request_metric: str,
    response_metric: str,
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    counted_only: bool = True,
) -> DirectionQueries:
    """Per-second rates of two counters grouped by :data:`DIRECTION_LABELS` (reporter rule of the latency rows)."""

    def query(metric: str) -> str:
        return build_sum_rate_query(
            metric, DIRECTION_LABELS, namespaces, window, clusters, drop_zero, counted_only, LATENCY_KEY_LABELS
        )

    return DirectionQueries(request=query(request_metric), response=query(response_metric))


#: gRPC messages sent by clients and by servers (Kiali's ``rateGrpc=sent|received``).
GRPC_MESSAGE_METRICS: tuple[str, str] = ("istio_request_messages_total", "istio_response_messages_total")
#: HTTP request and response body bytes (the histograms' ``_sum``; Kiali's ``throughputType=request|response``).
HTTP_BYTES_METRICS: tuple[str, str] = ("istio_request_bytes_sum", "istio_response_bytes_sum")


@dataclass(frozen=True, slots=True)
class GraphQueries:
    """Every query one graph snapshot needs."""

    requests: str
    tcp: TcpQueries
    latency: LatencyQueries
    grpc_messages: DirectionQueries
    http_bytes: DirectionQueries


def build_graph_queries(
    namespaces: Collection[str],
    window: str = "5m",
    clusters: Collection[str] = (),
    drop_zero: bool = True,
    counted_only: bool = True,
) -> GraphQueries:
    """Build all graph queries for the namespaces, window and optional cluster filter.

    ``counted_only=False`` also fetches the second report of each request, which the graph does not count (same
    graph, about twice the rows).
    """
    return GraphQueries(
        requests=build_request_query(namespaces, window, clusters, drop_zero, counted_only),
        tcp=build_tcp_queries(namespaces, window, clusters, drop_zero, counted_only),
        latency=build_latency_queries(namespaces, window, clusters, counted_only),
        grpc_messages=build_direction_queries(
            *GRPC_MESSAGE_METRICS, namespaces, window, clusters, drop_zero, counted_only
        ),
        http_bytes=build_direction_queries(*HTTP_BYTES_METRICS, namespaces, window, clusters, drop_zero, counted_only),
    )
