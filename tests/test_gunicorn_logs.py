"""gunicorn's own log lines (a request that fails past Django, the access log) never carry a token of the URL."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.prometheus_server import find_free_port
from tests.support.celery_worker import worker_env
from tests.support.demo_script import load_demo_script
from tests.support.raising_wsgi import RAISING_PATH

ROOT = Path(__file__).resolve().parents[1]
SECRET = "tok-3f9a0c1d77e2"


def _demo_web_command(port: int) -> list[str]:
    demo = load_demo_script()
    command: list[str] = demo.build_web_command(str(port))
    return command


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited at start-up"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not listen on {port} within {timeout}s")


def _status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_gunicorn_redacts_tokens_in_its_error_and_access_logs(tmp_path: Path) -> None:
    port = find_free_port()
    # The demo's own command, on an app with one path that raises, and with an access log.
    command = _demo_web_command(port)
    command[command.index("mesh_ui.wsgi:application")] = "tests.support.raising_wsgi:application"
    command += ["--workers", "1", "--access-logfile", "-", "--no-control-socket"]
    stdout, stderr = tmp_path / "access.log", tmp_path / "error.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env(tmp_path), stdout=out, stderr=err)
        try:
            _wait_for_port(port, process)
            assert _status_of(f"http://127.0.0.1:{port}{RAISING_PATH}?token={SECRET}") == 500
            assert _status_of(f"http://127.0.0.1:{port}/login/?access_token={SECRET}") == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
    errors, access = stderr.read_text(), stdout.read_text()
    assert f"Error handling request GET {RAISING_PATH}?token=***" in errors
    assert f"RuntimeError: cannot answer {RAISING_PATH}?token=***" in errors  # the traceback too
    assert "/login/?access_token=***" in access
    assert SECRET not in errors + access
