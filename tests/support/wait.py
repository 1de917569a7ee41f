"""Wait for a condition with a deadline, instead of sleeping a fixed time and hoping it is enough."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.05) -> T:
    """Call ``condition`` until it returns something truthy and return that; fail naming ``what`` at the deadline.

    The deadline is generous on purpose: on a loaded machine a slow pass costs nothing, a fast one returns at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting until {what}")
        time.sleep(interval)
