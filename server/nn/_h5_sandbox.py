"""Reading HDF5 in a child process, so that libhdf5 failing on a hostile file costs that process.

libhdf5 is C code parsing bytes that an uploader chose: a crafted file can crash it, make it
allocate without bound or loop, and h5py serializes every call behind one lock per process. So
every function that touches h5py runs in `Sandbox.run`, in a child process that reads one file and
exits: nothing a file did to the library's state can touch the next file. The child is a fresh
interpreter (``python -m server.nn._h5_sandbox``, never a fork of the threaded server, and it
does not depend on how the server was started) that imports NumPy, h5py and the Keras reader,
caps its own address space and CPU time with `resource`, turns core dumps off, and says it is
ready; the parent enforces a wall-clock deadline by killing it. One child is started ahead of
need, so a file pays a process start only when uploads come faster than a child imports.

The arguments go to the child pickled (the parent is trusted); the answer comes back as JSON and
raw array bytes, never as a pickle, so a child that libhdf5 let a file take over still cannot
make the server run anything. A child that dies by a signal, passes a limit or the deadline is a
`ModelFileError` (422, field ``file``); no free reader within the deadline, or none that could be
started, is `ReaderUnavailableError` (503).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import weakref
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
START_SECONDS = 60.0  # a child's interpreter start and imports, on a loaded machine
# imported by each child before it is ready: the library and the functions that run there
PRELOAD = ("numpy", "h5py", "server.nn.keras_files")
_HEADER_BYTES = 64 << 20
_READY = b"ready"


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
    at what it used so far plus ``cpu_seconds`` (SIGXCPU, then SIGKILL a second later), and core
    dumps (none: a crash leaves no file)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_seconds
    for which, soft, hard in ((resource.RLIMIT_AS, mapped + memory_bytes, mapped + memory_bytes),
                              (resource.RLIMIT_CPU, cpu, cpu + 1),
                              (resource.RLIMIT_CORE, 0, 0)):
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(which, (soft, hard))


def _child(fd: int, memory_bytes: int, cpu_seconds: int) -> None:
    """The child's whole life: imports, limits, ready, one call, its answer."""
    for name in PRELOAD:
        importlib.import_module(name)
    conn = Connection(fd)
    _limit(memory_bytes, cpu_seconds)
    conn.send_bytes(_READY)
    try:
        sys.path[:] = conn.recv()  # the parent's, so that the function imports the same way
        func, args = conn.recv()
    except EOFError:
        return  # a spare the parent no longer needs
    try:
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


class _Reader:
    """One child process, started ahead of its file and used for that file only."""

    def __init__(self, executable: str, memory_bytes: int, cpu_seconds: int) -> None:
        ours, theirs = socket.socketpair()
        # the parent's import path, and one BLAS thread: the child multiplies nothing
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path)}
        try:
            self.process = subprocess.Popen(
                [executable, "-m", __name__, str(theirs.fileno()), str(memory_bytes),
                 str(cpu_seconds)], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                env=env)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # ours alone: the child's end closing is how its death shows
        self.conn = Connection(ours.detach())

    def ready(self, timeout: float) -> bool:
        """Wait until the child has imported and limited itself; False if it died first."""
        try:
            return self.conn.poll(timeout) and self.conn.recv_bytes(len(_READY)) == _READY
        except (EOFError, OSError):
            return False

    def exit_code(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        self.conn.close()
        if self.process.poll() is None:  # late, a spare, or still exiting after its answer
            self.process.kill()
        self.process.wait()


def _stop_all(spare: list[_Reader], running: set[_Reader]) -> None:
    for reader in spare:
        reader.stop()
    for reader in running:
        reader.process.kill()


class Sandbox:
    """Runs HDF5-reading functions in limited child processes, ``processes`` at a time.

    Parameters
    ----------
    memory_bytes : int
        Memory a child may take beyond what it holds when ready (its address space is capped).
    seconds : float
        Wall-clock time a call may take in its child; then the child is killed. The child's CPU
        time is capped a second later.
    processes : int
        Children reading at once; a further call waits for one to finish.
    wait : float, optional
        How long a call waits for a free child before it is a 503 (default ``seconds``: any
        child finishes within that, so only a queue longer than ``processes`` is refused).
    """

    executable = sys.executable

    def __init__(self, *, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 seconds: float = DEFAULT_SECONDS, processes: int = 2,
                 wait: float | None = None) -> None:
        self.memory_bytes = memory_bytes
        self.seconds = seconds
        self.processes = processes
        self.wait = seconds if wait is None else wait
        self._slots = threading.BoundedSemaphore(processes)
        self._lock = threading.Lock()
        self._spare: list[_Reader] = []  # at most one, started when the last one was taken
        self._running: set[_Reader] = set()
        self._finalizer = weakref.finalize(self, _stop_all, self._spare, self._running)

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
        """Stop the spare child and every child still reading (their callers get a 422)."""
        with self._lock:
            spare, running = list(self._spare), list(self._running)
            self._spare.clear()
        for reader in spare:
            reader.stop()
        for reader in running:  # its caller sees it die and cleans up after it
            reader.process.kill()

    def _start(self) -> _Reader:
        try:
            return _Reader(self.executable, self.memory_bytes, math.ceil(self.seconds) + 1)
        except OSError as err:
            log.warning("a model reader process could not start: %s", err)
            raise ReaderUnavailableError(
                "no model reader process could be started right now; try again in "
                f"{ReaderUnavailableError.retry_after} s", code="unavailable") from err

    def _take(self) -> _Reader:
        """The spare child (or a new one when there is none, or it died), and a new spare."""
        with self._lock:
            reader = self._spare.pop() if self._spare else None
            if reader is not None and reader.process.poll() is not None:
                reader.stop()
                reader = None
            reader = reader or self._start()
            self._running.add(reader)
            with contextlib.suppress(ReaderUnavailableError):  # the next call starts its own
                self._spare.append(self._start())
        return reader

    def _run(self, func: Callable[..., T], args: tuple[Any, ...], what: str) -> T:
        reader = self._take()
        header: dict[str, Any] = {"status": "late"}
        value: Any = None
        try:
            if not reader.ready(START_SECONDS):
                log.warning("a model reader process did not start (exit code %s)",
                            reader.exit_code(0))
                raise ReaderUnavailableError(
                    "no model reader process could be started right now; try again in "
                    f"{ReaderUnavailableError.retry_after} s", code="unavailable")
            deadline = time.monotonic() + self.seconds
            try:
                reader.conn.send(sys.path)
                reader.conn.send((func, args))
                if reader.conn.poll(max(0.0, deadline - time.monotonic())):
                    header, value = _receive_answer(reader.conn, self.memory_bytes)
            except (EOFError, OSError, ValueError, KeyError, TypeError) as err:
                raise self._died(reader, what, deadline) from err
        finally:
            reader.stop()
            with self._lock:
                self._running.discard(reader)
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

    def _died(self, reader: _Reader, what: str, deadline: float) -> ModelFileError:
        code = reader.exit_code(max(0.0, deadline - time.monotonic()))
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


if __name__ == "__main__":
    _child(*(int(arg) for arg in sys.argv[1:4]))
