"""The demo launcher behind ``make demo``: the whole embedded default in one command.

Makes a random SECRET_KEY under the var folder (unless one is given), migrates the database, makes sure an
``admin`` superuser exists (printing its password once, kept in ``var/admin-password``), starts the Bookinfo
simulator on loopback, a Celery worker and beat, and the web server (gunicorn; static files by WhiteNoise) on
http://127.0.0.1:$PORT, and stops every child on Ctrl-C. The product never imports the simulator; only this
launcher and the tests start it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _run(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, *args], cwd=ROOT, env=env, check=True)


def _start(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    print(f"[demo] starting {name}: {' '.join(args)}", flush=True)
    # Each child gets its own process group so Ctrl-C handling stays here and we stop them in order.
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)


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


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: bookinfo-simulator
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
    var_dir.mkdir(parents=True, exist_ok=True)
    kubeconfig = var_dir / "simulator.kubeconfig"
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
    env.setdefault("MESH_UI_CLUSTERS", f"bookinfo={kubeconfig}")
    env.setdefault("MESH_UI_RELIST_INTERVAL", "120")
    prometheus_port = os.environ.get("MESH_UI_PROMETHEUS_PORT", "19090")
    prometheus = None if env.get("PROMETHEUS_URL") else find_prometheus()
    if prometheus:
        env["PROMETHEUS_URL"] = f"http://127.0.0.1:{prometheus_port}"
    elif not env.get("PROMETHEUS_URL"):
        # No Prometheus: read the simulator's counters directly (the page says so).
        env.setdefault("MESH_UI_METRICS_URL", f"http://127.0.0.1:{sim_port}/metrics")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("SECRET_KEY") and not env.get("SECRET_KEY_FILE"):
        env["SECRET_KEY_FILE"] = str(ensure_secret_key_file(var_dir))

    _run("manage.py", "migrate", "--noinput", "-v", "0", env=env)
    # Collected and pre-compressed static files, served by WhiteNoise with gzip.
    _run("manage.py", "collectstatic", "--noinput", "-v", "0", env=env)
    env["MESH_UI_STATIC_COLLECTED"] = "1"
    ensure_admin = [PYTHON, "manage.py", "ensure_admin", "--password-file", str(var_dir / "admin-password")]
    admin_line = subprocess.run(
        ensure_admin, cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    print(f"[demo] {admin_line}", flush=True)

    children: list[subprocess.Popen[bytes]] = []

    def stop_all() -> None:
        # A second Ctrl-C or SIGTERM must not interrupt the shutdown itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            if child.poll() is None:
                # SIGQUIT is a cold shutdown for Celery (a sync following watches is safe to cut: it is
                # idempotent and its lease expires); SIGTERM for the rest.
                is_celery = "celery" in list(child.args)  # type: ignore[arg-type]
                os.killpg(child.pid, signal.SIGQUIT if is_celery else signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        print("[demo] stopped", flush=True)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        children.append(
            _start(
                "Bookinfo simulator",
                [
                    PYTHON,
                    "-m",
                    "simulator",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    sim_port,
                    "--kubeconfig",
                    str(kubeconfig),
                    # Opt-in traffic scenarios next to Bookinfo (simulator/scenarios), e.g. MESH_UI_SCENARIO=ambient.
                    "--scenario",
                    os.environ.get("MESH_UI_SCENARIO", ""),
                ],
                env,
            )
        )
        if not _wait_for(f"http://127.0.0.1:{sim_port}/readyz", 30):
            print("[demo] the simulator did not start", file=sys.stderr)
            return 1
        if prometheus:
            prometheus_dir = var_dir / "prometheus"
            prometheus_dir.mkdir(exist_ok=True)
            config = prometheus_dir / "prometheus.yml"
            config.write_text(PROMETHEUS_CONFIG.format(sim_port=sim_port))
            children.append(
                _start(
                    "Prometheus",
                    [
                        prometheus,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={prometheus_dir / 'data'}",
                        f"--web.listen-address=127.0.0.1:{prometheus_port}",
                        "--storage.tsdb.retention.time=1d",
                        "--log.level=warn",
                    ],
                    env,
                )
            )
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
        concurrency = str(2 + windows)
        children.append(
            _start("Celery worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", concurrency], env)
        )
        children.append(_start("Celery beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile", ""], env))
        children.append(_start("web server (gunicorn)", build_web_command(port), env))
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
        print("[demo] Ctrl-C stops everything.", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [child.args for child in children if child.poll() is not None]
        print(f"[demo] a child exited: {failed}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
