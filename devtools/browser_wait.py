"""Waiting in a Playwright page for a JavaScript condition, under mesh-ui's Content-Security-Policy.

Playwright's ``page.wait_for_function`` re-evaluates its predicate with ``eval`` inside the page, which a policy
without ``'unsafe-eval'`` blocks as soon as the first check is false. ``page.evaluate`` goes through the DevTools
protocol, which the policy does not govern, so this polls with it from Python instead.
"""

from __future__ import annotations

import time
from typing import Any

POLL_SECONDS = 0.05


def wait_for_js(page: Any, expression: str, arg: Any = None, timeout: float = 30.0) -> Any:
    """Evaluate ``expression`` (or call it, when it is a function, with ``arg``) until it is truthy; return it.

    Raises ``TimeoutError`` naming the expression after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = page.evaluate(expression, arg)
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting in the page for: {expression.strip()[:120]}")
        time.sleep(POLL_SECONDS)
