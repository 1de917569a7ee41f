"""Fixtures: a real Prometheus backfilled with the literal Bookinfo series, started once for this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.prometheus import PrometheusClient, PrometheusSettings
from tests.support.prometheus import (
    RunningPrometheus,
    backfill_openmetrics,
    backfilled_client,
    require_prometheus,
    running_prometheus,
)
from tests.topology_prometheus.bookinfo_series import build_openmetrics
from tests.topology_prometheus.direction_series import build_openmetrics as build_direction_openmetrics


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


@pytest.fixture(scope="package")
def direction_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusClient]:
    """A client for a Prometheus serving only the backfilled series of ``direction_series`` (gRPC messages, HTTP
    body bytes, TCP bytes by direction)."""
    with backfilled_client(build_direction_openmetrics(), tmp_path_factory.mktemp("direction-tsdb")) as client:
        yield client
