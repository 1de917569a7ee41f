"""The demo launcher (``scripts/demo.py``) under faults: a dead child is restarted while the web server keeps
answering, SIGINT to the launcher alone stops every child, a SIGKILLed launcher leaves no child behind (restarted
ones included: its guard process stops them), and a busy port is named before anything starts.

Two launchers run, the real one on free ports with a var folder of its own (SQLite, the file-system broker), the
static files served from the finders (``MESH_UI_STATIC_COLLECTED=0``: collecting them takes longer than the rest):
one stopped by SIGINT, and one shared by the restart case and then SIGKILLed (a start costs more than all the
assertions, so the cases that leave the launcher running share it). Processes are found through ``/proc`` by the
launcher's PID (Linux) and signalled by PID only.
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
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.probes import measure, record_timing
from tests.support.prometheus import find_free_port
from tests.support.wait import wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.serial,  # wall-clock bounds (shutdown within 10 s) are for a machine not running other tests
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and signals process groups"),
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
    #: Processes to kill at the end if still there {pid: start time} (a dead launcher's are no longer its descendants).
    seen: dict[int, str] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child_pid(self, name: str) -> int:
        """The PID of the newest start of child ``name`` (from the launcher's own lines)."""
        pids = re.findall(rf"\[demo\] (?:starting )?{re.escape(name)} (?:\(pid |restarted \(pid )(\d+)", self.output())
        assert pids, f"{name} was never started:\n{self.output()[-2000:]}"
        return int(pids[-1])

    def child_names(self) -> list[str]:
        """The children a test kills: the worker, the simulator and Prometheus (when the launcher found it)."""
        return ["Celery worker", "Bookinfo simulator"] + (
            ["Prometheus"] if "starting Prometheus" in self.output() else []
        )


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
        demo.seen.update(process_tree(process.pid))
        yield demo
    finally:
        demo.seen.update(process_tree(process.pid))
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid, started in demo.seen.items():
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One var folder for the module's demos: the first migrates the database, the other finds it done."""
    return tmp_path_factory.mktemp("demo-var")


@pytest.fixture(scope="module")
def shared_demo(var_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo for the cases that keep its launcher running; ``test_a_sigkilled_launcher_…`` kills it, last."""
    with running_demo(var_dir, tmp_path_factory.mktemp("shared-demo") / "demo.log") as demo:
        yield demo


def kill_and_wait_for_restarts(demo: Demo, names: list[str]) -> float:
    """SIGKILL children ``names`` at once; seconds until the launcher restarted all (``/healthz`` polled meanwhile)."""
    old = {name: demo.child_pid(name) for name in names}
    killed = time.monotonic()
    for pid in old.values():
        os.kill(pid, signal.SIGKILL)
    answers: list[bool] = []

    def all_restarted() -> bool:
        answers.append(_healthy(demo.port))
        return all(demo.child_pid(name) != pid for name, pid in old.items())

    measure(all_restarted, f"the launcher restarted the {', '.join(names)}", timeout=15)
    restart = time.monotonic() - killed
    assert all(answers), f"the web server stopped answering while the {', '.join(names)} were down"
    for name, pid in old.items():
        assert f"{name} (pid {pid}) exited with code -9; restarting it in 1 s" in demo.output()
    return restart


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


def test_sigint_to_the_launcher_alone_stops_every_child(var_dir, tmp_path):
    with running_demo(var_dir, tmp_path / "demo.log") as demo:
        tree = process_tree(demo.process.pid)
        assert len(tree) >= 6, tree  # guard, simulator, worker (and its pool), beat, gunicorn (and its workers)
        interrupted = time.monotonic()
        demo.process.send_signal(signal.SIGINT)  # to the launcher alone, as `kill -INT`
        demo.process.wait(timeout=30)
        stopped = time.monotonic() - interrupted
        assert "[demo] stopped" in demo.output() and "did not stop" not in demo.output()
        # The launcher stopped its children itself and the guard had nothing left to do.
        assert "[demo guard]" not in demo.output()
        left = [pid for pid, started in tree.items() if _alive(pid, started)]
        assert left == [], f"processes left after SIGINT: {left}"
        record_timing("demo launcher SIGINT", everything_stopped=stopped)


def test_a_dead_child_is_restarted_while_the_web_server_answers(shared_demo):
    restart = kill_and_wait_for_restarts(shared_demo, shared_demo.child_names())
    record_timing(f"demo children killed: {', '.join(shared_demo.child_names())}", restart=restart)
    wait_until(lambda: _healthy(shared_demo.sim_port), "the restarted simulator answers", timeout=15)
    assert _healthy(shared_demo.port)


def test_a_sigkilled_launcher_leaves_no_child(shared_demo):
    demo = shared_demo
    if "restarted (pid" not in demo.output():  # run alone: children started later must be guarded too
        kill_and_wait_for_restarts(demo, ["Bookinfo simulator"])
    children = {name: demo.child_pid(name) for name in [*demo.child_names(), "Celery beat", "web server (gunicorn)"]}
    # What the children start goes too: Celery's pool (a restarted worker forks it once loaded), gunicorn's workers.
    for name in ("Celery worker", "web server (gunicorn)"):
        wait_until(lambda name=name: process_tree(children[name]), f"the {name} started its processes", timeout=60)
    tree = process_tree(demo.process.pid)
    demo.seen.update(tree)
    guard = [pid for pid in tree if "demo_guard.py" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(guard) == 1, tree
    assert set(children.values()) <= set(tree), (children, tree)
    demo.process.kill()
    demo.process.wait()
    gone = measure(
        lambda: not [pid for pid, started in tree.items() if _alive(pid, started)],
        "every process of the SIGKILLed launcher is gone, its guard included",
        timeout=GONE_SECONDS,
    )
    # The guard stopped them (the launcher could not: it was killed first).
    assert "[demo guard] the launcher is gone: stopped process groups" in demo.output(), demo.output()[-2000:]
    record_timing("demo launcher SIGKILLed", children_gone=gone)
