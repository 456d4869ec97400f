"""``Server-Timing`` headers: how long the app spent on a request, visible in browser dev tools.

`ServerTiming` (the outermost middleware) adds ``total;dur=<ms>``: from the moment the request
reaches the app to the moment its response starts, so it covers routing, body parsing and
validation, waiting for the CPU limiter, the computation and encoding the answer, but not the
network. Routes may start the header with their own stages (`timing_header`), e.g.
``conv;dur=8.1, png;dur=6.0``, and the middleware appends ``total`` to it.

It also names the process that answered (``X-Svertka-Worker: <id>``): with ``svertka serve
--workers N`` that is how an operator (and a test) tells the workers apart. The name is random,
made once per process (again in a forked child), never the pid: a pid tells a client how busy
the host is and helps aim at it, and an opaque name tells workers apart just as well.
"""

from __future__ import annotations

import os
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "WORKER_HEADER", "ServerTiming", "timing_header", "worker_id"]

HEADER = "Server-Timing"
_KEY = HEADER.lower().encode("latin-1")
WORKER_HEADER = "X-Svertka-Worker"
_WORKER_KEY = WORKER_HEADER.lower().encode("latin-1")
_worker = [secrets.token_hex(8)]


def _rename_worker() -> None:
    _worker[0] = secrets.token_hex(8)


if hasattr(os, "register_at_fork"):  # a forked worker must not answer with its parent's name
    os.register_at_fork(after_in_child=_rename_worker)


def worker_id() -> str:
    """This process's name in ``X-Svertka-Worker``: 16 random hex digits, not the pid."""
    return _worker[0]


def timing_header(**stages: float) -> dict[str, str]:
    """``{"Server-Timing": "conv;dur=8.123, png;dur=6.000"}`` from stage durations in ms."""
    return {HEADER: ", ".join(f"{name};dur={ms:.3f}" for name, ms in stages.items())}


class ServerTiming:
    """Append ``total;dur=<ms>`` to (or set) the ``Server-Timing`` header of every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                metric = f"total;dur={(time.perf_counter() - start) * 1000.0:.3f}".encode()
                headers = list(message.get("headers", ()))
                for i, (key, value) in enumerate(headers):
                    if key.lower() == _KEY:
                        headers[i] = (key, value + b", " + metric)
                        break
                else:
                    headers.append((_KEY, metric))
                headers.append((_WORKER_KEY, _worker[0].encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)
