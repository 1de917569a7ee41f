"""Parsing Prometheus instant-vector rows into typed samples."""

from __future__ import annotations

import pytest

from topology.graph.samples import build_latency_samples, build_tcp_samples, label, parse_request_samples

METRIC = {
    "reporter": "destination",
    "source_workload": "productpage-v1",
    "destination_workload": "details-v1",
}


def test_request_rows_become_samples_with_float_rates():
    samples = parse_request_samples([{"metric": METRIC, "value": [1700000000.0, "1.5"]}])
    assert samples[0].rate == 1.5
    assert samples[0].labels["source_workload"] == "productpage-v1"


def test_nan_rates_count_as_zero_and_malformed_rows_are_rejected():
    assert parse_request_samples([{"metric": METRIC, "value": [0, "NaN"]}])[0].rate == 0.0
    with pytest.raises(ValueError):
        parse_request_samples([{"metric": METRIC}])


def test_missing_labels_read_as_unknown():
    assert label({}, "destination_version") == "unknown"
    assert label({"destination_version": ""}, "destination_version") == "unknown"


def test_tcp_sent_and_received_rows_join_on_labels():
    samples = build_tcp_samples(
        [{"metric": METRIC, "value": [0, "300"]}],
        [{"metric": dict(METRIC), "value": [0, "100"]}],
    )
    assert len(samples) == 1
    assert (samples[0].sent_bytes, samples[0].received_bytes) == (300.0, 100.0)


def test_latency_rows_join_stats_and_skip_nan_quantiles():
    samples = build_latency_samples(
        avg_rows=[{"metric": METRIC, "value": [0, "12.5"]}],
        p95_rows=[{"metric": METRIC, "value": [0, "40"]}],
        p99_rows=[{"metric": METRIC, "value": [0, "NaN"]}],
        count_rows=[{"metric": METRIC, "value": [0, "3"]}],
    )
    assert len(samples) == 1
    sample = samples[0]
    assert (sample.avg, sample.p50, sample.p95, sample.p99, sample.weight) == (12.5, None, 40.0, None, 3.0)
