"""The reader processes' side: a zygote that imports once and forks one child per file.

Run as ``python -m server.nn._h5_zygote FD`` by `_h5_sandbox`, once per server process: a fresh
interpreter, never a fork of the threaded server. It imports NumPy, h5py and the Keras reader,
says it is ready on the socket ``FD``, then forks a child for every socket the server sends it
there, with that file's limits beside it. The child caps its own address space and CPU time and
turns core dumps off, makes one call and answers (`_h5_wire`); the zygote tells the server the
child's pid, reaps it, and tells how it ended. The zygote itself never reads a file.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import selectors
import signal
import socket
import sys
import traceback
from multiprocessing.connection import Connection

from ._h5_wire import READY, note, send_answer
from ._keras_errors import ModelFileError

__all__ = ["PRELOAD", "main"]

# imported once by the zygote, so that every child has them: the library and what runs there
PRELOAD = ("numpy", "h5py", "server.nn.keras_files")


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
        send_answer(conn, "ok", func(*args))
    except ModelFileError as error:
        send_answer(conn, "refused", error.to_dict())
    except MemoryError:
        send_answer(conn, "memory")
    except Exception as error:  # noqa: BLE001 - any surprise is reported, never left to kill
        send_answer(conn, "failed", f"{type(error).__name__}: {str(error)[:300]}",
                    trace=traceback.format_exc(limit=20))


def main(fd: int) -> None:
    """Fork a child per socket the server sends, with the limits sent beside it; tell each
    socket its child's pid, then its exit code. Ends when the server closes the control socket
    (or dies)."""
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the server's to handle
    control = socket.socket(fileno=fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the selector
    children: dict[int, socket.socket] = {}
    control.sendall(READY)
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        selector.register(wake_r, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is control:
                    message, fds, _, _ = socket.recv_fds(control, 256, 1)
                    if not message or not fds:
                        return  # the parent is gone; running children finish under their limits
                    sock = socket.socket(fileno=fds[0])
                    limits = json.loads(message)
                    pid = os.fork()
                    if pid == 0:  # the child: nothing of the zygote's but its own socket
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        for other in (control.fileno(), wake_r, wake_w, selector.fileno(),
                                      *(c.fileno() for c in children.values())):
                            os.close(other)
                        code = 1
                        try:
                            _read_one(Connection(sock.detach()), int(limits["memory_bytes"]),
                                      int(limits["cpu_seconds"]))
                            code = 0
                        finally:
                            os._exit(code)
                    note(sock, {"pid": pid})
                    children[pid] = sock
                else:
                    os.read(wake_r, 4096)
                    while children:
                        try:
                            pid, status = os.waitpid(-1, os.WNOHANG)
                        except ChildProcessError:
                            break
                        if pid == 0:
                            break
                        if (sock := children.pop(pid, None)) is not None:
                            note(sock, {"exit": os.waitstatus_to_exitcode(status)})
                            sock.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
