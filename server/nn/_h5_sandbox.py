"""Reading HDF5 in a child process, so that libhdf5 failing on a hostile file costs that process.

libhdf5 is C code parsing bytes that an uploader chose: a crafted file can crash it, make it
allocate without bound or loop, and h5py serializes every call behind one lock per process. So
every function that touches h5py runs in `Sandbox.run`, in a process that reads that one file and
exits: nothing a file did to the library's state can touch the next file. Those processes are
forked by a zygote (`_h5_zygote`: a fresh interpreter, never a fork of the threaded server, that
has imported NumPy, h5py and the Keras reader once), so a file costs a fork, not a Python start.
There is one zygote per server process, like multiprocessing's fork server; every `Sandbox`
forks from it with its own limits. Each child caps its own memory and CPU time; the server
enforces a wall-clock deadline by killing it. What crosses the pipe is in `_h5_wire`: the answer
is never unpickled here, and an answer no reader of ours would send is refused like a crash.

A child that dies by a signal, passes a limit or the deadline is a `ModelFileError` (422, field
``file``); no free reader within the deadline, or none that could be started, is
`ReaderUnavailableError` (503).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from . import _h5_zygote
from ._h5_wire import HEADER_BYTES, READY, receive_answer
from ._keras_errors import ModelFileError, damaged

__all__ = ["DEFAULT_MEMORY_BYTES", "DEFAULT_SECONDS", "ReaderUnavailableError", "Sandbox"]

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_MEMORY_BYTES = 1 << 30
DEFAULT_SECONDS = 30.0
START_SECONDS = 60.0  # the zygote's interpreter start and imports, on a loaded machine


class ReaderUnavailableError(RuntimeError):
    """No reader process could take the file (all busy, or none could start): a 503."""

    retry_after = 5

    def __init__(self, message: str, *, code: str = "busy") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Zygote:
    """The zygote process, seen from the server: `fork` gives a child's pid and its socket."""

    def __init__(self, executable: str) -> None:
        ours, theirs = socket.socketpair()
        # the server's import path, and one BLAS thread: the children multiply nothing
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path)}
        try:
            self.process = subprocess.Popen(
                [executable, "-m", _h5_zygote.__name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # ours alone: the zygote's end closing is how its death shows
        self.control = ours
        self.control.settimeout(START_SECONDS)
        try:
            ready = self.control.recv(len(READY)) == READY
        except OSError:
            ready = False
        if not ready:
            self.stop()
            raise OSError(f"the reader zygote did not start (exit code {self.process.poll()})")
        self.control.settimeout(None)

    def fork(self, memory_bytes: int, cpu_seconds: int) -> tuple[int, Connection]:
        """A new child with these limits, its pid, and the connection it reads and answers on."""
        mine, theirs = socket.socketpair()
        conn = Connection(mine.detach())
        limits = json.dumps({"memory_bytes": memory_bytes, "cpu_seconds": cpu_seconds})
        try:
            socket.send_fds(self.control, [limits.encode()], [theirs.fileno()])
        except OSError:
            conn.close()
            raise
        finally:
            theirs.close()
        try:
            if not conn.poll(START_SECONDS):
                raise OSError("the reader zygote did not fork")
            return int(json.loads(conn.recv_bytes(64))["pid"]), conn
        except (EOFError, OSError, ValueError, KeyError, TypeError) as err:
            conn.close()
            raise OSError(f"the reader zygote did not fork ({err})") from err

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.control.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


# One zygote per server process, like multiprocessing's fork server: every sandbox forks from it,
# each child with its sandbox's limits. Started by the first read, again when it has died.
EXECUTABLE = sys.executable
_zygote: list[_Zygote] = []
_zygote_lock = threading.Lock()


def _fork(memory_bytes: int, cpu_seconds: int) -> tuple[int, Connection]:
    with _zygote_lock:
        for attempt in range(2):
            if not _zygote or not _zygote[0].alive():
                _stop_zygote()
                try:
                    _zygote.append(_Zygote(EXECUTABLE))
                except OSError as err:
                    log.warning("the model reader process could not start: %s", err)
                    break
            try:
                return _zygote[0].fork(memory_bytes, cpu_seconds)
            except OSError as err:
                log.warning("the model reader process could not fork (%s); attempt %d", err,
                            attempt + 1)
                _stop_zygote()
    raise ReaderUnavailableError(
        "no model reader process could be started right now; try again in "
        f"{ReaderUnavailableError.retry_after} s", code="unavailable")


@atexit.register
def _stop_zygote() -> None:
    while _zygote:
        _zygote.pop().stop()


class Sandbox:
    """Runs HDF5-reading functions in limited child processes, ``processes`` at a time.

    Parameters
    ----------
    memory_bytes : int
        Memory a child may take beyond what it holds when forked (its address space is capped).
    seconds : float
        Wall-clock time a call may take in its child; then the child is killed. The child's CPU
        time is capped a second later.
    processes : int
        Children reading at once; a further call waits for one to finish.
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
        self._lock = threading.Lock()
        self._running: set[int] = set()

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
        """Kill every child still reading (their callers get a 422)."""
        with self._lock:
            running = list(self._running)
        for pid in running:  # not yet reaped (the zygote tells its caller when it is)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def _run(self, func: Callable[..., T], args: tuple[Any, ...], what: str) -> T:
        pid, conn = _fork(self.memory_bytes, math.ceil(self.seconds) + 1)
        with self._lock:
            self._running.add(pid)
        deadline = time.monotonic() + self.seconds
        header: dict[str, Any] = {"status": "late"}
        value: Any = None
        try:
            try:
                conn.send(sys.path)
                conn.send((func, args))
                if conn.poll(max(0.0, deadline - time.monotonic())):
                    header, value = receive_answer(conn, self.memory_bytes)
                else:
                    self._kill(pid, conn)
            except (EOFError, OSError, ValueError, KeyError, TypeError, IndexError,
                    RecursionError):  # a reader that died mid-answer, or answered nonsense
                header = self._kill(pid, conn)
        finally:
            conn.close()
            with self._lock:
                self._running.discard(pid)
        try:
            outcome = self._outcome(header, value, what)
        except (KeyError, TypeError, ValueError) as err:  # a header no reader of ours sends
            raise self._died(None, what) from err
        if isinstance(outcome, ModelFileError):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    def _outcome(self, header: dict[str, Any], value: Any, what: str) -> Any:
        """The value of an answer, or the `ModelFileError` it stands for."""
        status = header.get("status")
        if status == "ok":
            return value
        if status == "refused":
            return ModelFileError.from_dict(value)
        if status == "late":
            return self._refusal(what, f"reading it took longer than the {self.seconds:g} s a "
                                       "model file may take")
        if status == "memory":
            return self._refusal(what, "reading it needed more than the "
                                       f"{self.memory_bytes / (1 << 20):.0f} MiB of memory a "
                                       "model file may take")
        if "exit" in header or status == "unreadable":
            return self._died(header.get("exit"), what)
        log.warning("reading %s failed unexpectedly in its reader process: %s\n%s", what, value,
                    header.get("trace", ""))
        return damaged(f"{what} cannot be read ({str(value)[:400]})")

    def _kill(self, pid: int, conn: Connection) -> dict[str, Any]:
        """Kill the child (late, or talking nonsense) and wait for the zygote's news of it."""
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # not yet reaped: the zygote tells us when it is
        try:
            while conn.poll(START_SECONDS):
                news = json.loads(conn.recv_bytes(HEADER_BYTES))
                if isinstance(news, dict) and "exit" in news:
                    return {"status": "unreadable", **news}
        except (EOFError, OSError, ValueError):
            pass
        return {"status": "unreadable"}

    def _died(self, code: Any, what: str) -> ModelFileError:
        if not isinstance(code, int):
            reason = "its reader process stopped without a readable answer"
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
