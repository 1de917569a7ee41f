"""Compare mesh-ui's graph processing at an old git revision with the working tree, side by side in one run.

"Processing" is what ``bench/profile_build.py`` times as a snapshot's work on its rows, each side with its own
code: per window, the rows in memory -> the four graphs (wire JSON), split by namespace and compressed, plus the
health and metrics summaries of the health window. The rows are those of ``bench/synthetic_mesh.py``'s synthetic
mesh (default 1,000 workloads / 5,000 edges), computed in memory (:func:`profile_build.build_synthetic_payload`):
no Prometheus is needed.

The old revision is checked out in a temporary ``git worktree``. Each side runs in a process of its own that
imports only its own tree (the side's ``bench/profile_build.py`` drives its code), started once and warmed up
by one untimed run; the sides then take turns, round after round (the first to go alternates), and the medians
of the rounds are compared. Every run also digests what the side would store (every part, decompressed, each
graph's head and counts, health and metrics; each namespace's own chunk as the sorted set of its elements, so the
chunks' line layout does not count), which must be equal.
A machine-speed reference (a 10-million-step empty Python loop) is printed before and after the rounds.

Two figures per side: *wall*, the elapsed time of the side's ``profile_build.process`` (which also decompresses
every stored part, for the digest), and *CPU*, the processing CPU time it reports (deriving the rows plus what
``build_window`` measures, its compression threads included; no decompression). On a machine shared with other
work the CPU figure is the steadier one.

    .venv/bin/python bench/compare_build.py [--old 84274f6] [--rounds 5] [--workloads 1000 --edges 5000]
        [--rows /tmp/rows.pickle]  (Prometheus' answers, from ``profile_build.py capture``, instead)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def canonical_own_chunk(chunk: bytes) -> bytes:
    """A namespace's own chunk as the sorted lines of its elements' JSON bytes.

    Which line of the chunk an element sits on is layout (since a9db8ba idle nodes and idle-only boxes have lines of
    their own); what is stored is the elements, each byte for byte as the wire writes it.
    """
    elements = [element for line in chunk.split(b"\n") if line for element in json.loads(b"[" + line + b"]")]
    return b"\n".join(sorted(json.dumps(element, separators=(",", ":")).encode() for element in elements))


def digest_stored(out: dict[str, bytes]) -> str:
    """SHA-256 over every stored piece in key order (own chunks as :func:`canonical_own_chunk`): the "all" digest of
    ``profile_build.py run --digest`` up to the own chunks' line layout."""
    total = hashlib.sha256()
    for key in sorted(out):
        value = canonical_own_chunk(out[key]) if key.endswith("/own") else out[key]
        for piece in (key.encode(), b"\0", value, b"\0"):
            total.update(piece)
    return total.hexdigest()


def run_child(tree: Path, payload_path: Path) -> None:
    """One side: import ``tree``'s code, run its processing once untimed, then once per ``run`` line on stdin.

    Answers each run with a JSON line: wall seconds of the processing, the CPU seconds it reports (parsing,
    graphs, compression threads included; decompressing the parts for the digest excluded) and the digest.
    """
    answers, sys.stdout = sys.stdout, sys.stderr  # whatever the side prints stays out of the answers
    sys.path[:0] = [str(tree), str(tree / "bench")]
    import profile_build  # the side's own, which imports the side's mesh-ui

    payload = pickle.loads(payload_path.read_bytes())

    def measure() -> dict[str, Any]:
        started = time.perf_counter()
        timings, out = profile_build.process(payload, phases=False)
        wall = time.perf_counter() - started
        return {"wall": wall, "cpu": timings["cpu"], "digest": digest_stored(out)}

    warm_up = measure()
    for package in ("topology", "clients"):  # the venv's editable install must not have served the other tree
        origin = Path(sys.modules[package].__file__ or "")
        if not origin.is_relative_to(tree):
            raise SystemExit(f"{package} was imported from {origin}, not from {tree}")
    print(json.dumps({"ready": True, "digest": warm_up["digest"]}), file=answers, flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        print(json.dumps(measure()), file=answers, flush=True)


class Side:
    """A side's process (see :func:`run_child`), kept for every round."""

    def __init__(self, name: str, tree: Path, payload_path: Path) -> None:
        self.name = name
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.digests: set[str] = set()
        env = {
            name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")
        }
        # -P: the script's folder (this tree's bench/) is not put on the side's sys.path; run_child puts the side's.
        self.process = subprocess.Popen(
            [sys.executable, "-P", str(Path(__file__).resolve()), "--child", str(tree), str(payload_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tree,
        )

    def _answer(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        line = stdout.readline() if stdout is not None else ""
        if not line:
            raise RuntimeError(f"the {self.name} side's process ended (exit code {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def wait_ready(self) -> None:
        self.digests.add(self._answer()["digest"])

    def run_once(self) -> None:
        stdin = self.process.stdin
        if stdin is None:
            raise RuntimeError("no pipe to the side's process")
        stdin.write("run\n")
        stdin.flush()
        answer = self._answer()
        self.walls.append(answer["wall"])
        self.cpus.append(answer["cpu"])
        self.digests.add(answer["digest"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def old_worktree(revision: str, workdir: Path) -> Iterator[Path]:
    """A temporary ``git worktree`` of ``revision`` (detached), removed afterwards."""
    path = workdir / "old"
    git("worktree", "add", "--detach", str(path), revision)
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", str(path))


def describe_working_tree() -> str:
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"working tree ({head}{' + uncommitted changes' if dirty else ''})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--old", default="84274f6", help="the old revision (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side, at least 5")
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--rows", type=Path, help="a pickle of profile_build.py capture (Prometheus' answers) instead of computed rows"
    )
    parser.add_argument("--child", nargs=2, metavar=("TREE", "PAYLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(Path(args.child[0]), Path(args.child[1]))
        return
    if args.rounds < 5:
        parser.error("--rounds: a median needs at least 5 rounds")

    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from machine_speed import measure_loop_seconds
    from profile_build import WINDOWS, build_synthetic_payload

    old_revision = git("rev-parse", "--short", args.old)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine skews timings)")
    speed_before = measure_loop_seconds()
    print(f"machine speed: `for _ in range(10_000_000): pass` takes {speed_before:.2f} s")
    if args.rows:
        payload = pickle.loads(args.rows.read_bytes())
        source = f"from {args.rows}"
    else:
        payload = build_synthetic_payload(args.workloads, args.edges, args.seed)
        source = (
            f"computed in memory (no Prometheus), {args.workloads:,} workloads / {args.edges:,} edges, seed {args.seed}"
        )
    counts = {query: len(rows) for query, rows in payload["raw"][WINDOWS[0]].items()}
    print(f"rows {source}; per window of {list(WINDOWS)} s: {counts}")
    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-compare-build-"))
    sides: list[Side] = []
    try:
        payload_path = workdir / "rows.pickle"
        payload_path.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        del payload
        with old_worktree(old_revision, workdir) as old_tree:
            try:
                for name, tree in (("old", old_tree), ("new", ROOT)):
                    sides.append(Side(name, tree, payload_path))
                    sides[-1].wait_ready()  # one at a time: each warm-up run has the machine to itself
                for round_index in range(args.rounds):
                    for side in sides if round_index % 2 == 0 else sides[::-1]:
                        side.run_once()
            finally:
                for side in sides:  # before the old tree goes
                    side.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    speed_after = measure_loop_seconds()

    old, new = sides
    labels = {"old": old_revision, "new": describe_working_tree()}
    print(
        f"\nprocessing of the {len(WINDOWS)} windows, ms (median of {args.rounds} alternating rounds, after a warm-up)"
    )
    print(f"  {'side':<4}  {'wall':>6}  {'CPU':>6}  revision")
    for side in sides:
        print(
            f"  {side.name:<4}  {statistics.median(side.walls) * 1000:6.0f}  {statistics.median(side.cpus) * 1000:6.0f}"
            f"  {labels[side.name]}"
        )
    for side in sides:
        walls = ", ".join(f"{wall * 1000:.0f}" for wall in side.walls)
        cpus = ", ".join(f"{cpu * 1000:.0f}" for cpu in side.cpus)
        print(f"  {side.name} rounds: wall {walls}; CPU {cpus}")
    wall_ratio = statistics.median(new.walls) / statistics.median(old.walls)
    cpu_ratio = statistics.median(new.cpus) / statistics.median(old.cpus)
    print(f"  new / old: wall {wall_ratio:.3f} ({wall_ratio - 1:+.1%}), CPU {cpu_ratio:.3f} ({cpu_ratio - 1:+.1%})")
    print(f"machine speed after the rounds: {speed_after:.2f} s (before: {speed_before:.2f} s)")
    digests = old.digests | new.digests
    if len(old.digests) == 1 and old.digests == new.digests:
        print(f"stored output: the same bytes on both sides, every run (digest {digests.pop()})")
    else:
        print(f"stored output DIFFERS: old {sorted(old.digests)}, new {sorted(new.digests)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
