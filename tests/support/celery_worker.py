"""Run a real Celery worker process on the test's database, and queue tasks to it with ``celery call``.

``running_worker(env, log, *options)`` starts ``celery worker`` (no heartbeat, mingle or gossip: one worker, no
peers), yields a :class:`CeleryWorker` and stops it whatever happens; an assertion that fails inside the block
carries the tail of the worker's log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_SECONDS = 15


def database_url() -> str:
    """The URL of the test database this process uses, so worker processes write where the test reads."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        MESH_UI_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="mesh_ui.settings",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "mesh_ui", *args]


def call_task(env: dict[str, str], task: str, *args: int, queue: str | None = None) -> None:
    """Queue ``task(*args)`` through the broker of ``env`` (``celery call``), as another process would."""
    command = ["call", task]
    if args:
        command += ["--args", f"[{', '.join(map(str, args))}]"]
    if queue:
        command += ["--queue", queue]
    subprocess.run(celery_command(*command), cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)


@dataclass
class CeleryWorker:
    process: subprocess.Popen[bytes]
    log: Path
    output: str = ""  # the whole log, once stopped

    def stop(self) -> str:
        if self.process.returncode is None:
            # SIGQUIT is Celery's cold shutdown: no waiting for a sync that is following watches.
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.output = self.log.read_text()
        return self.output


@contextmanager
def running_worker(env: dict[str, str], log: Path, *options: str) -> Iterator[CeleryWorker]:
    """A ``celery worker`` with ``options``, its output in ``log``; stopped on leaving the block."""
    command = celery_command("worker", "--without-heartbeat", "--without-mingle", "--without-gossip", *options)
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    worker = CeleryWorker(process, log)
    try:
        yield worker
    except AssertionError as error:
        error.add_note(f"worker log (tail):\n{worker.stop()[-3000:]}")
        raise
    finally:
        worker.stop()
