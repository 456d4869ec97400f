"""Sharing one call's independent chunks between threads (the caller's and kept helpers).

NumPy's copies and the BLAS release the GIL, so chunks of a convolution (row tiles, Winograd
block rows) run side by side on several CPUs; each thread uses its own scratch buffers
(`scratch` is per thread). Methods whose BLAS calls are too small for the BLAS to split them
use this (`winograd4`, `direct`'s kernel-row path).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
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


def share(work: Callable[[list[T]], Any], chunks: Sequence[T], threads: int | None = None) -> None:
    """Call ``work(part)`` on interleaved parts of ``chunks``, one part per thread; the caller's
    thread takes the first part. Exceptions propagate."""
    count = min(THREADS if threads is None else threads, len(chunks))
    if count <= 1:
        work(list(chunks))
        return
    jobs = [_pool().submit(work, list(chunks[i::count])) for i in range(1, count)]
    try:
        work(list(chunks[0::count]))
    finally:
        for job in jobs:
            job.result()
