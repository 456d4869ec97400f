"""Reading HDF5 in a child process, so that libhdf5 failing on a hostile file costs that process.

libhdf5 is C code parsing bytes that an uploader chose: a crafted file can crash it, make it
allocate without bound or loop, and h5py serializes every call behind one lock per process. So
every function that touches h5py runs in `Sandbox.run`: in a fresh process forked from a fork
server that has already imported NumPy, h5py and the Keras reader (so a file costs a fork, not a
Python start), its address space and CPU time capped with `resource` and core dumps off, and a
wall-clock deadline that the parent enforces by killing it. A process per file rather than a kept
one: nothing a file did to the library's state can touch the next file.

The arguments go to the child pickled (the parent is trusted); the answer comes back as JSON and
raw array bytes, never as a pickle, so a child that libhdf5 let a file take over still cannot
make the server run anything. A child that dies by a signal, passes a limit or the deadline is a
`ModelFileError` (422, field ``file``); no free reader within the deadline, or none that could be
started, is `ReaderUnavailableError` (503).
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import numpy as np

from ._keras_errors import ModelFileError, damaged

__all__ = ["DEFAULT_MEMORY_BYTES", "DEFAULT_SECONDS", "ReaderUnavailableError", "Sandbox"]

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_MEMORY_BYTES = 1 << 30
DEFAULT_SECONDS = 30.0
# imported once by the fork server, not by every child: the library and the functions that run
PRELOAD = ["__main__", "numpy", "h5py", "server.nn.keras_files"]
_HEADER_BYTES = 64 << 20


class ReaderUnavailableError(RuntimeError):
    """No reader process could take the file (all busy, or none could start): a 503."""

    retry_after = 5

    def __init__(self, message: str, *, code: str = "busy") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ---- the answer's encoding: JSON with tagged containers, arrays as raw bytes after it ----

def _pack(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays.append(value if value.flags.c_contiguous else value.copy(order="C"))
        return {"array": len(arrays) - 1}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [_pack(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[str(k), _pack(v, arrays)] for k, v in value.items()]}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"a reader answered a {type(value).__name__}, which cannot cross the pipe")


def _unpack(value: Any, arrays: list[np.ndarray]) -> Any:
    if not isinstance(value, dict):
        return value
    (tag, items), = value.items()
    if tag == "array":
        return arrays[items]
    if tag == "tuple":
        return tuple(_unpack(v, arrays) for v in items)
    if tag == "list":
        return [_unpack(v, arrays) for v in items]
    return {k: _unpack(v, arrays) for k, v in items}


def _send_answer(conn: Connection, status: str, value: Any = None, **extra: Any) -> None:
    arrays: list[np.ndarray] = []
    packed = _pack(value, arrays)
    shapes = [[a.dtype.str, list(a.shape)] for a in arrays]
    conn.send_bytes(json.dumps({"status": status, "value": packed, "arrays": shapes,
                                **extra}).encode())
    for array in arrays:
        conn.send_bytes(array.reshape(-1).view(np.uint8))


def _receive_answer(conn: Connection, max_bytes: int) -> tuple[dict[str, Any], Any]:
    """The header and the value, each array checked against its declared size and ``max_bytes``
    (a child can hold no more than its memory limit, whatever its header says)."""
    header = json.loads(conn.recv_bytes(_HEADER_BYTES))
    arrays = []
    for dtype_name, shape in header["arrays"]:
        dtype = np.dtype(str(dtype_name))
        if dtype.kind not in "biuf" or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise ValueError(f"an array of {dtype} {shape} in the reader's answer")
        size = math.prod(shape) * dtype.itemsize
        max_bytes -= size
        if max_bytes < 0:
            raise ValueError("the reader's answer is larger than its memory limit")
        buffer = bytearray(size)
        if size and conn.recv_bytes_into(buffer) != size:
            raise ValueError("an array in the reader's answer is shorter than declared")
        if not size:
            conn.recv_bytes()
        arrays.append(np.frombuffer(buffer, dtype).reshape(tuple(shape)))
    return header, _unpack(header["value"], arrays)


# ---- the child ----

def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    """Cap the address space at what the process holds now plus ``memory_bytes``, the CPU time
    (SIGXCPU, then SIGKILL a second later), and core dumps (none: a crash leaves no file)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        now = int(statm.read().split()[0]) * resource.getpagesize()
    for which, soft, hard in ((resource.RLIMIT_AS, now + memory_bytes, now + memory_bytes),
                              (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
                              (resource.RLIMIT_CORE, 0, 0)):
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(which, (soft, hard))


def _child(conn: Connection, memory_bytes: int, cpu_seconds: int) -> None:
    _limit(memory_bytes, cpu_seconds)
    try:
        func, args = conn.recv()
        _send_answer(conn, "ok", func(*args))
    except ModelFileError as error:
        _send_answer(conn, "refused", error.to_dict())
    except MemoryError:
        _send_answer(conn, "memory")
    except Exception as error:  # noqa: BLE001 - any surprise is reported, never left to kill
        _send_answer(conn, "failed", f"{type(error).__name__}: {str(error)[:300]}",
                     trace=traceback.format_exc(limit=20))


# ---- the parent ----

def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Sandbox:
    """Runs HDF5-reading functions in limited child processes, ``processes`` at a time.

    Parameters
    ----------
    memory_bytes : int
        Memory a child may take beyond what it holds when it starts (its address space is capped).
    seconds : float
        Wall-clock time a child may take; then it is killed. Its CPU time is capped a second later.
    processes : int
        Children at once; a further call waits for one to finish.
    wait : float, optional
        How long a call waits for a free child before it is a 503 (default ``seconds``: any
        child finishes within that, so only a queue longer than ``processes`` is refused).
    """

    def __init__(self, *, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 seconds: float = DEFAULT_SECONDS, processes: int = 2,
                 wait: float | None = None) -> None:
        self.memory_bytes = memory_bytes
        self.seconds = seconds
        self.processes = processes
        self.wait = seconds if wait is None else wait
        self._slots = threading.BoundedSemaphore(processes)
        self._running: set[multiprocessing.process.BaseProcess] = set()
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("forkserver")
        # a no-op once the fork server runs: it is one per process, started by the first reader
        self._context.set_forkserver_preload(PRELOAD)

    @property
    def running(self) -> int:
        """Children reading a file right now."""
        with self._lock:
            return len(self._running)

    def run(self, func: Callable[..., T], /, *args: Any, what: str = "the HDF5 data") -> T:
        """``func(*args)`` in a child process; ``what`` names the data in error messages.

        ``func`` must be importable by name (the child imports it) and answer JSON-able values,
        tuples and NumPy arrays. Its `ModelFileError` is raised here as it was raised there.
        """
        if not self._slots.acquire(timeout=self.wait):
            raise ReaderUnavailableError(
                f"every model reader is busy ({self.processes} files are being read); try "
                f"again in {ReaderUnavailableError.retry_after} s")
        try:
            return self._run(func, args, what)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Kill every child still reading (their callers get a `ModelFileError`)."""
        with self._lock:
            running = list(self._running)
        for process in running:
            process.kill()

    def _start(self) -> tuple[multiprocessing.process.BaseProcess, Connection]:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_child, args=(theirs, self.memory_bytes, math.ceil(self.seconds) + 1),
            name="svertka-h5-reader", daemon=True)
        try:
            process.start()
        except OSError as err:
            ours.close()
            log.warning("a model reader process could not start: %s", err)
            raise ReaderUnavailableError(
                "no model reader process could be started right now; try again in "
                f"{ReaderUnavailableError.retry_after} s", code="unavailable") from err
        finally:
            theirs.close()  # ours alone: the child's end closing is how its death shows
        with self._lock:
            self._running.add(process)
        return process, ours

    def _run(self, func: Callable[..., T], args: tuple[Any, ...], what: str) -> T:
        deadline = time.monotonic() + self.seconds
        process, conn = self._start()
        header: dict[str, Any] = {"status": "late"}
        value: Any = None
        try:
            try:
                conn.send((func, args))
                if conn.poll(max(0.0, deadline - time.monotonic())):
                    header, value = _receive_answer(conn, self.memory_bytes)
            except (EOFError, OSError, ValueError, KeyError, TypeError) as err:
                raise self._died(process, what, deadline) from err
        finally:
            conn.close()
            if process.is_alive():  # late, or still exiting after its answer
                process.kill()
            process.join()
            with self._lock:
                self._running.discard(process)
        status = header.get("status")
        if status == "late":
            raise self._refusal(what, f"reading it took longer than the {self.seconds:g} s a "
                                      "model file may take")
        if status == "ok":
            return value  # type: ignore[no-any-return]
        if status == "refused":
            raise ModelFileError.from_dict(value)
        if status == "memory":
            raise self._refusal(what, "reading it needed more than the "
                                      f"{self.memory_bytes / (1 << 20):.0f} MiB of memory a "
                                      "model file may take")
        log.warning("reading %s failed unexpectedly in its reader process: %s\n%s", what, value,
                    header.get("trace", ""))
        raise damaged(f"{what} cannot be read ({value})")

    def _died(self, process: multiprocessing.process.BaseProcess, what: str,
              deadline: float) -> ModelFileError:
        process.join(max(0.0, deadline - time.monotonic()))
        code = process.exitcode
        if code is None:
            reason = "its reader answered something unreadable"
        elif code == -signal.SIGXCPU:
            reason = f"reading it used more than the {self.seconds:g} s a model file may take"
        elif code < 0:
            reason = (f"it crashed the HDF5 library (its reader process died of "
                      f"{_signal_name(-code)})")
        else:
            reason = f"its reader process stopped (exit code {code})"
        log.warning("reading %s in a child process failed: %s", what, reason)
        return self._refusal(what, reason)

    @staticmethod
    def _refusal(what: str, reason: str) -> ModelFileError:
        return damaged(f"{what} could not be read safely: {reason}; the file is damaged or "
                       "crafted to harm the reader (it was read apart from the server, which is "
                       "unaffected)")
