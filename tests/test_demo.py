"""The demo launcher's own secret: a random SECRET_KEY kept under the var folder, private to its owner."""

import stat
import sys

from tests.support.demo_script import load_demo_script


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
