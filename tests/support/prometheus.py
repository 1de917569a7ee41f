"""The tests' view of :mod:`devtools.prometheus_server` (shared with the benchmarks), plus strict-mode skipping.

:func:`require_prometheus` skips the test loudly (or fails it under ``MESH_UI_STRICT=1``) when the ``prometheus``
or ``promtool`` binary is missing; everything else is re-exported from ``devtools.prometheus_server``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devtools.prometheus_server import (
    ISTIO_FAMILIES,
    OpenMetricsSeries,
    PrometheusHarnessError,
    RunningPrometheus,
    backfill_openmetrics,
    build_scrape_config,
    find_free_port,
    find_prometheus_binaries,
    render_openmetrics,
    running_prometheus,
)

__all__ = [
    "ISTIO_FAMILIES",
    "OpenMetricsSeries",
    "PrometheusHarnessError",
    "RunningPrometheus",
    "backfill_openmetrics",
    "backfilled_client",
    "build_scrape_config",
    "find_free_port",
    "find_prometheus_binaries",
    "render_openmetrics",
    "require_prometheus",
    "running_prometheus",
    "scraped_simulator",
]


def require_prometheus() -> tuple[str, str]:
    """Return both binaries, or skip (fail under ``MESH_UI_STRICT=1``) the calling test when one is missing."""
    from tests.conftest import require

    prometheus, promtool = find_prometheus_binaries()
    require(
        prometheus is not None and os.access(prometheus, os.X_OK),
        "the prometheus binary is not installed (set PROMETHEUS_BIN or put it on PATH)",
    )
    require(
        promtool is not None and os.access(promtool, os.X_OK),
        "the promtool binary is not installed (set PROMTOOL_BIN or put it on PATH)",
    )
    assert prometheus is not None and promtool is not None
    return prometheus, promtool


@contextmanager
def backfilled_client(openmetrics: str, tsdb_dir: Path) -> Iterator[Any]:
    """A :class:`~clients.prometheus.PrometheusClient` of a Prometheus that serves only ``openmetrics``, backfilled
    by promtool into ``tsdb_dir`` (no scrape targets)."""
    require_prometheus()
    from clients.prometheus import PrometheusClient, PrometheusSettings

    backfill_openmetrics(openmetrics, tsdb_dir)
    with (
        running_prometheus([], tsdb_dir=tsdb_dir) as server,
        PrometheusClient(PrometheusSettings(server.url, timeout=5)) as client,
    ):
        yield client


@contextmanager
def scraped_simulator(kubeconfig_dir: Path, rps: float) -> Iterator[Any]:
    """The Bookinfo simulator with traffic and a real Prometheus scraping its ``/metrics`` every second (job
    ``target0``): ``kubeconfig_path`` and ``prometheus_url`` are set on the yielded simulator."""
    require_prometheus()
    from simulator import Simulator

    sim = Simulator(traffic=True, rps=rps).start(host="127.0.0.1", port=0)
    sim.kubeconfig_path = sim.write_kubeconfig(kubeconfig_dir / "kubeconfig")  # type: ignore[attr-defined]
    try:
        with running_prometheus([f"127.0.0.1:{sim.port}"], scrape_interval="1s") as prometheus:
            sim.prometheus_url = prometheus.url  # type: ignore[attr-defined]
            yield sim
    finally:
        sim.stop()
