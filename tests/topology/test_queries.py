"""PromQL builders: few queries, grouped by exactly the pipeline's labels, the counted reporter, safe input."""

from __future__ import annotations

import pytest

from topology.graph.paths import IDENTITY_LABELS
from topology.graph.queries import (
    LATENCY_LABELS,
    REQUEST_LABELS,
    TCP_LABELS,
    build_graph_queries,
    build_request_query,
    build_scope_selectors,
    build_tcp_queries,
    split_sum_rate_query,
)
from topology.graph.reporters import REQUEST_KEY_LABELS, TCP_KEY_LABELS


def test_request_query_unions_outgoing_and_incoming_scope_for_both_reporters():
    query = build_request_query(["bookinfo", "shop"], "5m", counted_only=False)
    assert query == (
        f"sum by ({','.join(REQUEST_LABELS)}) ("
        'rate(istio_requests_total{reporter=~"source|destination|waypoint",'
        'source_workload_namespace=~"bookinfo|shop"}[5m])'
        ' or rate(istio_requests_total{reporter=~"source|destination|waypoint",'
        'destination_service_namespace=~"bookinfo|shop",source_workload_namespace!~"bookinfo|shop"}[5m])'
        ") > 0"
    )


def test_request_labels_cover_identity_and_breakdowns_only():
    assert set(IDENTITY_LABELS) <= set(REQUEST_LABELS)
    assert "response_code" in REQUEST_LABELS and "connection_security_policy" in REQUEST_LABELS
    # App and version are read from the canonical labels first (rule 2), so they are fetched.
    assert {"source_canonical_service", "destination_canonical_revision"} <= set(REQUEST_LABELS)
    assert "response_code" not in LATENCY_LABELS


def test_cluster_filter_applies_to_each_side():
    outgoing, incoming = build_scope_selectors(["bookinfo"], ["east.prod"])
    assert 'source_cluster=~"east\\\\.prod"' in outgoing
    assert 'destination_cluster=~"east\\\\.prod"' in incoming


def test_graph_needs_a_fixed_number_of_queries():
    queries = build_graph_queries(["bookinfo"], "10m", drop_zero=False)
    assert "> 0" not in queries.requests
    assert queries.tcp.sent.startswith("sum by (") and "istio_tcp_received_bytes_total" in queries.tcp.received
    assert queries.latency.buckets.startswith("sum by (") and ",le) (" in queries.latency.buckets
    assert "istio_request_duration_milliseconds_sum" in queries.latency.sum
    assert not hasattr(queries.latency, "count")  # the count is the +Inf bucket: no query of its own
    assert "histogram_quantile" not in queries.latency.buckets  # quantiles are derived in mesh-ui


@pytest.mark.parametrize(
    ("namespaces", "window"), [(['bad"ns'], "5m"), (["ok"], "5 minutes"), ([], "5m"), (["a|b"], "5m")]
)
def test_invalid_namespaces_or_windows_are_rejected(namespaces, window):
    with pytest.raises(ValueError):
        build_request_query(namespaces, window)


def test_request_query_reads_only_the_rows_some_ambient_option_counts_by_default():
    query = build_request_query(["bookinfo"], "1m")
    parts = split_sum_rate_query(query)
    # Per scope side (outgoing, incoming): destination reports of requests to a workload, waypoint reports unless the
    # destination reported the same key, and source reports unless the destination did (not unless a waypoint did:
    # ambientTraffic=none reads no waypoint report, so the source report counts then).
    assert len(parts) == 6 and "source|destination" not in query
    key = ",".join(REQUEST_KEY_LABELS)
    for side in ('source_workload_namespace=~"bookinfo"}', 'source_workload_namespace!~"bookinfo"}'):
        own = [part for part in parts if side in part.split(" unless ")[0]]
        assert len(own) == 3
        assert own[0].startswith("sum by (") and own[0].endswith(" > 0")
        assert '{reporter="destination",destination_workload!~"unknown|",' in own[0]
        waypoint, over_destination = own[1].split(f" unless on({key}) ")
        assert '{reporter="waypoint",' in waypoint and over_destination == own[0]
        source, *twins = own[2].split(f" unless on({key}) ")
        assert '{reporter="source",' in source and "destination_workload" not in source.split("{")[1]
        assert twins == [own[0]]  # the same destination rows the query sends, `> 0` included
    assert "reporter" not in REQUEST_KEY_LABELS and "connection_security_policy" not in REQUEST_KEY_LABELS
    assert "destination_workload" in REQUEST_KEY_LABELS  # a source report to no workload never has a twin
    assert 'app="ztunnel"' not in query  # ztunnel reports no request: its marker is the TCP queries' business


def test_tcp_queries_tell_ztunnel_rows_apart_by_the_scrape_targets_app_label():
    query = build_tcp_queries(["bookinfo"], "1m").sent
    parts = split_sum_rate_query(query)
    key = ",".join(TCP_KEY_LABELS)
    assert "app" in TCP_LABELS and "app" not in TCP_KEY_LABELS  # grouped by, never matched on
    # Per side: destination; waypoint unless a non-ztunnel destination; non-ztunnel source unless a non-ztunnel
    # destination (none/waypoint read no ztunnel row); ztunnel's source unless any destination (it is read only with
    # ztunnel's destination reports).
    assert len(parts) == 8
    outgoing = [part for part in parts if 'source_workload_namespace=~"bookinfo"}' in part.split(" unless ")[0]]
    destination, waypoint, source, ztunnel_source = outgoing[0], outgoing[1], outgoing[2], outgoing[3]
    not_ztunnel = waypoint.split(f" unless on({key}) ")[1]
    assert '{reporter="destination",destination_workload!~"unknown|",app!="ztunnel",' in not_ztunnel
    assert source.split(f" unless on({key}) ")[1] == not_ztunnel
    assert '{reporter="source",app!="ztunnel",' in source.split(" unless ")[0]
    assert '{reporter="source",app="ztunnel",' in ztunnel_source.split(" unless ")[0]
    assert ztunnel_source.split(f" unless on({key}) ")[1] == destination


def test_counted_parts_concatenate_back_into_the_whole_query():
    query = build_request_query(["bookinfo"], "1m", drop_zero=False)
    assert " or ".join(split_sum_rate_query(query)) == query
    assert "> 0" not in query
