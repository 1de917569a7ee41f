"""Benchmark: the demo stack under concurrent clients — graph API and overview page, latency percentiles and errors.

Starts the whole demo (``scripts/demo.py``: Bookinfo simulator, Prometheus when installed, Celery worker and beat
taking a snapshot every 15 s, gunicorn with WhiteNoise) on free loopback ports in a temporary folder, logs in
through the login form as the demo's admin, waits for the first graph snapshot, then runs ``--clients`` closed-loop
clients for ``--seconds``: each keeps one keep-alive connection with the session cookie and sends its next request
as soon as the last one is answered (after ``--think-ms``; ``--new-connections``: a new connection per request, as
``curl`` in a loop), cycling through

1. ``GET /api/v1/graph`` (the default request: whole mesh, versioned-app graph),
2. ``GET /api/v1/graph?namespaces=bookinfo`` (one namespace),
3. ``GET /`` (the overview page).

The clients run in ``--processes`` processes of threads, so the load generator's own GIL does not add to the
latencies it measures. It prints the machine-speed reference (``bench/machine_speed.py``) first, then per request
kind and overall: requests, errors (any status but 200, or no answer), p50/p95/p99/max latency (ms, from sending the
request to reading the whole answer) and throughput. The goal (issue 12): p99 < 500 ms on 2 cores, 0 errors.

The load generator shares the machine with the stack it measures: on 2 cores its own CPU is part of the figures.

With ``--compare-with REV`` the demo of another commit (e.g. one still serving with ``runserver``) is measured the
same way first.

    .venv/bin/python bench/load.py [--clients 50 --seconds 60 --processes 5 --think-ms 0 --floor-seconds 15]
        [--new-connections] [--compare-with REV]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from machine_speed import describe_machine_speed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.prometheus_server import find_free_port  # noqa: E402

#: (label, path) of the requests each client cycles through.
REQUESTS: tuple[tuple[str, str], ...] = (
    ("graph API, whole mesh", "/api/v1/graph"),
    ("graph API, namespace bookinfo", "/api/v1/graph?namespaces=bookinfo"),
    ("overview page", "/"),
)
#: The floor: the least a request through the same server, middleware and database costs (one query, no session
#: row, no template), under the same clients.
FLOOR: tuple[tuple[str, str], ...] = (("floor: /healthz", "/healthz"),)
START_TIMEOUT_SECONDS = 120.0
HEADINGS = ("p50 ms", "p95 ms", "p99 ms", "max ms", "req/s")


@dataclass(frozen=True)
class Sample:
    """One request: which of :data:`REQUESTS`, how long it took (ms), and whether it was answered 200."""

    kind: int
    ms: float
    ok: bool


@contextmanager
def running_demo(root: Path, workdir: Path, password: str) -> Iterator[str]:
    """``scripts/demo.py`` of the tree ``root`` on free ports with its var folder in ``workdir``; yields the base
    URL, stops it after."""
    port = find_free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MESH_UI_SIMULATOR_PORT": str(find_free_port()),
        "MESH_UI_PROMETHEUS_PORT": str(find_free_port()),
        "MESH_UI_VAR_DIR": str(workdir),
        "MESH_UI_ADMIN_PASSWORD": password,
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "SECRET_KEY_FILE", "PROMETHEUS_URL"):
        env.pop(name, None)
    log = (workdir / "demo.log").open("wb")
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), "the demo's web server", demo, workdir)
        yield base
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)  # the launcher stops its children in order
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.kill()
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_until(ready: Callable[[], bool], what: str, demo: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready():
        if demo.poll() is not None or time.monotonic() > deadline:
            tail = (workdir / "demo.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{what} did not come up; the demo's log ends:\n{tail}")
        time.sleep(0.5)


def log_in(base: str, password: str) -> str:
    """Log in through the login form as the demo's admin; returns the session cookie's value."""
    with requests.Session() as session:
        form = session.get(f"{base}/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token, "no CSRF token on the login page"
        answer = session.post(
            f"{base}/login/",
            data={"csrfmiddlewaretoken": token.group(1), "username": "admin", "password": password, "next": "/"},
            allow_redirects=False,
            timeout=10,
        )
        if answer.status_code != 302 or "sessionid" not in session.cookies:
            raise SystemExit(f"logging in failed: HTTP {answer.status_code}")
        return str(session.cookies["sessionid"])


def has_snapshot(base: str, session_id: str) -> bool:
    answer = requests.get(f"{base}/api/v1/graph?namespaces=bookinfo", cookies={"sessionid": session_id}, timeout=10)
    return answer.status_code == 200 and answer.json().get("snapshot") is not None


def run_client(
    base: str,
    paths: tuple[str, ...],
    session_id: str,
    offset: int,
    window: tuple[float, float],
    think: float,
    new_connections: bool,
) -> list[Sample]:
    """One closed-loop client cycling through ``paths`` from ``window[0]`` to ``window[1]`` (unix times); its
    samples. On one keep-alive connection, or a new connection per request (``Connection: close``)."""
    samples: list[Sample] = []
    with requests.Session() as session:
        session.cookies.set("sessionid", session_id)
        if new_connections:
            session.headers["Connection"] = "close"
        start_at, stop_at = window
        time.sleep(max(0.0, start_at - time.time()))
        turn = offset
        while time.time() < stop_at:
            kind = turn % len(paths)
            started = time.perf_counter()
            try:
                answer = session.get(base + paths[kind], timeout=30, allow_redirects=False)
                ok = answer.status_code == 200 and len(answer.content) > 0
            except requests.RequestException:
                ok = False
            samples.append(Sample(kind, (time.perf_counter() - started) * 1000, ok))
            turn += 1
            if think:
                time.sleep(think)
    return samples


Job = tuple[str, tuple[str, ...], str, int, int, tuple[float, float], float, bool]


def run_process(job: Job) -> list[tuple[int, float, bool]]:
    """``clients`` threads of :func:`run_client` in this process; their samples as plain tuples."""
    base, paths, session_id, first, clients, window, think, new_connections = job
    results: list[list[Sample]] = [[] for _ in range(clients)]

    def client(index: int) -> None:
        results[index] = run_client(base, paths, session_id, first + index, window, think, new_connections)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [(s.kind, s.ms, s.ok) for samples in results for s in samples]


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of already sorted values."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(share * len(sorted_values)) - 1))]


def run_load(
    base: str,
    session_id: str,
    requests_: tuple[tuple[str, str], ...],
    clients: int,
    processes: int,
    seconds: float,
    think: float,
    new_connections: bool,
) -> list[tuple[int, float, bool]]:
    """``clients`` clients spread over ``processes`` processes, all starting together, for ``seconds``."""
    paths = tuple(path for _, path in requests_)
    per_process = [clients // processes + (i < clients % processes) for i in range(processes)]
    start_at = time.time() + 2.0  # every process and thread starts together, once all are spawned
    jobs: list[Job] = []
    first = 0
    for count in per_process:
        jobs.append((base, paths, session_id, first, count, (start_at, start_at + seconds), think, new_connections))
        first += count
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return [sample for part in pool.map(run_process, jobs) for sample in part]


def describe(label: str, samples: list[tuple[int, float, bool]], seconds: float) -> str:
    times = sorted(ms for _, ms, _ in samples)
    errors = sum(1 for *_, ok in samples if not ok)
    return (
        f"  {label:<32} {len(samples):>7} {errors:>6} {percentile(times, 0.5):>8.0f} {percentile(times, 0.95):>8.0f} "
        f"{percentile(times, 0.99):>8.0f} {times[-1] if times else math.nan:>8.0f} {len(samples) / seconds:>8.1f}"
    )


@dataclass
class Measurement:
    """The samples of one stack: the dashboard requests, the floor, and the load average when they ended."""

    label: str
    samples: list[tuple[int, float, bool]]
    floor: list[tuple[int, float, bool]]
    load: float


def export_tree(rev: str, into: Path) -> Path:
    """The whole tree of commit ``rev`` in ``into``, with this tree's ``node_modules`` (static files) linked in.

    Run with this virtualenv, its scripts import its own packages: the working directory comes first on the path.
    """
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    (into / "node_modules").symlink_to(ROOT / "node_modules")
    return into


def measure(root: Path, label: str, args: argparse.Namespace) -> Measurement:
    """Start the demo of ``root``, log in, wait for a snapshot, run the load and then the floor; stop the demo."""
    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-load-"))
    password = secrets.token_urlsafe(16)
    processes = min(args.processes, args.clients)
    think = args.think_ms / 1000
    try:
        with running_demo(root, workdir, password) as base:
            session_id = log_in(base, password)
            started = time.monotonic()
            while not has_snapshot(base, session_id):
                if time.monotonic() - started > START_TIMEOUT_SECONDS:
                    raise SystemExit("no graph snapshot within two minutes")
                time.sleep(1)
            fresh = args.new_connections
            samples = run_load(base, session_id, REQUESTS, args.clients, processes, args.seconds, think, fresh)
            load = os.getloadavg()[0]
            floor: list[tuple[int, float, bool]] = []
            if args.floor_seconds > 0:
                floor = run_load(base, session_id, FLOOR, args.clients, processes, args.floor_seconds, think, fresh)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Measurement(label, samples, floor, load)


def report(result: Measurement, args: argparse.Namespace) -> None:
    print(
        f"\n{result.label}: {args.clients} clients for {args.seconds:.0f} s, think time {args.think_ms:.0f} ms, "
        f"{'a new connection per request' if args.new_connections else 'keep-alive'} "
        f"(load average at the end {result.load:.1f} on {os.cpu_count()} cores)"
    )
    print(f"  {'request':<32} {'count':>7} {'errors':>6}" + "".join(f" {c:>8}" for c in HEADINGS))
    for kind, (label, _) in enumerate(REQUESTS):
        print(describe(label, [s for s in result.samples if s[0] == kind], args.seconds))
    print(describe("all", result.samples, args.seconds))
    if result.floor:
        print(describe(f"{FLOOR[0][0]} ({args.floor_seconds:.0f} s)", result.floor, args.floor_seconds))
    errors = sum(1 for *_, ok in result.samples if not ok)
    p99 = percentile(sorted(ms for _, ms, _ in result.samples), 0.99)
    verdict = "met" if p99 < 500 and errors == 0 else "NOT met"
    print(f"  goal p99 < 500 ms with 0 errors: {verdict} (p99 {p99:.0f} ms, {errors} errors)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=5, help="load-generator processes the clients share")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause of a client between two requests")
    parser.add_argument("--floor-seconds", type=float, default=15.0, help="then the same clients on /healthz (0: skip)")
    parser.add_argument(
        "--new-connections", action="store_true", help="a new TCP connection per request (curl in a loop)"
    )
    parser.add_argument("--compare-with", metavar="REV", help="first measure the demo of this commit the same way")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds < 5 or args.processes < 1:
        parser.error("--clients >= 1, --seconds >= 5 and --processes >= 1")
    print(describe_machine_speed(), flush=True)
    results = []
    if args.compare_with:
        with tempfile.TemporaryDirectory(prefix="mesh-ui-load-tree-") as tree:
            results.append(
                measure(export_tree(args.compare_with, Path(tree)), f"make demo of {args.compare_with}", args)
            )
    results.append(measure(ROOT, "make demo of this tree (gunicorn 2 processes x 8 threads)", args))
    print(
        f"\nEach: {min(args.processes, args.clients)} load-generator processes; Celery snapshots every 15 s meanwhile."
    )
    for result in results:
        report(result, args)


if __name__ == "__main__":
    main()
