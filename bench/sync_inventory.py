"""Benchmark: full inventory sync of a large simulated cluster (500 namespaces, 2,000 services, 10,000 pods).

The simulator runs in a child process so this process's peak memory is mesh-ui's alone. Prints the machine-speed
reference of the run (``bench/machine_speed.py``), then the time of the first full sync (everything created), of a
second one (nothing changed), and the peak RSS growth during the sync. Each sync runs once: these are single
figures, not medians. The database is a fresh SQLite file unless ``DATABASE_URL`` is set (use a scratch PostgreSQL
database).

    .venv/bin/python bench/sync_inventory.py [--namespaces 500 --services 2000 --pods 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_speed import describe_machine_speed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIMULATOR_CHILD = """
import sys, time
from simulator import Simulator
from simulator.synthetic import populate_synthetic
sim = Simulator(with_bookinfo=False)
populate_synthetic(sim.store, namespaces={namespaces}, services={services}, pods={pods})
sim.start(host="127.0.0.1", port=0)
sim.write_kubeconfig({kubeconfig!r})
print("ready", flush=True)
sys.stdin.read()
sim.stop()
"""


def rss_mib() -> float:
    """Current resident set size of this process (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--pods", type=int, default=10000)
    args = parser.parse_args()
    print(describe_machine_speed())

    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-bench-"))
    kubeconfig = workdir / "kubeconfig"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["MESH_UI_VAR_DIR"] = str(workdir / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
    # mesh-ui refuses to start without SECRET_KEY; the bench signs nothing that outlives it.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", SIMULATOR_CHILD.format(kubeconfig=str(kubeconfig), **vars(args))],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit("the simulator child did not start")
    print(
        f"simulator with {args.namespaces} namespaces / {args.services} services / {args.pods} pods "
        f"ready in {time.perf_counter() - started:.1f} s"
    )

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import Cluster, Pod, Service, Workload
    from inventory.sync import sync_cluster

    call_command("migrate", verbosity=0)
    if connection.vendor != "sqlite":
        Cluster.objects.filter(name="bench").delete()
    cluster = Cluster.objects.create(name="bench", kubeconfig_path=str(kubeconfig))
    try:
        baseline = rss_mib()
        t0 = time.perf_counter()
        outcome = sync_cluster(cluster.pk)
        first = time.perf_counter() - t0
        peak = peak_rss_mib()
        t0 = time.perf_counter()
        sync_cluster(cluster.pk)
        second = time.perf_counter() - t0
    finally:
        child.stdin.close()
        child.wait(timeout=30)

    assert not outcome.failed, outcome.failed
    counts = (Service.objects.count(), Workload.objects.count(), Pod.objects.count())
    print(f"database: {connection.vendor}")
    print(f"stored: {counts[0]} services, {counts[1]} workloads, {counts[2]} pods")
    print(f"full sync (all created):     {first:6.2f} s")
    print(f"full sync (nothing changed): {second:6.2f} s")
    print(f"peak RSS: {peak:.0f} MiB (baseline before sync {baseline:.0f} MiB, growth {peak - baseline:.0f} MiB)")
    if connection.vendor != "sqlite":
        cluster.delete()


if __name__ == "__main__":
    main()
