"""Waits for an observable state. A test never asserts how fast something happened (speed is
for `make bench`): it waits until the state holds, and fails only when the wait times out."""

from __future__ import annotations

import time


def wait_until(predicate, timeout: float, step: float = 0.1, what: str = "condition") -> float:
    """Poll ``predicate()`` until it is true; fails after ``timeout`` seconds. Returns the
    seconds it took, for reports and failure messages, never for an assertion."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(step)
    return time.monotonic() - started
