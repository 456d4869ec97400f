"""Running async test code while the browser tests are in the same session.

Playwright's sync API (tests/e2e) keeps an event loop running on the main thread for the whole
pytest session, where `anyio.run` and `asyncio.run` refuse to start; a loop of its own, in a
thread of its own, works whatever ran before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio.from_thread

T = TypeVar("T")


def run_async(func: Callable[[], Awaitable[T]]) -> T:
    """``await func()`` on an event loop in a thread of its own; its result or its error."""
    with anyio.from_thread.start_blocking_portal() as portal:
        return portal.call(func)
