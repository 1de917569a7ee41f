"""The machine-speed reference every benchmark prints first, so each figure can be read against its run's machine.

Machines of the same type run a fixed pure-Python loop at speeds differing by a factor of two or more, and other
work on a shared machine slows it further; a figure is comparable with another only next to this reference.
"""

from __future__ import annotations

import os
import time

LOOP_STEPS = 10_000_000


def measure_loop_seconds() -> float:
    """Seconds this process takes for ``for _ in range(10_000_000): pass``."""
    started = time.perf_counter()
    for _ in range(LOOP_STEPS):
        pass
    return time.perf_counter() - started


def describe_machine_speed() -> str:
    """One line for the top of a benchmark's output: the loop's time, the load average and the cores."""
    seconds = measure_loop_seconds()
    return (
        f"machine speed: `for _ in range(10_000_000): pass` takes {seconds:.2f} s "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; quote it with every figure of this run)"
    )
