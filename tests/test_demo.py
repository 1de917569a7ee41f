"""The demo launcher's parts: its random SECRET_KEY kept under the var folder, private to its owner; the port check;
the restart backoff; and its guard process, which stops the demo's process groups once the launcher is gone (the
whole demo SIGKILLed is ``tests/faults/test_demo_launcher.py``; here a launcher in miniature, in a second or two)."""

import os
import signal
import stat
import subprocess
import sys

from tests.support.demo_script import ROOT, load_demo_guard, load_demo_script
from tests.support.wait import wait_until


def _load_demo():
    return load_demo_script()


def test_it_makes_a_private_random_key_once_and_keeps_it(tmp_path):
    demo = _load_demo()
    path = demo.ensure_secret_key_file(tmp_path)
    key = path.read_text()
    assert path == tmp_path / "secret_key" and len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo.ensure_secret_key_file(tmp_path).read_text() == key
    other = tmp_path / "other"
    other.mkdir()
    assert demo.ensure_secret_key_file(other).read_text() != key


def test_it_names_the_first_taken_port():
    import socket

    demo = _load_demo()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        message = demo.find_taken_port({"the web server, PORT": str(free), "the simulator": str(busy)})
    assert message is not None and message.startswith(f"port {busy} (the simulator) is already in use")
    assert demo.find_taken_port({"the web server, PORT": str(free)}) is None


def test_a_dead_child_is_restarted_with_doubling_delays(capsys):
    import os
    import time

    demo = _load_demo()
    supervisor = demo.Supervisor(dict(os.environ))
    child = supervisor.start(demo.Child("quitter", [sys.executable, "-c", "raise SystemExit(3)"]))
    deadline = time.monotonic() + 20
    while child.restarts < 2:
        supervisor.check()
        time.sleep(0.05)
        assert time.monotonic() < deadline, "the child was not restarted twice"
    supervisor.stop_all()
    assert child.exit_codes[:2] == [3, 3] and child.delay >= 4  # 1 s, then 2 s, then 4 s next
    err = capsys.readouterr().err
    assert "quitter (pid" in err and "exited with code 3; restarting it in 1 s" in err
    assert "exited with code 3; restarting it in 2 s" in err


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


#: A child with a process of its own in its group (as Celery's pool, gunicorn's workers).
SLEEPER_WITH_CHILD = ["sh", "-c", "sleep 600 & exec sleep 600"]
#: A launcher in miniature: the demo's Supervisor starting one child (its arguments), then waiting to be killed.
MINI_LAUNCHER = """
import sys, time
from tests.support.demo_script import load_demo_script
demo = load_demo_script()
supervisor = demo.Supervisor({"PATH": "/usr/bin:/bin"})
child = supervisor.start(demo.Child("sleeper", sys.argv[1:]))
print("pids", child.process.pid, supervisor.guard.process.pid, flush=True)
time.sleep(600)
"""


def test_the_guard_stops_the_groups_of_a_sigkilled_launcher():
    launcher = subprocess.Popen(
        [sys.executable, "-c", MINI_LAUNCHER, *SLEEPER_WITH_CHILD],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = 0
    try:
        assert launcher.stdout is not None
        line = wait_until(lambda: (line := launcher.stdout.readline()).startswith("pids") and line, "it started")
        child, guard = (int(pid) for pid in line.split()[1:])
        assert not _group_gone(child)
        launcher.kill()  # no handler runs: only the kernel closing the launcher's files can tell the guard
        launcher.wait()
        wait_until(lambda: _group_gone(child), "the child's group (the child and its own process) is gone")
        wait_until(lambda: _group_gone(guard), "the guard has finished")
        assert launcher.stderr is not None
        assert f"[demo guard] the launcher is gone: stopped process groups [{child}]" in launcher.stderr.read()
    finally:
        launcher.kill()
        launcher.wait()
        if child and not _group_gone(child):
            os.killpg(child, signal.SIGKILL)


def test_the_guard_leaves_alone_a_group_the_launcher_forgot():
    demo, guard_script = _load_demo(), load_demo_guard()
    guard = demo.Guard({"PATH": "/usr/bin:/bin"})
    forgotten = guard.popen(SLEEPER_WITH_CHILD, signal.SIGTERM)
    guarded = guard.popen(SLEEPER_WITH_CHILD, signal.SIGTERM)
    try:
        guard.forget(forgotten.pid)
        os.close(guard.write_fd)  # what the kernel does when the launcher dies
        assert guarded.wait(timeout=10) == -signal.SIGTERM
        # Once the group is gone (its leader reaped here, by its parent) the guard is done, well within its grace.
        assert guard.process.wait(timeout=guard_script.GRACE) == 0
        assert forgotten.poll() is None and not _group_gone(forgotten.pid)
    finally:
        for process in (forgotten, guarded):
            if not _group_gone(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_dead_guard_is_started_again_and_told_every_group():
    demo = _load_demo()
    supervisor = demo.Supervisor({"PATH": "/usr/bin:/bin"})
    child = supervisor.start(demo.Child("sleeper", SLEEPER_WITH_CHILD))
    first = supervisor.guard.process
    try:
        first.kill()
        first.wait()
        supervisor.check()
        assert supervisor.guard.process.pid != first.pid
        os.close(supervisor.guard.write_fd)  # the launcher dies: the new guard stops the group started before it
        assert child.process.wait(timeout=10) == -signal.SIGTERM
        wait_until(lambda: _group_gone(child.process.pid), "the child's group is gone")
    finally:
        if not _group_gone(child.process.pid):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()


def test_a_group_deaf_to_its_signal_is_killed_after_the_grace():
    guard = load_demo_guard()
    deaf = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; sleep 600 & echo ready; wait"], start_new_session=True, stdout=subprocess.PIPE
    )
    try:
        assert deaf.stdout is not None and deaf.stdout.readline() == b"ready\n"  # SIGTERM ignored from here on
        assert guard.stop_groups({deaf.pid: signal.SIGTERM}, grace=0.5) == [deaf.pid]
        assert deaf.wait(timeout=10) == -signal.SIGKILL
        wait_until(lambda: _group_gone(deaf.pid), "the deaf group is gone")
    finally:
        if not _group_gone(deaf.pid):
            os.killpg(deaf.pid, signal.SIGKILL)
        deaf.wait()
