"""Per-thread scratch buffers reused across calls.

Fresh memory is expensive on the machines Svertka runs on: every new page faults on first touch
and glibc hands large blocks back to the OS on free, so a tile buffer allocated per call costs
about as much as the arithmetic done in it. Tiles therefore live in per-thread buffers that grow
to the largest size asked for and are kept between calls, at most `MAX_CACHED` bytes per thread
in all (a buffer that would pass that is allocated for the call only).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

MAX_CACHED = 32 * 2**20
"""Bytes of scratch one thread keeps between calls."""

_local = threading.local()


def scratch(name: str, count: int, dtype: np.dtype[Any]) -> np.ndarray:
    """A 1-D array of ``count`` elements of ``dtype`` (uninitialised; the caller's only user)."""
    nbytes = count * dtype.itemsize
    cache: dict[str, np.ndarray] = getattr(_local, "buffers", None) or {}
    _local.buffers = cache
    buf = cache.get(name)
    if buf is not None and buf.nbytes >= nbytes:
        return buf[:nbytes].view(dtype)
    others = sum(b.nbytes for key, b in cache.items() if key != name)
    if others + nbytes > MAX_CACHED:
        return np.empty(count, dtype)
    buf = np.empty(max(nbytes, 1), np.uint8)
    cache[name] = buf
    return buf[:nbytes].view(dtype)


def clear() -> None:
    """Drop this thread's buffers (tests and memory measurements start from nothing)."""
    _local.buffers = {}


def cached_bytes() -> int:
    """Bytes held by this thread's buffers."""
    cache: dict[str, np.ndarray] = getattr(_local, "buffers", None) or {}
    return sum(b.nbytes for b in cache.values())
