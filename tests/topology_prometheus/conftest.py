"""Fixtures: a real Prometheus backfilled with the literal Bookinfo series, started once for this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.prometheus import PrometheusClient, PrometheusSettings
from tests.support.prometheus import RunningPrometheus, backfill_openmetrics, require_prometheus, running_prometheus
from tests.topology_prometheus.bookinfo_series import build_openmetrics


@pytest.fixture(scope="package")
def backfilled_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    """Prometheus serving only the backfilled Bookinfo series (no scrape targets)."""
    require_prometheus()
    data: Path = tmp_path_factory.mktemp("tsdb")
    backfill_openmetrics(build_openmetrics(), data)
    with running_prometheus([], tsdb_dir=data) as server:
        yield server


@pytest.fixture
def prometheus_client(backfilled_prometheus: RunningPrometheus) -> Iterator[PrometheusClient]:
    """A client for the backfilled Prometheus."""
    with PrometheusClient(PrometheusSettings(backfilled_prometheus.url, timeout=5)) as client:
        yield client
