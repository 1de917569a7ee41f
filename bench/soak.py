"""Soak run (issue 16): the whole demo under steady traffic with a fault every few minutes; how fast each fault
shows, how fast it heals, and how much the database grows. Not run in CI.

Starts ``scripts/demo.py`` (Bookinfo simulator with its own traffic, Prometheus when installed, Celery worker and
beat, gunicorn) on free loopback ports in a temporary folder, logs in as the demo's admin, and while it runs keeps
a steady client load: the graph API and the overview page once a second, ``/healthz`` twice a second. After a
warm-up (the first graph with traffic) it injects one fault per slot (``--minutes`` spread over the faults, at
most one every ``--max-slot`` seconds), cycling through:

1. **API server outage**: the simulator's API server goes down for 20 s (``simulator.control.start_outage``).
2. **403 on pods**: the simulator forbids pods for 30 s.
3. **metrics endpoint down**: ``/metrics`` answers 503 for 30 s; Prometheus records ``up == 0`` for the mesh's job.
4. **sync worker SIGKILLed**: the launcher restarts it; its lease holds until it ends (30 s).
5. **Prometheus SIGKILLed**: the launcher restarts it (a demo child dying; without Prometheus, the simulator).

For each it prints the seconds until the dashboard shows it (the header's banner, or the graph API marked stale
with the reason) and until it heals after the fault clears, both measured from the outside, as a user would see
them, plus the web server's availability and latencies over the whole run and the database's growth (SQLite file
and WAL, stored snapshots). Figures go to ``docs/reliability.md``.

    .venv/bin/python bench/soak.py [--minutes 30] [--max-slot 180]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.prometheus_server import find_free_port  # noqa: E402
from simulator import control  # noqa: E402

#: How the graph API's source error begins when Prometheus no longer scrapes the mesh (topology.telemetry.targets).
TARGETS_DOWN = "Prometheus cannot scrape the mesh"
START_TIMEOUT = 180.0
POLL = 0.25


@dataclass
class Demo:
    """The running launcher, its ports and log."""

    process: subprocess.Popen[bytes]
    log: Path
    var_dir: Path
    base: str
    sim_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child_pid(self, name: str) -> int | None:
        pids = re.findall(rf"\[demo\] (?:starting )?{re.escape(name)} (?:\(pid |restarted \(pid )(\d+)", self.output())
        return int(pids[-1]) if pids else None

    def banners(self) -> dict[str, str]:
        """The header's banners on the inventory page: {kind: text}."""
        html = self.session.get(f"{self.base}/inventory/", timeout=10).text
        found: dict[str, str] = {}
        for kind, text in re.findall(r'data-banner="(\w+)">(.*?)</div>', html, flags=re.S):
            found[kind] = found.get(kind, "") + " ".join(re.sub(r"<[^>]+>", " ", text).split())
        return found

    def graph(self) -> dict[str, Any]:
        answer = self.session.get(f"{self.base}/api/v1/graph?namespaces=bookinfo&duration=1m", timeout=10)
        graph: dict[str, Any] = answer.json() if answer.status_code == 200 else {}
        return graph


def start_demo(workdir: Path, password: str) -> Demo:
    port, sim_port = find_free_port(), find_free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MESH_UI_SIMULATOR_PORT": str(sim_port),
        "MESH_UI_PROMETHEUS_PORT": str(find_free_port()),
        "MESH_UI_VAR_DIR": str(workdir),
        "MESH_UI_ADMIN_PASSWORD": password,
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "SECRET_KEY_FILE", "PROMETHEUS_URL"):
        env.pop(name, None)
    log = workdir / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    demo = Demo(process, log, workdir, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}")
    deadline = time.monotonic() + START_TIMEOUT
    while "mesh-ui is up" not in demo.output():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the demo did not start; its log ends:\n{demo.output()[-3000:]}")
        time.sleep(0.5)
    form = demo.session.get(f"{demo.base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, "no CSRF token on the login page"
    login = {"csrfmiddlewaretoken": token.group(1), "username": "admin", "password": password, "next": "/"}
    answer = demo.session.post(f"{demo.base}/login/", data=login, allow_redirects=False, timeout=10)
    if answer.status_code != 302:
        raise SystemExit(f"logging in failed: HTTP {answer.status_code}")
    return demo


class SteadyLoad:
    """A user's steady traffic on threads: graph API and overview page every second, ``/healthz`` every 0.5 s."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.latencies: list[float] = []
        #: Failed requests: "seconds into the run: path status-or-exception".
        self.errors: list[str] = []
        self._started = time.monotonic()
        self.health_checks = 0
        self.health_failures = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._pages, daemon=True), threading.Thread(target=self._health)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def _pages(self) -> None:
        session = requests.Session()
        session.cookies.update(self.demo.session.cookies)
        while not self._stop.wait(1.0):
            for path in ("/api/v1/graph", "/"):
                started = time.monotonic()
                try:
                    outcome = str(session.get(self.demo.base + path, timeout=10).status_code)
                except requests.RequestException as exc:
                    outcome = type(exc).__name__
                self.latencies.append(time.monotonic() - started)
                if outcome != "200":
                    self.errors.append(f"{started - self._started:.0f} s: {path} {outcome}")

    def _health(self) -> None:
        while not self._stop.wait(0.5):
            self.health_checks += 1
            try:
                ok = requests.get(f"{self.demo.base}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                ok = False
            self.health_failures += not ok


def wait_for(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``condition`` holds (None at the timeout); errors of a probe count as not yet."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(POLL)
    return None


@dataclass
class FaultResult:
    fault: str
    detect: float | None
    recover: float | None
    note: str = ""


def _sync_banner(demo: Demo, text: str) -> Callable[[], bool]:
    return lambda: text in demo.banners().get("sync", "")


def _no_sync_banner(demo: Demo) -> Callable[[], bool]:
    return lambda: "sync" not in demo.banners()


def _sim_answers(demo: Demo) -> bool:
    try:
        return requests.get(f"{demo.sim_url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def fault_outage(demo: Demo, budget: float) -> FaultResult:
    control.start_outage(demo.sim_url, 20)
    wait_for(lambda: not _sim_answers(demo), 5)
    detect = wait_for(_sync_banner(demo, "Kubernetes sync failing"), budget / 2)
    wait_for(lambda: _sim_answers(demo), 30)
    recover = wait_for(_no_sync_banner(demo), budget / 2)
    return FaultResult("API server outage (20 s)", detect, recover)


def fault_forbidden(demo: Demo, budget: float) -> FaultResult:
    control.set_faults(demo.sim_url, forbidden=["pods"])
    # RBAC applies to the next request, as on a real API server: open watches go on until they reconnect. Dropping
    # them measures the sync's reaction (as tests/faults does), not the watch's timeout.
    control.drop_watches(demo.sim_url)
    started = time.monotonic()
    detect = wait_for(_sync_banner(demo, "pods"), budget / 2)
    time.sleep(max(0.0, 30 - (time.monotonic() - started)))
    control.clear_faults(demo.sim_url)
    recover = wait_for(_no_sync_banner(demo), budget / 2)
    return FaultResult("403 on pods (30 s)", detect, recover)


def fault_metrics_down(demo: Demo, budget: float) -> FaultResult:
    control.set_faults(demo.sim_url, metrics_down=True)
    started = time.monotonic()
    graphs: list[dict[str, Any]] = []

    def stale_with_reason() -> bool:
        graphs.append(demo.graph())
        return str(graphs[-1]["snapshot"].get("sourceError", "")).startswith(TARGETS_DOWN)

    detect = wait_for(stale_with_reason, budget / 2)
    kept = bool(graphs) and all(graph.get("elements", {}).get("nodes") for graph in graphs if graph)
    time.sleep(max(0.0, 30 - (time.monotonic() - started)))
    control.set_faults(demo.sim_url, metrics_down=False)
    recover = wait_for(lambda: not demo.graph()["snapshot"]["stale"], budget / 2)
    note = "last graph with traffic served throughout" if kept else "a graph without nodes was served"
    return FaultResult("metrics endpoint down (30 s)", detect, recover, note)


def fault_worker_killed(demo: Demo, budget: float) -> FaultResult:
    pid = demo.child_pid("Celery worker")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    restart = wait_for(lambda: demo.child_pid("Celery worker") != pid, 30)
    stalled = wait_for(_sync_banner(demo, "stalled"), budget / 2)
    detect = None if stalled is None else time.monotonic() - killed
    recover = wait_for(_no_sync_banner(demo), budget / 2)
    note = f"worker restarted after {_fmt(restart)}; recover: the banner gone, counted from the stalled banner"
    return FaultResult("sync worker SIGKILLed", detect, recover, note)


def fault_child_killed(demo: Demo, budget: float) -> FaultResult:
    name = "Prometheus" if demo.child_pid("Prometheus") else "Bookinfo simulator"
    pid = demo.child_pid(name)
    assert pid is not None
    before = demo.graph().get("snapshot", {}).get("id")
    os.kill(pid, signal.SIGKILL)
    detect = wait_for(lambda: demo.child_pid(name) != pid, budget / 2)

    def fresh_graph() -> bool:
        graph = demo.graph()
        return graph["snapshot"]["id"] != before and not graph["snapshot"]["stale"] and bool(graph["elements"]["nodes"])

    recover = wait_for(fresh_graph, budget / 2)
    return FaultResult(f"{name} SIGKILLed (demo child)", detect, recover, "detect: the launcher restarted it")


FAULTS: tuple[Callable[[Demo, float], FaultResult], ...] = (
    fault_outage,
    fault_forbidden,
    fault_metrics_down,
    fault_worker_killed,
    fault_child_killed,
)


def database_figures(var_dir: Path) -> dict[str, float]:
    """The SQLite database's size (file and WAL, MB) and its stored snapshots."""
    path = var_dir / "mesh-ui.sqlite3"
    size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        snapshots = db.execute("SELECT count(*) FROM topology_graphsnapshot").fetchone()[0]
        parts = db.execute("SELECT count(*) FROM topology_snapshotgraphpart").fetchone()[0]
    return {"mb": size / 1e6, "snapshots": snapshots, "graph_parts": parts}


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the faults phase (default 30)")
    parser.add_argument("--max-slot", type=float, default=180.0, help="at most one fault per this many seconds")
    args = parser.parse_args()
    slot = max(60.0, min(args.max_slot, args.minutes * 60 / len(FAULTS)))
    count = max(1, int(args.minutes * 60 // slot))
    password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="mesh-ui-soak-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        demo = start_demo(workdir, password)
        print(f"[soak] demo up in {time.monotonic() - started:.0f} s at {demo.base}", flush=True)
        load = SteadyLoad(demo)
        results: list[FaultResult] = []
        try:
            warm = wait_for(lambda: bool(demo.graph()["elements"]["nodes"]), 180)
            print(f"[soak] first graph with traffic after {_fmt(warm)}", flush=True)
            load.start()  # after the first snapshot: before it, the graph API answers 400 (nothing to read yet)
            db_before = database_figures(workdir)
            faults_started = time.monotonic()
            for index in range(count):
                fault = FAULTS[index % len(FAULTS)]
                slot_start = time.monotonic()
                result = fault(demo, slot)
                results.append(result)
                line = f"[soak] {result.fault}: detect {_fmt(result.detect)}, recover {_fmt(result.recover)}"
                print(line + (f" ({result.note})" if result.note else ""), flush=True)
                time.sleep(max(0.0, slot - (time.monotonic() - slot_start)))
            db_after = database_figures(workdir)
            hours = (time.monotonic() - faults_started) / 3600
        finally:
            load.stop()
            demo.process.send_signal(signal.SIGINT)
            try:
                demo.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.process.kill()
        restarts = re.findall(r"\[demo\] (.+?) \(pid \d+\) exited with code (-?\d+)", demo.output())
    latencies = sorted(load.latencies)

    def pct(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000 if latencies else 0.0

    print("\n| fault | detect | recover | note |\n|---|---|---|---|")
    for result in results:
        print(f"| {result.fault} | {_fmt(result.detect)} | {_fmt(result.recover)} | {result.note} |")
    growth = db_after["mb"] - db_before["mb"]
    print(
        f"\nweb: {len(latencies)} page/API requests, {len(load.errors)} errors {load.errors}, p50 {pct(0.5):.0f} ms, "
        f"p99 {pct(0.99):.0f} ms; /healthz {load.health_checks - load.health_failures}/{load.health_checks} answered"
    )
    print(f"children the launcher restarted: {restarts}")
    print(
        f"database: {db_before['mb']:.1f} MB → {db_after['mb']:.1f} MB (+{growth:.1f} MB in {hours * 60:.1f} min, "
        f"{growth / hours if hours else 0:.0f} MB/h before thinning); snapshots {db_before['snapshots']} → "
        f"{db_after['snapshots']}, graph parts {db_before['graph_parts']} → {db_after['graph_parts']}"
    )
    print(json.dumps({"faults": [r.__dict__ for r in results], "db_before": db_before, "db_after": db_after}))


if __name__ == "__main__":
    main()
