"""The processes a snapshot builds its windows in: how many, started from a daemonic process, gone with their parent."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

from topology import window_build


def _state(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return "gone"
    return next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))


def _start_pool_and_wait(report) -> None:  # runs in a daemonic child, as in a Celery prefork worker
    pool = window_build._window_pool(1)
    with window_build._children_allowed():
        report.put(pool.submit(os.getpid).result())
    time.sleep(60)


def test_pool_processes_start_in_a_daemonic_process_and_end_with_it():
    context = multiprocessing.get_context("fork")
    report = context.Queue()
    parent = context.Process(target=_start_pool_and_wait, args=(report,), daemon=True)
    parent.start()
    pool_pid = report.get(timeout=30)
    assert pool_pid != parent.pid and _state(pool_pid) not in {"gone", "Z"}

    os.kill(parent.pid, signal.SIGKILL)  # no cleanup at all
    parent.join(10)
    deadline = time.monotonic() + 10
    while _state(pool_pid) not in {"gone", "Z"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _state(pool_pid) in {"gone", "Z"}


def test_default_is_one_process_per_window_at_most_twice_the_cores(monkeypatch):
    def cores(count):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(count)), raising=False)

    cores(2)
    assert window_build.default_process_count(3, 0) == 3
    assert window_build.default_process_count(6, 0) == 4
    cores(1)
    assert window_build.default_process_count(3, 0) == 2
    # A configured count wins, but never exceeds the windows.
    assert window_build.default_process_count(3, 1) == 1
    assert window_build.default_process_count(3, 8) == 3
