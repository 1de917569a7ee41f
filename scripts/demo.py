"""The demo launcher behind ``make demo``: the whole embedded default in one command.

Checks that its ports are free (naming the one taken, exit code 2), makes a random SECRET_KEY under the var folder
(unless one is given), migrates the database, makes sure an ``admin`` superuser exists (printing its password
once, kept in ``var/admin-password``), starts the Bookinfo simulator on loopback, Prometheus scraping it (when the
binary is there), a Celery worker and beat, and the web server (gunicorn; static files by WhiteNoise) on
http://127.0.0.1:$PORT. The product never imports the simulator; only this launcher and the tests start it.

It then supervises them (:class:`Supervisor`): a child that dies is restarted with backoff (1 s doubling to 30 s,
back to 1 s once it has run a minute) and the launcher says so, so the demo can show its own fault handling while
the web server keeps answering. Ctrl-C, SIGINT or SIGTERM to the launcher stops every child and waits for them.
Every child runs in a process group of its own that a guard process (``scripts/demo_guard.py``, :class:`Guard`)
knows about; the guard holds the read end of a pipe only the launcher writes to, so when the launcher dies, however
it dies (SIGKILL too), the guard reads end of file and stops those groups: none of the demo outlives the launcher.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


#: The guard process's program (see :class:`Guard`).
GUARD_SCRIPT = ROOT / "scripts" / "demo_guard.py"
#: Restart backoff of a dead child: first delay, cap, and how long a child must run for the delay to start over.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
RESTART_RESET_AFTER = 60.0
#: How long stopping waits for the children before killing what is left.
STOP_TIMEOUT = 10.0


class Guard:
    """The launcher's side of the guard process, which stops the demo's process groups once the launcher is gone.

    The launcher keeps the only write end of a pipe (``os.pipe`` descriptors are not inherited: children are started
    with ``close_fds``, and only the guard gets the read end, through ``pass_fds``), so the guard reads end of file
    exactly when the launcher has exited or been killed. Each child is started through :meth:`popen` in a new
    session (its own process group) and registers that group itself, before its program runs: a launcher killed
    between the fork and its own bookkeeping still leaves nothing behind. A guard that dies is started again with
    every group still running.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        #: The groups started and not yet stopped {pgid: signal the guard sends once the launcher is gone}.
        self.groups: dict[int, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.write_fd = -1
        self.start()

    def start(self) -> None:
        """Start the guard process and tell it every group still running."""
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [PYTHON, str(GUARD_SCRIPT), str(read_fd)],
            cwd=ROOT,
            env=self.env,
            pass_fds=(read_fd,),
            start_new_session=True,
        )
        os.close(read_fd)
        self.write_fd = write_fd
        for pgid, sig in self.groups.items():
            self._send(f"+{pgid} {sig}")

    def check(self) -> None:
        """Start the guard again if it died (killed by someone): without it a SIGKILLed launcher would leave all."""
        if self.process is not None and (code := self.process.poll()) is not None:
            print(
                f"[demo] the guard (pid {self.process.pid}) exited with code {code}; starting it again", file=sys.stderr
            )
            os.close(self.write_fd)
            self.start()

    def popen(self, args: list[str], death_signal: int, **options: Any) -> subprocess.Popen[Any]:
        """Start ``args`` in a new session whose group the guard stops with ``death_signal`` if the launcher dies."""
        write_fd = self.write_fd

        def register() -> None:
            # In the forked child, before exec: it still holds the write end here, so the line arrives even if the
            # launcher died a moment ago, and the guard then sees end of file once exec closes the child's copy.
            # Popen has restored SIGPIPE's default by now: a dead guard must not kill the child. check() starts
            # another guard and tells it this group.
            signal.signal(signal.SIGPIPE, signal.SIG_IGN)
            with contextlib.suppress(OSError):
                os.write(write_fd, f"+{os.getpid()} {death_signal}\n".encode())
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)

        process = subprocess.Popen(args, cwd=ROOT, env=self.env, start_new_session=True, preexec_fn=register, **options)
        self.groups[process.pid] = death_signal
        return process

    def forget(self, pgid: int) -> None:
        """The launcher stopped (or reaped) group ``pgid`` itself: the guard must not signal that id later."""
        self.groups.pop(pgid, None)
        self._send(f"-{pgid}")

    def close(self) -> None:
        """Close the write end (what the kernel does when the launcher dies) and wait for the guard to finish."""
        os.close(self.write_fd)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)

    def _send(self, line: str) -> None:
        with contextlib.suppress(OSError):  # a dead guard: check() starts another and tells it every group
            os.write(self.write_fd, f"{line}\n".encode())


def find_taken_port(ports: dict[str, str]) -> str | None:
    """The first of ``ports`` ({what: port}) something already listens on, as a sentence; None when all are free.

    Binds each like a server would (``SO_REUSEADDR``, so a port in TIME_WAIT after a stopped demo counts as free).
    """
    for what, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", int(port)))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return f"port {port} ({what}) is already in use: is another demo running? Stop it or pick another."
                return f"port {port} ({what}) cannot be used: {exc.strerror}"
    return None


@dataclass
class Child:
    """One supervised process: how to start it, the signal that stops it, and its restarts so far."""

    name: str
    args: list[str]
    #: Sent to the child to stop it (what is left of its process group is killed once it has stopped).
    stop_signal: int = signal.SIGTERM
    #: Sent to its process group by the guard when the launcher dies (None: ``stop_signal``).
    death_signal: int | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    delay: float = RESTART_FIRST_DELAY
    #: When a dead child is started again (monotonic clock); None while it runs.
    restart_at: float | None = None
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    """Starts the demo's children, restarts those that die (with backoff), and stops them all.

    Every child runs in a session of its own (a terminal's Ctrl-C reaches only the launcher, which stops them in
    order) that the :class:`Guard` stops when the launcher dies; so do the setup commands (:meth:`run`).
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[Child] = []
        self.stopping = False
        self.guard = Guard(env)

    def run(self, args: list[str]) -> str:
        """Run a setup command (migrate, ...) to its end, guarded like the children; return its standard output."""
        process = self.guard.popen(args, signal.SIGTERM, stdout=subprocess.PIPE, text=True)
        try:
            output, _ = process.communicate()
        finally:
            if process.poll() is None:  # interrupted
                process.kill()
                process.wait()
            self.guard.forget(process.pid)
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, args)
        return str(output)

    def start(self, child: Child) -> Child:
        """Start ``child`` (first time or again) and print its PID."""
        child.process = self.guard.popen(child.args, child.death_signal or child.stop_signal)
        child.started_at, child.restart_at = time.monotonic(), None
        if child not in self.children:
            self.children.append(child)
            print(f"[demo] starting {child.name} (pid {child.process.pid}): {' '.join(child.args)}", flush=True)
        else:
            print(f"[demo] {child.name} restarted (pid {child.process.pid}, restart {child.restarts})", flush=True)
        return child

    def check(self) -> None:
        """Notice dead children and schedule their restart; restart those whose delay has passed."""
        now = time.monotonic()
        if not self.stopping:
            self.guard.check()
        for child in self.children:
            process = child.process
            if process is None or self.stopping:
                continue
            code = process.poll()
            if code is not None and child.restart_at is None:
                # What it left behind in its group (a killed Celery worker's pool, gunicorn's workers) goes too.
                _signal_group(process.pid, signal.SIGKILL)
                self.guard.forget(process.pid)
                if now - child.started_at >= RESTART_RESET_AFTER:
                    child.delay = RESTART_FIRST_DELAY
                child.exit_codes.append(code)
                child.restarts += 1
                child.restart_at = now + child.delay
                print(
                    f"[demo] {child.name} (pid {process.pid}) exited with code {code}; "
                    f"restarting it in {child.delay:g} s",
                    file=sys.stderr,
                    flush=True,
                )
                child.delay = min(RESTART_MAX_DELAY, child.delay * 2)
            elif code is not None and child.restart_at is not None and now >= child.restart_at:
                self.start(child)

    def stop_all(self) -> None:
        """Stop every child (last started first) and wait for them; kill what is left after ``STOP_TIMEOUT``."""
        self.stopping = True
        for child in reversed(self.children):
            if child.process is not None and child.process.poll() is None:
                # To the child alone: it stops its own in order (Celery its pool, gunicorn its workers); what is
                # left of its group is killed once it has stopped.
                child.process.send_signal(child.stop_signal)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"[demo] {child.name} did not stop in {STOP_TIMEOUT:g} s: killing it", file=sys.stderr)
                child.process.kill()
                child.process.wait()
            _signal_group(child.process.pid, signal.SIGKILL)  # anything of its group still there
            self.guard.forget(child.process.pid)
        self.guard.close()
        print("[demo] stopped", flush=True)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, sig)


def _wait_for(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


#: The scrape job of the simulator's metrics (what ``MESH_UI_PROMETHEUS_TARGET_SELECTOR`` names in the demo).
PROMETHEUS_JOB = "bookinfo-simulator"
PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: {job}
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:{sim_port}"]
"""


def ensure_secret_key_file(var_dir: Path) -> Path:
    """A random SECRET_KEY kept under the var folder, so logins survive a restart of the demo."""
    path = var_dir / "secret_key"
    if not path.exists():
        # Created 0600: whoever reads the key can forge a session.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path


def find_prometheus() -> str | None:
    """The Prometheus binary from PROMETHEUS_BIN or PATH (Debian: apt-get install prometheus)."""
    configured = os.environ.get("PROMETHEUS_BIN")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("prometheus")


#: Web server processes and threads per process: requests wait on the database, not the CPU, so threads keep 50
#: concurrent clients served on two cores (bench/load.py); a second process keeps pages answering while one is busy.
WEB_WORKERS = 2
WEB_THREADS = 8


def build_web_command(port: str) -> list[str]:
    """gunicorn serving mesh-ui's WSGI application on loopback (static files: WhiteNoise, inside the app).

    No access log (the dashboard polls; a line per poll only buries the errors), and a short graceful timeout so
    Ctrl-C does not wait on idle keep-alive connections.
    """
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "mesh_ui.wsgi:application",
        # Its own log lines redacted like the app's (a token in a request's query string never reaches them).
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WEB_WORKERS),
        "--threads",
        str(WEB_THREADS),
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]


def main() -> int:
    port = os.environ.get("PORT", "8000")
    sim_port = os.environ.get("MESH_UI_SIMULATOR_PORT", "16443")
    var_dir = Path(os.environ.get("MESH_UI_VAR_DIR", ROOT / "var"))
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
    env.setdefault("MESH_UI_RELIST_INTERVAL", "120")
    prometheus_port = os.environ.get("MESH_UI_PROMETHEUS_PORT", "19090")
    prometheus = None if env.get("PROMETHEUS_URL") else find_prometheus()
    ports = {"the web server, PORT": port, "the simulator, MESH_UI_SIMULATOR_PORT": sim_port}
    if prometheus:
        ports["Prometheus, MESH_UI_PROMETHEUS_PORT"] = prometheus_port
    taken = find_taken_port(ports)
    if taken:
        print(f"[demo] {taken}", file=sys.stderr, flush=True)
        return 2
    var_dir.mkdir(parents=True, exist_ok=True)
    kubeconfig = var_dir / "simulator.kubeconfig"
    env.setdefault("MESH_UI_CLUSTERS", f"bookinfo={kubeconfig}")
    if prometheus:
        env["PROMETHEUS_URL"] = f"http://127.0.0.1:{prometheus_port}"
        # The scrape job below is the mesh's metrics: all its targets down is lost telemetry, not an idle mesh.
        env.setdefault("MESH_UI_PROMETHEUS_TARGET_SELECTOR", f'job="{PROMETHEUS_JOB}"')
    elif not env.get("PROMETHEUS_URL"):
        # No Prometheus: read the simulator's counters directly (the page says so).
        env.setdefault("MESH_UI_METRICS_URL", f"http://127.0.0.1:{sim_port}/metrics")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("SECRET_KEY") and not env.get("SECRET_KEY_FILE"):
        env["SECRET_KEY_FILE"] = str(ensure_secret_key_file(var_dir))

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Both explicitly: a shell starting the launcher in the background (`make demo &`) leaves SIGINT ignored, and
    # Python then installs no handler of its own, so SIGINT to the launcher alone would stop nothing.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    supervisor = Supervisor(env)
    try:
        # Migrating in the same Django start as making sure the admin exists: one start fewer before the demo is up.
        ensure_admin = [
            PYTHON,
            "manage.py",
            "ensure_admin",
            "--migrate",
            "--password-file",
            str(var_dir / "admin-password"),
        ]
        admin_line = supervisor.run(ensure_admin).strip()
        if "MESH_UI_STATIC_COLLECTED" not in env:  # given: collected already, or served from the finders (tests)
            # Collected and pre-compressed static files, served by WhiteNoise with gzip.
            supervisor.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"])
            env["MESH_UI_STATIC_COLLECTED"] = "1"
        print(f"[demo] {admin_line}", flush=True)
        return _serve(supervisor, env, port, sim_port, prometheus, prometheus_port, var_dir, kubeconfig, admin_line)
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the shutdown itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()


def _serve(
    supervisor: Supervisor,
    env: dict[str, str],
    port: str,
    sim_port: str,
    prometheus: str | None,
    prometheus_port: str,
    var_dir: Path,
    kubeconfig: Path,
    admin_line: str,
) -> int:
    """Start every child, say where the demo is, then supervise until interrupted (1 when a child cannot start)."""
    # Opt-in traffic scenarios next to Bookinfo (simulator/scenarios), e.g. MESH_UI_SCENARIO=ambient.
    scenario = ["--scenario", os.environ.get("MESH_UI_SCENARIO", "")]
    simulator = [PYTHON, "-m", "simulator", "serve", "--host", "127.0.0.1", "--port", sim_port, *scenario]
    supervisor.start(Child("Bookinfo simulator", [*simulator, "--kubeconfig", str(kubeconfig)]))
    if not _wait_for(f"http://127.0.0.1:{sim_port}/readyz", 30):
        print("[demo] the simulator did not start", file=sys.stderr)
        return 1
    if prometheus:
        prometheus_dir = var_dir / "prometheus"
        prometheus_dir.mkdir(exist_ok=True)
        config = prometheus_dir / "prometheus.yml"
        config.write_text(PROMETHEUS_CONFIG.format(sim_port=sim_port, job=PROMETHEUS_JOB))
        command = [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={prometheus_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
        ]
        supervisor.start(Child("Prometheus", command))
        if not _wait_for(f"http://127.0.0.1:{prometheus_port}/-/ready", 30):
            print("[demo] Prometheus did not become ready", file=sys.stderr)
            return 1
    else:
        print("[demo] no prometheus binary found: reading the simulator's counters directly", flush=True)
    celery = [PYTHON, "-m", "celery", "-A", "mesh_ui"]
    # One process for the cluster's sync (it follows watches for the relist interval), one for the short tasks
    # (dispatching, starting a snapshot, thinning), and one per metric window: a snapshot's windows are tasks
    # of their own, built side by side.
    windows = len([w for w in env.get("MESH_UI_GRAPH_WINDOWS", "1m,5m,10m").split(",") if w.strip()])
    worker = [*celery, "worker", "--loglevel", "INFO", "--concurrency", str(2 + windows)]
    # SIGQUIT is a cold shutdown for Celery (a sync following watches is safe to cut: it is idempotent and its
    # lease expires); a warm one would wait for that sync, minutes. Once the launcher is gone nobody waits for
    # even that: the guard SIGKILLs the worker's whole group, its pool processes with it.
    supervisor.start(Child("Celery worker", worker, stop_signal=signal.SIGQUIT, death_signal=signal.SIGKILL))
    supervisor.start(Child("Celery beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile", ""]))
    supervisor.start(Child("web server (gunicorn)", build_web_command(port)))
    if not _wait_for(f"http://127.0.0.1:{port}/healthz", 30):
        print("[demo] the web server did not start", file=sys.stderr)
        return 1
    print(
        f"\n[demo] mesh-ui is up: http://127.0.0.1:{port}/login/  (log in as admin; admin site: /admin/)",
        flush=True,
    )
    print(f"[demo] {admin_line}", flush=True)
    source = env.get("PROMETHEUS_URL") or f"{env.get('MESH_UI_METRICS_URL')} (no Prometheus binary found)"
    print(
        f"[demo] telemetry: {source}; graph JSON (logged in): http://127.0.0.1:{port}/api/v1/graph?namespaces=bookinfo"
    )
    simulator_cli = f"{PYTHON} -m simulator --kubeconfig {kubeconfig}"
    print(f"[demo] try: {simulator_cli} scale bookinfo reviews-v3 0", flush=True)
    print(f"[demo]      {simulator_cli} set-profile bookinfo details-v1 --error-rate 0.3", flush=True)
    print("[demo] a child that dies is restarted; Ctrl-C stops everything.", flush=True)
    while True:
        supervisor.check()
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
