"""Sharing one call's independent chunks between threads (the caller's and kept helpers).

NumPy's copies and the BLAS release the GIL, so chunks of a convolution (row tiles, Winograd
block rows) run side by side on several CPUs; each thread uses its own scratch buffers
(`scratch` is per thread). Methods whose BLAS calls are too small for the BLAS to split them
use this (`winograd4`). Chunks are claimed one at a time, not dealt out in advance: on a
shared machine a helper may start a scheduler slice late.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

MAX_THREADS = 4
"""Threads one call may use at most (measured on 2 CPUs only)."""


def _threads() -> int:
    """As many as NumPy's BLAS may use (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``), else the
    CPUs, at most `MAX_THREADS`."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return min(int(value), MAX_THREADS)
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


THREADS = _threads()
"""Threads sharing the chunks of one call (the caller's and ``THREADS - 1`` kept helpers)."""

_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The helper threads, kept for the next call (so are their scratch buffers)."""
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max(1, MAX_THREADS - 1), thread_name_prefix="svertka-conv")
        return _POOL


class _Claims:
    """The chunks of one call, handed out one at a time to whichever thread asks first."""

    def __init__(self, chunks: Sequence[T]) -> None:
        self._chunks = list(chunks)
        self._next = 0
        self._lock = threading.Lock()

    def __iter__(self) -> _Claims:
        return self

    def __next__(self) -> T:
        with self._lock:
            if self._next >= len(self._chunks):
                raise StopIteration
            self._next += 1
            return self._chunks[self._next - 1]


def share(
    work: Callable[[Iterable[T]], Any], chunks: Sequence[T], threads: int | None = None
) -> None:
    """Run ``work`` on the caller's thread and up to ``threads - 1`` helpers at once, each given
    the same iterable of ``chunks``: every chunk goes to whichever thread asks first, so a helper
    that starts late (its CPU busy elsewhere) only does less, and one that has not started when
    the chunks run out is cancelled instead of waited for. ``work`` iterates at most once and
    keeps no order. Exceptions propagate."""
    count = min(THREADS if threads is None else threads, len(chunks))
    if count <= 1:
        work(list(chunks))
        return
    claims = _Claims(chunks)
    jobs = [_pool().submit(work, claims) for _ in range(1, count)]
    try:
        work(claims)
    finally:
        for job in jobs:
            if not job.cancel():
                job.result()
