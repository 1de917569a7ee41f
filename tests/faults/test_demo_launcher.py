"""The demo launcher (``scripts/demo.py``) under faults: a dead child is restarted while the web server keeps
answering, SIGINT to the launcher alone stops every child, a SIGKILLed launcher leaves no child behind, and a busy
port is named before anything starts.

Each case starts the real launcher on free ports with a var folder of its own (SQLite, the file-system broker), the
static files served from the finders (``MESH_UI_STATIC_COLLECTED=0``: collecting them takes longer than the rest).
Processes are found through ``/proc`` by the launcher's PID (Linux) and signalled by PID only.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.probes import measure, record_timing
from tests.support.prometheus import find_free_port
from tests.support.wait import wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.serial,  # its shutdown bound (10 s) is for a machine not running 3 other tests
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and relies on PR_SET_PDEATHSIG"),
]

ROOT = Path(__file__).resolve().parents[2]
#: Seconds the launcher gets to start everything (about 15 s on an idle 2-core machine; seen over 45 s on one busy
#: with other test runs).
START_SECONDS = 120.0
#: Seconds every process of the demo gets to be gone once the launcher is.
GONE_SECONDS = 15.0


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    log: Path
    port: int
    sim_port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child_pid(self, name: str) -> int:
        """The PID of the newest start of child ``name`` (from the launcher's own lines)."""
        pids = re.findall(rf"\[demo\] (?:starting )?{re.escape(name)} (?:\(pid |restarted \(pid )(\d+)", self.output())
        assert pids, f"{name} was never started:\n{self.output()[-2000:]}"
        return int(pids[-1])


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...


def _alive(pid: int, started: str) -> bool:
    """``pid`` is the same process (same start time) and not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] != "Z"


def process_tree(root: int) -> dict[int, str]:
    """Every live descendant of ``root``: {pid: start time}."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
            starts[int(entry)] = fields[19]
    found: dict[int, str] = {}
    todo = list(parents.get(root, []))
    while todo:
        pid = todo.pop()
        found[pid] = starts[pid]
        todo.extend(parents.get(pid, []))
    return found


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def running_demo(var_dir: Path, log: Path) -> Iterator[Demo]:
    """The launcher on free ports, once it says mesh-ui is up; stopped (and every process it left killed) after."""
    port, sim_port, prometheus_port = find_free_port(), find_free_port(), find_free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MESH_UI_SIMULATOR_PORT": str(sim_port),
        "MESH_UI_PROMETHEUS_PORT": str(prometheus_port),
        "MESH_UI_VAR_DIR": str(var_dir),
        "MESH_UI_STATIC_COLLECTED": "0",
        "MESH_UI_GRAPH_WINDOWS": "1m",
        "MESH_UI_HEALTH_WINDOW": "1m",
    }
    # The demo's own settings, database, broker and secret, not the test run's.
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "PROMETHEUS_URL",
        "MESH_UI_METRICS_URL",
        "MESH_UI_CLUSTERS",
    ):
        env.pop(name, None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    demo = Demo(process, log, port, sim_port)
    tree: dict[int, str] = {}
    try:
        try:
            wait_until(
                lambda: "mesh-ui is up" in demo.output() or process.poll() is not None,
                "the demo started",
                timeout=START_SECONDS,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the launcher said:\n{demo.output()[-3000:]}") from None
        assert process.poll() is None, demo.output()[-3000:]
        tree = process_tree(process.pid)
        yield demo
    finally:
        tree.update(process_tree(process.pid))
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid, started in tree.items():
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One var folder for the module's demos: the first migrates the database, the others find it done."""
    return tmp_path_factory.mktemp("demo-var")


def test_a_busy_port_is_named_and_nothing_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        env = {**os.environ, "PORT": "0", "MESH_UI_SIMULATOR_PORT": str(busy), "MESH_UI_VAR_DIR": str(tmp_path)}
        env["PORT"] = str(find_free_port())
        answer = subprocess.run(
            [sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
    assert answer.returncode == 2
    assert f"port {busy} (the simulator, MESH_UI_SIMULATOR_PORT) is already in use" in answer.stderr
    assert not (tmp_path / "mesh-ui.sqlite3").exists()  # it stopped before migrating anything


def test_a_dead_child_is_restarted_while_the_web_server_answers_and_sigint_stops_all(var_dir, tmp_path):
    with running_demo(var_dir, tmp_path / "demo.log") as demo:
        tree = process_tree(demo.process.pid)
        names = ["Celery worker", "Bookinfo simulator"] + (
            ["Prometheus"] if "starting Prometheus" in demo.output() else []
        )
        for name in names:
            old = demo.child_pid(name)
            killed = time.monotonic()
            os.kill(old, signal.SIGKILL)
            answers: list[bool] = []

            def restarted(name: str = name, old: int = old, answers: list[bool] = answers) -> bool:
                answers.append(_healthy(demo.port))
                return demo.child_pid(name) != old

            measure(restarted, f"the launcher restarted the {name}", timeout=15)
            restart = time.monotonic() - killed
            assert all(answers), f"the web server stopped answering while the {name} was down"
            assert f"{name} (pid {old}) exited with code -9; restarting it in 1 s" in demo.output()
            record_timing(f"demo child killed: {name}", restart=restart)
        wait_until(lambda: _healthy(demo.sim_port), "the restarted simulator answers", timeout=15)
        assert _healthy(demo.port)
        tree.update(process_tree(demo.process.pid))

        interrupted = time.monotonic()
        demo.process.send_signal(signal.SIGINT)  # to the launcher alone, as `kill -INT`
        demo.process.wait(timeout=30)
        stopped = time.monotonic() - interrupted
        assert "[demo] stopped" in demo.output() and "did not stop" not in demo.output()
        left = [pid for pid, started in tree.items() if _alive(pid, started)]
        assert left == [], f"processes left after SIGINT: {left}"
        record_timing("demo launcher SIGINT", everything_stopped=stopped)


def test_a_sigkilled_launcher_leaves_no_child(var_dir, tmp_path):
    with running_demo(var_dir, tmp_path / "demo.log") as demo:
        tree = process_tree(demo.process.pid)
        assert len(tree) >= 5, tree  # simulator, worker (and its pool), beat, gunicorn (and its workers)
        demo.process.kill()
        demo.process.wait()
        gone = measure(
            lambda: not [pid for pid, started in tree.items() if _alive(pid, started)],
            "every child of the SIGKILLed launcher is gone",
            timeout=GONE_SECONDS,
        )
        record_timing("demo launcher SIGKILLed", children_gone=gone)
