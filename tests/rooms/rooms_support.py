"""Real servers for the room tests: Debian's redis-server and uvicorn processes, and a small
WebSocket client whose reads wait for a message (bounded by a deadline, never a fixed sleep)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from event_loop import run_async
from live_server import listens
from websockets.asyncio.client import ClientConnection, connect

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0  # seconds: a bound on waiting for a condition, not a pause


_opened: list[Client] = []


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run one test's coroutine on a fresh event loop; close every client it opened."""

    async def main() -> Any:
        try:
            return await coro
        finally:
            while _opened:
                await _opened.pop().ws.close()

    return run_async(main)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# A free port is chosen before the server binds it: another process (a pytest-xdist worker's
# server, a client's outgoing connection) may take it in between. Our server then exits, and
# another one may answer on that port: so a server counts as up only when our process holds the
# listening socket (live_server.listens), and one that exits early is started again on another
# free port.
ATTEMPTS = 5


def _redis_pid(port: int) -> int | None:
    import redis

    try:
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=1) as client:
            return int(client.info("server")["process_id"])
    except redis.RedisError:
        return None


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A throw-away redis-server on a free loopback port, no persistence."""
    for _ in range(ATTEMPTS):
        port = free_port()
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up(proc: subprocess.Popen[bytes] = proc, port: int = port) -> bool:
            return proc.poll() is not None or _redis_pid(port) == proc.pid

        wait_for(up, "redis-server to listen")
        if proc.poll() is None:
            return proc, f"redis://127.0.0.1:{port}"
    raise RuntimeError(f"redis-server exited with {proc.returncode}, {ATTEMPTS} times")


def start_app(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`svertka`'s app under uvicorn in its own process (a worker), on a free port."""
    for _ in range(ATTEMPTS):
        port = free_port()
        full_env = {**os.environ, "SVERTKA_DATA_DIR": str(data_dir), **env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.web.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--ws", "websockets-sansio",
             "--log-level", "warning"],
            cwd=ROOT, env=full_env)

        def up(proc: subprocess.Popen[bytes] = proc, port: int = port) -> bool:
            if proc.poll() is not None:
                return True
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
            except httpx.HTTPError:
                return False
            return answer.status_code == 200 and listens(proc.pid, port)  # ours answered

        wait_for(up, "the app to answer /api/health", timeout=60)
        if proc.poll() is None:
            return proc, f"http://127.0.0.1:{port}"
    raise RuntimeError(f"uvicorn exited with {proc.returncode}, {ATTEMPTS} times")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Servers:
    """Where teachers and students connect: the same worker in memory, two workers on Redis."""

    backend: str
    teacher: str
    student: str
    limits: dict[str, float] = field(default_factory=dict)

    def create_room(self, base: str | None = None) -> tuple[str, str]:
        r = httpx.post(f"{base or self.teacher}/api/rooms", timeout=10)
        assert r.status_code == 201, r.text
        body = r.json()
        return body["room"], body["teacher_token"]


def ws_url(base: str, room: str, **query: str) -> str:
    url = base.replace("http://", "ws://") + f"/api/rooms/{room}/ws"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


class Client:
    """One WebSocket in a room; `recv` waits for the next JSON message."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base: str, room: str, **query: str) -> Client:
        ws = await connect(ws_url(base, room, **query), open_timeout=WAIT, max_size=2**22)
        client = cls(ws)
        _opened.append(client)
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))

    async def recv_type(self, kind: str) -> dict[str, Any]:
        """The next message of type `kind`, skipping others (e.g. member counts)."""
        while True:
            message = await self.recv()
            if message["type"] == kind:
                return message

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            message = await self.recv()
            if predicate(message):
                return message

    async def closed_with(self) -> int:
        """Wait for the server to close; its close code."""
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), WAIT)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return closed.rcvd.code

    async def close(self) -> None:
        await self.ws.close()
