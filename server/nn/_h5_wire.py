"""What crosses the pipe between the server and an HDF5 reader process, in both directions.

The server sends its ``sys.path`` and then the call, pickled (the server is trusted). The reader
answers with one JSON header, ``{"status", "value", "arrays", ...}``, in which lists, tuples and
dicts are tagged (``{"tuple": [...]}``) so that they come back as they left, and arrays are
indices into the raw buffers that follow it, one message each. Nothing the reader sends is ever
unpickled: a reader that a file took over can send wrong numbers, never code. The zygote adds
its own news on the same socket (``{"pid": n}`` first, ``{"exit": code}`` when the reader is
gone), so an answer that never comes still ends with how the reader ended.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import struct
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

__all__ = ["HEADER_BYTES", "READY", "note", "receive_answer", "send_answer"]

HEADER_BYTES = 64 << 20
READY = b"ready"


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


def send_answer(conn: Connection, status: str, value: Any = None, **extra: Any) -> None:
    """The reader's answer: ``status`` (ok, refused, memory, failed), ``value``, and ``extra``
    header fields."""
    arrays: list[np.ndarray] = []
    packed = _pack(value, arrays)
    shapes = [[a.dtype.str, list(a.shape)] for a in arrays]
    conn.send_bytes(json.dumps({"status": status, "value": packed, "arrays": shapes,
                                **extra}).encode())
    for array in arrays:
        conn.send_bytes(array.reshape(-1).view(np.uint8))


def receive_answer(conn: Connection, max_bytes: int) -> tuple[dict[str, Any], Any]:
    """The header and the value, each array checked against its declared size and ``max_bytes``
    (a child can hold no more than its memory limit, whatever its header says). A header that
    is the zygote's news of the child's exit (``{"exit": code}``) comes back as it is."""
    header = json.loads(conn.recv_bytes(HEADER_BYTES))
    if not isinstance(header, dict):
        raise ValueError("the reader's answer has no header")
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


def note(sock: socket.socket, news: dict[str, int]) -> None:
    """One message as `Connection.recv_bytes` reads it (a 4-byte length, then the bytes), sent
    without waiting: a parent that stopped reading must not block the zygote."""
    data = json.dumps(news).encode()
    with contextlib.suppress(OSError):
        sock.send(struct.pack("!i", len(data)) + data, socket.MSG_DONTWAIT)
