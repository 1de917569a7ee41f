"""Benchmark: rendering the simulator's ``/metrics`` exposition for a large mesh.

Fills a :class:`simulator.metrics.MetricsRegistry` through its public API with a deterministic mesh
(``--namespaces`` x ``--workloads`` workloads, ``--edges`` edges picked with a seeded RNG; both reporters; every
edge answers 200 and every fourth edge also 503; every tenth edge also carries TCP counters) and times
``MetricsRegistry.render()``, the all-proxies exposition that Prometheus scrapes every few seconds in the demo.

With ``--compare-with REV`` the same measurement runs on the simulator of another commit (exported with
``git archive``) in the same run: one child process per side builds its registry once, then the two sides
render in alternating rounds (so both see the same machine load) and the median of ``--rounds`` is printed for
each. Both sides' expositions are then parsed with ``prometheus_client``'s parser and compared by a digest of
every sample (name, labels, value), so a speed difference cannot hide a change of series.

    .venv/bin/python bench/simulator_exposition.py [--namespaces 100 --workloads 10 --edges 1000 --rounds 7]
        [--compare-with main]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine_speed import describe_machine_speed

ROOT = Path(__file__).resolve().parent.parent


def build_registry(namespaces: int, workloads: int, edges: int, seed: int) -> Any:
    """A MetricsRegistry holding the series of a deterministic synthetic mesh (imports the simulator on sys.path)."""
    from simulator.metrics import (
        TCP_CONNECTIONS_OPENED,
        TCP_RECEIVED_BYTES,
        TCP_SENT_BYTES,
        MetricsRegistry,
        PeerLabels,
        ServiceLabels,
        standard_labels,
    )

    rng = random.Random(seed)
    peers = [
        PeerLabels(
            workload=f"app-{index % workloads // 2}-v{index % 2 + 1}",
            namespace=f"mesh-{index // workloads:04d}",
            principal=f"spiffe://cluster.local/ns/mesh-{index // workloads:04d}/sa/app-{index % workloads // 2}",
            app=f"app-{index % workloads // 2}",
            version=f"v{index % 2 + 1}",
            canonical_service=f"app-{index % workloads // 2}",
            canonical_revision=f"v{index % 2 + 1}",
            cluster="Kubernetes",
        )
        for index in range(namespaces * workloads)
    ]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        pair = rng.randrange(len(peers)), rng.randrange(len(peers))
        if pair[0] != pair[1]:
            pairs.add(pair)
    registry = MetricsRegistry()
    for number, (source_index, destination_index) in enumerate(sorted(pairs)):
        source, destination = peers[source_index], peers[destination_index]
        service = ServiceLabels(
            fqdn=f"{destination.app}.{destination.namespace}.svc.cluster.local",
            name=destination.app,
            namespace=destination.namespace,
        )
        pods = {"source": f"{source.workload}-0", "destination": f"{destination.workload}-0"}
        codes = ("200", "503") if number % 4 == 0 else ("200",)
        for reporter, pod in pods.items():
            edge_labels = functools.partial(
                standard_labels,
                reporter=reporter,
                source=source,
                destination=destination,
                service=service,
                response_flags="-",
                connection_security_policy="mutual_tls" if reporter == "destination" else "unknown",
            )
            for code in codes:
                http = edge_labels(request_protocol="http", response_code=code)
                for duration_ms in (rng.lognormvariate(3, 1) for _ in range(3)):
                    registry.record_request(pod, http, duration_ms, 700, rng.randrange(100, 10_000))
            if number % 10 == 0:
                tcp = edge_labels(request_protocol="tcp")
                registry.add_to_counter(pod, TCP_CONNECTIONS_OPENED, tcp, 1)
                registry.add_to_counter(pod, TCP_SENT_BYTES, tcp, rng.randrange(1_000, 100_000))
                registry.add_to_counter(pod, TCP_RECEIVED_BYTES, tcp, rng.randrange(1_000, 100_000))
    return registry


def sample_digest(text: str) -> str:
    """sha256 over every sample of an exposition (name, sorted labels, value), as prometheus_client parses it.

    Values are compared rounded to 6 decimals: the hand-written exposition of earlier commits wrote them so, where
    prometheus_client writes the shortest text that reads back as the exact float.
    """
    from prometheus_client.parser import text_string_to_metric_families

    samples = sorted(
        (sample.name, tuple(sorted(sample.labels.items())), round(float(sample.value), 6))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    )
    return hashlib.sha256(repr(samples).encode()).hexdigest()


def run_child(args: argparse.Namespace) -> None:
    """Build the registry once, then answer ``render`` / ``digest`` commands on stdin with JSON lines."""
    sys.path.insert(0, args.source_root)
    started = time.perf_counter()
    registry = build_registry(args.namespaces, args.workloads, args.edges, args.seed)
    print(json.dumps({"build_seconds": time.perf_counter() - started}), flush=True)
    text = ""
    for command in sys.stdin:
        if command.strip() == "render":
            started = time.perf_counter()
            text = registry.render()
            seconds = time.perf_counter() - started
            reply = {
                "seconds": seconds,
                "bytes": len(text.encode()),
                "lines": text.count("\n"),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        else:
            reply = {"digest": sample_digest(text)}
        print(json.dumps(reply), flush=True)


class Side:
    """One child process rendering the exposition of one source tree."""

    def __init__(self, label: str, source_root: Path, args: argparse.Namespace) -> None:
        self.label = label
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "--source-root",
            str(source_root),
            *("--namespaces", str(args.namespaces), "--workloads", str(args.workloads)),
            *("--edges", str(args.edges), "--seed", str(args.seed)),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.build_seconds = self._read()["build_seconds"]
        self.renders: list[dict[str, float]] = []

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.label}: the child process died")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def export_tree(rev: str, into: Path) -> Path:
    """The tree of commit ``rev`` (its ``simulator`` package is what the other side imports)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "simulator"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--workloads", type=int, default=10, help="workloads per namespace")
    parser.add_argument("--edges", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7, help="renders per side (median printed; at least 5)")
    parser.add_argument("--compare-with", default=None, metavar="REV", help="also measure this commit, alternating")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source-root", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    if args.rounds < 5:
        parser.error("--rounds must be at least 5 (medians of fewer are noise on a shared machine)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine skews timings)")
    print(describe_machine_speed())
    print(f"mesh: {args.namespaces * args.workloads} workloads, {args.edges} edges, both reporters")
    with tempfile.TemporaryDirectory(prefix="mesh-ui-bench-") as scratch:
        sides = [Side("this tree", ROOT, args)]
        if args.compare_with:
            sides.insert(0, Side(args.compare_with, export_tree(args.compare_with, Path(scratch)), args))
        try:
            for _ in range(args.rounds):
                for side in sides:
                    side.renders.append(side.ask("render"))
            digests = {side.label: side.ask("digest")["digest"] for side in sides}
        finally:
            for side in sides:
                side.close()
    print(f"\nrender of GET /metrics (all proxies), median of {args.rounds} alternating rounds:")
    for side in sides:
        last = side.renders[-1]
        median = statistics.median(render["seconds"] for render in side.renders)
        print(
            f"  {side.label:>12}: {median * 1000:8.0f} ms   {last['bytes'] / 2**20:7.1f} MiB   "
            f"{last['lines']:>9,} lines   peak RSS {last['peak_rss_mib']:6.0f} MiB   "
            f"(registry built in {side.build_seconds:.1f} s)"
        )
    if len(set(digests.values())) == 1:
        print(f"same samples on every side (digest {next(iter(digests.values()))[:16]})")
    else:
        print(f"THE SAMPLES DIFFER: {digests}")
        sys.exit(1)


if __name__ == "__main__":
    main()
