"""Reading HDF5 in a child process, so that libhdf5 failing on a hostile file costs that process.

libhdf5 is C code parsing bytes that an uploader chose: a crafted file can crash it, make it
allocate without bound or loop, and h5py serializes every call behind one lock per process. So
every function that touches h5py runs in `Sandbox.run`, in a process that reads that one file and
exits: nothing a file did to the library's state can touch the next file. Those processes are
forked by a zygote, a fresh interpreter (``python -m server.nn._h5_sandbox``, never a fork of the
threaded server, whatever started the server) that has imported NumPy, h5py and the Keras reader
once, so a file costs a fork, not a Python start. Each child caps its own address space and CPU
time with `resource` and turns core dumps off; the parent enforces a wall-clock deadline by
killing it; the zygote reaps it and reports how it ended.

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
import selectors
import signal
import socket
import struct
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
START_SECONDS = 60.0  # the zygote's interpreter start and imports, on a loaded machine
# imported by the zygote, so that its children have them: the library and what runs there
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
    (a child can hold no more than its memory limit, whatever its header says). A header that
    is the zygote's news of the child's exit (``{"exit": code}``) comes back as it is."""
    header = json.loads(conn.recv_bytes(_HEADER_BYTES))
    if "exit" in header:
        return header, None
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


# ---- the zygote and its children ----

def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    """Cap the address space at what the process holds now plus ``memory_bytes``, the CPU time
    (SIGXCPU, then SIGKILL a second later; a fork starts at none used), and core dumps (none:
    a crash leaves no file)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    for which, soft, hard in ((resource.RLIMIT_AS, mapped + memory_bytes, mapped + memory_bytes),
                              (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
                              (resource.RLIMIT_CORE, 0, 0)):
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(which, (soft, hard))


def _read_one(conn: Connection, memory_bytes: int, cpu_seconds: int) -> None:
    """A child's whole life: limits, one call, its answer."""
    _limit(memory_bytes, cpu_seconds)
    try:
        sys.path[:] = conn.recv()  # the parent's, so that the function imports the same way
        func, args = conn.recv()
        _send_answer(conn, "ok", func(*args))
    except ModelFileError as error:
        _send_answer(conn, "refused", error.to_dict())
    except MemoryError:
        _send_answer(conn, "memory")
    except Exception as error:  # noqa: BLE001 - any surprise is reported, never left to kill
        _send_answer(conn, "failed", f"{type(error).__name__}: {str(error)[:300]}",
                     trace=traceback.format_exc(limit=20))


def _note(sock: socket.socket, news: dict[str, int]) -> None:
    """One message as `Connection.recv_bytes` reads it (a 4-byte length, then the bytes), sent
    without waiting: a parent that stopped reading must not block the zygote."""
    data = json.dumps(news).encode()
    with contextlib.suppress(OSError):
        sock.send(struct.pack("!i", len(data)) + data, socket.MSG_DONTWAIT)


def _zygote(fd: int, memory_bytes: int, cpu_seconds: int) -> None:
    """Fork a child per socket the parent sends; tell each socket its child's pid, then its
    exit code. Ends when the parent closes the control socket (or dies)."""
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the server's to handle
    control = socket.socket(fileno=fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the selector
    children: dict[int, socket.socket] = {}
    control.sendall(_READY)
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        selector.register(wake_r, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is control:
                    message, fds, _, _ = socket.recv_fds(control, 16, 1)
                    if not message or not fds:
                        return  # the parent is gone; running children finish under their limits
                    sock = socket.socket(fileno=fds[0])
                    pid = os.fork()
                    if pid == 0:  # the child: nothing of the zygote's but its own socket
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        for other in (control.fileno(), wake_r, wake_w, selector.fileno(),
                                      *(c.fileno() for c in children.values())):
                            os.close(other)
                        code = 1
                        try:
                            _read_one(Connection(sock.detach()), memory_bytes, cpu_seconds)
                            code = 0
                        finally:
                            os._exit(code)
                    _note(sock, {"pid": pid})
                    children[pid] = sock
                else:
                    os.read(wake_r, 4096)
                    while children:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                        if pid == 0:
                            break
                        sock = children.pop(pid)
                        _note(sock, {"exit": os.waitstatus_to_exitcode(status)})
                        sock.close()


# ---- the parent ----

def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Zygote:
    """The zygote process, seen from the server: `fork` gives a child's pid and its socket."""

    def __init__(self, executable: str, memory_bytes: int, cpu_seconds: int) -> None:
        ours, theirs = socket.socketpair()
        # the server's import path, and one BLAS thread: the children multiply nothing
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
            theirs.close()  # ours alone: the zygote's end closing is how its death shows
        self.control = ours
        self._lock = threading.Lock()
        self.control.settimeout(START_SECONDS)
        try:
            ready = self.control.recv(len(_READY)) == _READY
        except OSError:
            ready = False
        if not ready:
            self.stop()
            raise OSError(f"the reader zygote did not start (exit code {self.process.poll()})")
        self.control.settimeout(None)

    def fork(self) -> tuple[int, Connection]:
        """A new child reading from the returned connection, and its pid."""
        mine, theirs = socket.socketpair()
        conn = Connection(mine.detach())
        try:
            with self._lock:
                socket.send_fds(self.control, [b"f"], [theirs.fileno()])
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


def _stop(zygote: list[_Zygote], running: dict[int, Connection]) -> None:
    for pid in running:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for z in zygote:
        z.stop()


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
        self._zygote: list[_Zygote] = []  # started by the first call, again if it dies
        self._running: dict[int, Connection] = {}
        self._finalizer = weakref.finalize(self, _stop, self._zygote, self._running)

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
        """Stop the zygote and kill every child still reading (their callers get a 422)."""
        with self._lock:
            zygote, running = list(self._zygote), list(self._running)
            self._zygote.clear()
        for pid in running:  # its caller sees it die and cleans up after it
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for z in zygote:
            z.stop()

    def _fork(self) -> tuple[int, Connection]:
        """A child from the zygote, which is started (again) when there is none (alive)."""
        with self._lock:
            for attempt in range(2):
                if not self._zygote or not self._zygote[0].alive():
                    for old in self._zygote:
                        old.stop()
                    self._zygote.clear()
                    try:
                        self._zygote.append(_Zygote(self.executable, self.memory_bytes,
                                                    math.ceil(self.seconds) + 1))
                    except OSError as err:
                        log.warning("the model reader process could not start: %s", err)
                        break
                try:
                    pid, conn = self._zygote[0].fork()
                except OSError as err:
                    log.warning("the model reader process could not fork (%s); attempt %d",
                                err, attempt + 1)
                    self._zygote.pop().stop()
                    continue
                self._running[pid] = conn
                return pid, conn
        raise ReaderUnavailableError(
            "no model reader process could be started right now; try again in "
            f"{ReaderUnavailableError.retry_after} s", code="unavailable")

    def _run(self, func: Callable[..., T], args: tuple[Any, ...], what: str) -> T:
        pid, conn = self._fork()
        deadline = time.monotonic() + self.seconds
        header: dict[str, Any] = {"status": "late"}
        value: Any = None
        try:
            try:
                conn.send(sys.path)
                conn.send((func, args))
                if conn.poll(max(0.0, deadline - time.monotonic())):
                    header, value = _receive_answer(conn, self.memory_bytes)
                else:
                    self._kill(pid, conn)
            except (EOFError, OSError, ValueError, KeyError, TypeError):
                header = self._kill(pid, conn)
        finally:
            conn.close()
            with self._lock:
                self._running.pop(pid, None)
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
        if "exit" in header or status == "unreadable":
            raise self._died(header.get("exit"), what)
        log.warning("reading %s failed unexpectedly in its reader process: %s\n%s", what, value,
                    header.get("trace", ""))
        raise damaged(f"{what} cannot be read ({value})")

    def _kill(self, pid: int, conn: Connection) -> dict[str, Any]:
        """Kill the child (late, or talking nonsense) and wait for the zygote's news of it."""
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # not yet reaped: the zygote tells us when it is
        try:
            while conn.poll(START_SECONDS):
                news = json.loads(conn.recv_bytes(_HEADER_BYTES))
                if isinstance(news, dict) and "exit" in news:
                    return {"status": "unreadable", **news}
        except (EOFError, OSError, ValueError):
            pass
        return {"status": "unreadable"}

    def _died(self, code: int | None, what: str) -> ModelFileError:
        if code is None:
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


if __name__ == "__main__":
    _zygote(*(int(arg) for arg in sys.argv[1:4]))
