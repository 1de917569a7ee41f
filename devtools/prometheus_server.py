"""Run a real Prometheus for tests and benchmarks: start it on a free loopback port, backfill exact series, stop it.

``running_prometheus(targets)`` starts the ``prometheus`` binary with a generated config that scrapes the given
targets, waits for ``/-/ready`` and yields a :class:`RunningPrometheus`; it stops the process whatever happens.
``backfill_openmetrics(text, tsdb_dir)`` turns an OpenMetrics document (samples with timestamps) into TSDB blocks
with ``promtool tsdb create-blocks-from openmetrics``, so a test can start Prometheus on data it wrote at fixed
timestamps and query at a fixed instant.

The binaries come from ``PROMETHEUS_BIN`` / ``PROMTOOL_BIN`` or ``PATH`` (:func:`find_prometheus_binaries`); the
tests' ``tests.support.prometheus.require_prometheus`` skips or fails a test when they are missing. A development
tool: the product reaches Prometheus through ``clients/`` only and never imports this.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
#: Starts on a fresh free port when another process took the previous one first.
PORT_ATTEMPTS = 5
#: Backfilled data lives at fixed past timestamps; retention must not delete it at start-up.
RETENTION = "50y"
#: The OpenMetrics type of each Istio metric family the tests and benchmarks backfill.
ISTIO_FAMILIES: dict[str, str] = {
    "istio_requests": "counter",
    "istio_request_duration_milliseconds": "histogram",
    "istio_tcp_sent_bytes": "counter",
    "istio_tcp_received_bytes": "counter",
}


class PrometheusHarnessError(RuntimeError):
    """Prometheus or promtool could not be run; the message carries their output."""


def find_prometheus_binaries() -> tuple[str | None, str | None]:
    """Paths of ``prometheus`` and ``promtool`` (``PROMETHEUS_BIN`` / ``PROMTOOL_BIN`` first, then ``PATH``)."""
    prometheus = os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus")
    promtool = os.environ.get("PROMTOOL_BIN") or shutil.which("promtool")
    return prometheus, promtool


def find_free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_scrape_config(scrape_targets: list[str], scrape_interval: str = "1s") -> dict[str, object]:
    """A Prometheus config scraping each target; ``host:port`` or a full URL (scheme and path are honoured)."""
    jobs: dict[tuple[str, str], list[str]] = {}
    for target in scrape_targets:
        parts = urlsplit(target if "://" in target else f"http://{target}")
        if not parts.netloc:
            raise ValueError(f"scrape target {target!r} has no host:port")
        jobs.setdefault((parts.scheme, parts.path or "/metrics"), []).append(parts.netloc)
    scrape_configs = [
        {
            "job_name": f"target{index}",
            "scheme": scheme,
            "metrics_path": path,
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "static_configs": [{"targets": hosts}],
        }
        for index, ((scheme, path), hosts) in enumerate(sorted(jobs.items()))
    ]
    return {"global": {"scrape_interval": scrape_interval}, "scrape_configs": scrape_configs}


@dataclass(frozen=True)
class RunningPrometheus:
    """A started Prometheus: its base URL, port, data directory and process."""

    url: str
    port: int
    tsdb_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log (for assertion messages)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def fetch_api(self, path: str, **params: str) -> object:
        """GET ``/api/v1/<path>`` and return its ``data`` (a convenience; the product uses its client)."""
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as response:
            payload = json.loads(response.read())
        return payload["data"]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _serves_from(url: str, tsdb_dir: Path) -> bool:
    """Whether the Prometheus answering at ``url`` is ready and is the one keeping its data in ``tsdb_dir``.

    A free port can be taken by another process between :func:`find_free_port` and Prometheus binding it (tests run
    side by side under pytest-xdist); then the server that answers is someone else's, told apart by its data path.
    """
    if not _ready(url):
        return False
    try:
        with urllib.request.urlopen(f"{url}/api/v1/status/flags", timeout=1) as response:
            flags = json.loads(response.read())["data"]
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return False
    return bool(flags.get("storage.tsdb.path") == str(tsdb_dir))


def _wait_until_serving(server: RunningPrometheus) -> bool:
    """Wait until ``server`` is ready; False when it exited because its port was taken meanwhile (try another)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not _serves_from(server.url, server.tsdb_dir):
        exit_code = server.process.poll()
        if exit_code is not None and "address already in use" in server.log_tail():
            return False
        if exit_code is not None or time.monotonic() > deadline:
            raise PrometheusHarnessError(
                f"prometheus did not get ready on port {server.port} (exit code {exit_code}):\n{server.log_tail()}"
            )
        time.sleep(0.05)
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def running_prometheus(
    scrape_targets: list[str],
    scrape_interval: str = "1s",
    tsdb_dir: str | Path | None = None,
    enable_lifecycle: bool = False,
) -> Iterator[RunningPrometheus]:
    """Start Prometheus on a free loopback port and yield it once ``/-/ready``; always stop it afterwards.

    ``tsdb_dir`` reuses a data directory (e.g. after :func:`backfill_openmetrics`); by default a temporary one is
    created and removed.  Raises :class:`PrometheusHarnessError` with the server log when it does not get ready.
    """
    prometheus_bin, _ = find_prometheus_binaries()
    if prometheus_bin is None:
        raise PrometheusHarnessError("the prometheus binary is not installed (PROMETHEUS_BIN or PATH)")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mesh-ui-prometheus-")))
        data = Path(tsdb_dir) if tsdb_dir is not None else work / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = work / "prometheus.yml"
        config.write_text(json.dumps(build_scrape_config(scrape_targets, scrape_interval), indent=2))  # JSON is YAML
        log_path = work / "prometheus.log"
        for _attempt in range(PORT_ATTEMPTS):
            port = find_free_port()
            command = [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--storage.tsdb.retention.time={RETENTION}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ]
            if enable_lifecycle:
                command.append("--web.enable-lifecycle")
            with log_path.open("wb") as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=work)
            stack.callback(_stop, process)
            server = RunningPrometheus(f"http://127.0.0.1:{port}", port, data, process, log_path)
            if _wait_until_serving(server):
                break
        else:
            raise PrometheusHarnessError(f"prometheus found no free port in {PORT_ATTEMPTS} attempts")
        yield server


def backfill_openmetrics(text: str, tsdb_dir: str | Path) -> None:
    """Write TSDB blocks for an OpenMetrics document (must end with ``# EOF``) into ``tsdb_dir``.

    Uses ``promtool tsdb create-blocks-from openmetrics``; raises :class:`PrometheusHarnessError` with promtool's
    output when it refuses the input.
    """
    _, promtool_bin = find_prometheus_binaries()
    if promtool_bin is None:
        raise PrometheusHarnessError("the promtool binary is not installed (PROMTOOL_BIN or PATH)")
    target = Path(tsdb_dir)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mesh-ui-backfill-") as work:
        source = Path(work) / "series.om"
        source.write_text(text if text.endswith("\n") else text + "\n")
        result = subprocess.run(
            [promtool_bin, "tsdb", "create-blocks-from", "openmetrics", str(source), str(target)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise PrometheusHarnessError(f"promtool backfill failed ({result.returncode}):\n{result.stdout}{result.stderr}")


@dataclass(frozen=True)
class OpenMetricsSeries:
    """One series to backfill: sample name (``x_total``, ``x_bucket``...), labels and ``(unix s, value)`` points."""

    name: str
    labels: dict[str, str]
    points: list[tuple[float, float]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family_of(sample_name: str, families: dict[str, str]) -> str:
    for suffix in ("_total", "_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix) and sample_name[: -len(suffix)] in families:
            return sample_name[: -len(suffix)]
    raise ValueError(f"{sample_name}: no declared family")


def render_openmetrics(families: dict[str, str], series: list[OpenMetricsSeries]) -> str:
    """An OpenMetrics document for promtool: ``families`` maps family name -> type (``counter``/``histogram``).

    Series are grouped by family and each series' points written in time order, as the backfiller expects. Each
    series' label text and each timestamp's text are built once, not per sample: the benchmarks render millions.
    """
    by_family: dict[str, list[OpenMetricsSeries]] = {name: [] for name in families}
    for item in series:
        by_family[_family_of(item.name, families)].append(item)
    chunks: list[str] = []
    stamps: dict[float, str] = {}
    for family, kind in families.items():
        chunks.append(f"# TYPE {family} {kind}\n")
        for item in by_family[family]:
            prefix = item.name + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in item.labels.items() if v) + "} "
            for timestamp, value in sorted(item.points):
                stamp = stamps.get(timestamp)
                if stamp is None:
                    stamp = stamps[timestamp] = f" {timestamp:.3f}\n"
                chunks.append(f"{prefix}{value!r}{stamp}")
    chunks.append("# EOF\n")
    return "".join(chunks)
