"""What the reader tests run in the reader's child process instead of the real HDF5 readers.

These live among the tests and reach a child only through a test's own `Sandbox.run` call or a
test's monkeypatch: the functions an upload runs are chosen by `server.nn.keras_files`' code,
never by anything the upload sends.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import struct
import threading
from pathlib import Path
from typing import Any

import numpy as np

from server.nn._keras_errors import layer_error


def echo(value: Any) -> Any:
    return value


def segfault(*args: Any) -> None:
    """What libhdf5 does when a crafted file sends it past the end of a buffer."""
    os.kill(os.getpid(), signal.SIGSEGV)


def allocate(*args: Any) -> Any:
    """A blow-up: 4 GiB at once, more than any limit the tests set (calloc'd: nothing is
    touched, so even without a limit this would not fill the machine's memory)."""
    return np.zeros(4 << 30, np.uint8)


def allocate_and_count(size: int) -> int:
    """``size`` bytes allocated at once (calloc'd, untouched): fine under a large enough limit."""
    return int(np.zeros(size, np.uint8).size)


def hang(*args: Any) -> None:
    """A loop in the library: never answers (after touching ``args[0]`` when it is a path)."""
    if args and isinstance(args[0], Path):
        args[0].touch()
    threading.Event().wait()


def spin_past_cpu_time(*args: Any) -> None:
    """A loop that burns CPU under a one-second CPU limit of its own (the deadline is longer)."""
    resource.setrlimit(resource.RLIMIT_CPU, (1, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    while True:
        pass


def answer_nonsense(header: bytes) -> None:
    """What a reader that a file took over could do: write its own header on its socket (the one
    socket the child holds) and leave."""
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.write(int(fd), struct.pack("!i", len(header)) + header)
    os._exit(0)


def refuse(*args: Any) -> None:
    raise layer_error(2, "conv2d_1", "Conv2D", "has shape [1] in the file",
                      accepted="a file saved by Keras", code="model_file")


def surprise(*args: Any) -> None:
    raise LookupError("nothing the reader expected")


def exit_quietly(*args: Any) -> None:
    os._exit(3)
