"""The graph's telemetry rows, both ways: the queries to send, and the samples parsed from the rows that come back.

:func:`build_graph_query_parts` turns a window's :class:`~topology.graph.queries.GraphQueries` into what
:meth:`clients.prometheus.PrometheusClient.start_graph_rows` sends.  Whichever source gave them (Prometheus, or
:func:`topology.telemetry.direct.build_rows_between` from two scrapes), the rows arrive as a
:class:`clients.prometheus.GraphRows` and are parsed here into the pipeline's
:class:`~topology.graph.pipeline.GraphInputs`: the request and TCP samples first
(:func:`build_traffic_inputs`, what the traffic maps need), the latency samples once the histogram rows are in
(:func:`build_counted_latency_samples`).  Rows the graph does not count under any ``ambientTraffic`` value (the
second report of a request, :mod:`topology.graph.reporters`) are dropped before parsing: the pipeline would skip them
anyway, once per graph type built.  Pure: no I/O, no Django.
"""

from __future__ import annotations

from dataclasses import replace

from clients.prometheus import GraphRows, Row
from topology.graph.health_step import GraphHealthInputs
from topology.graph.pipeline import GraphInputs
from topology.graph.queries import GraphQueries, split_sum_rate_query
from topology.graph.reporters import (
    LATENCY_KEY_LABELS,
    REQUEST_KEY_LABELS,
    TCP_KEY_LABELS,
    build_counted_filter,
    select_counted_rows,
    select_readable_rows,
)
from topology.graph.samples import (
    DirectionSample,
    DirectionSamples,
    LatencySample,
    MeshContext,
    build_direction_samples,
    build_tcp_samples,
    parse_request_samples,
)
from topology.telemetry.promql_math import derive_latency_samples


def build_graph_query_parts(queries: GraphQueries) -> dict[str, tuple[str, ...]]:
    """The queries keyed by the :class:`GraphRows` field that collects their rows, each split into its disjoint
    parts (:func:`~topology.graph.queries.split_sum_rate_query`: Prometheus answers the parts faster)."""
    return {
        "requests": split_sum_rate_query(queries.requests),
        "tcp_sent": split_sum_rate_query(queries.tcp.sent),
        "tcp_received": split_sum_rate_query(queries.tcp.received),
        "latency_buckets": split_sum_rate_query(queries.latency.buckets),
        "latency_sum": split_sum_rate_query(queries.latency.sum),
        "grpc_sent": split_sum_rate_query(queries.grpc_messages.request),
        "grpc_received": split_sum_rate_query(queries.grpc_messages.response),
        "http_request_bytes": split_sum_rate_query(queries.http_bytes.request),
        "http_response_bytes": split_sum_rate_query(queries.http_bytes.response),
    }


def build_traffic_inputs(
    rows: GraphRows, mesh: MeshContext | None = None, health: GraphHealthInputs | None = None
) -> GraphInputs:
    """The graph inputs the request and TCP rows give (no latency samples, no traffic by direction): the rows some
    ``ambientTraffic`` value counts (:func:`~topology.graph.reporters.select_readable_rows`)."""
    return GraphInputs(
        requests=parse_request_samples(select_readable_rows(rows.requests, REQUEST_KEY_LABELS)),
        tcp=build_tcp_samples(
            select_readable_rows(rows.tcp_sent, TCP_KEY_LABELS), select_readable_rows(rows.tcp_received, TCP_KEY_LABELS)
        ),
        mesh=mesh or MeshContext(),
        health=health,
    )


def build_counted_latency_samples(rows: GraphRows) -> list[LatencySample]:
    """The latency samples of the counted reporter, straight from the bucket and sum rows
    (:func:`~topology.telemetry.promql_math.derive_latency_samples`)."""
    keep = build_counted_filter([row.get("metric", {}) for row in rows.latency_buckets], LATENCY_KEY_LABELS)
    return derive_latency_samples(rows.latency_buckets, rows.latency_sum, keep)


def build_counted_direction_samples(rows: GraphRows) -> DirectionSamples:
    """The traffic by direction of ``rows`` (gRPC messages, HTTP body bytes), counted reporter only."""

    def directions(request: list[Row], response: list[Row]) -> list[DirectionSample]:
        return build_direction_samples(
            select_counted_rows(request, LATENCY_KEY_LABELS), select_counted_rows(response, LATENCY_KEY_LABELS)
        )

    return DirectionSamples(
        grpc_messages=directions(rows.grpc_sent, rows.grpc_received),
        http_bytes=directions(rows.http_request_bytes, rows.http_response_bytes),
    )


def build_graph_inputs(
    rows: GraphRows, mesh: MeshContext | None = None, health: GraphHealthInputs | None = None
) -> GraphInputs:
    """All the graph inputs of ``rows``: :func:`build_traffic_inputs` with :func:`build_counted_latency_samples` and
    :func:`build_counted_direction_samples`."""
    directions = build_counted_direction_samples(rows)
    return replace(
        build_traffic_inputs(rows, mesh, health),
        latencies=build_counted_latency_samples(rows),
        grpc_messages=directions.grpc_messages,
        http_bytes=directions.http_bytes,
    )


__all__: list[str] = [
    "build_counted_direction_samples",
    "build_counted_latency_samples",
    "build_graph_inputs",
    "build_graph_query_parts",
    "build_traffic_inputs",
]
