"""Live rooms' broadcast latency: one teacher, 30 students, from the teacher's send to each
student's receipt, on one process in memory and on Redis with two workers (students split
between them). Prints p50/p99/max per setup. Target (issue 14): p99 under 250 ms on loopback.

    python bench/bench_rooms.py            # 30 students, 200 states per setup
    python bench/bench_rooms.py --quick    # smoke: 5 students, 20 states

Starts its own uvicorn processes and (for the Redis row) Debian's redis-server on free ports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def serve(data: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.web.app:create_app", "--factory", "--host",
         "127.0.0.1", "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "SVERTKA_DATA_DIR": data,
                       "SVERTKA_ROOM_MESSAGES_PER_SECOND": "1000", **env})
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None

    wait(up, "the app")
    return proc, url


async def measure(teacher_url: str, student_urls: list[str], students: int,
                  states: int) -> list[float]:
    body = httpx.post(teacher_url + "/api/rooms").json()
    room, token = body["room"], body["teacher_token"]
    ws = lambda base: base.replace("http", "ws") + f"/api/rooms/{room}/ws"  # noqa: E731
    teacher = await connect(ws(teacher_url) + f"?token={token}")
    await teacher.recv()
    members = [await connect(ws(student_urls[i % len(student_urls)])) for i in range(students)]
    for m in members:
        await m.recv()
    sent: dict[int, float] = {}
    delays: list[float] = []

    async def follow(m) -> None:  # type: ignore[no-untyped-def]
        got = 0
        while got < states:
            msg = json.loads(await m.recv())
            if msg["type"] == "state":
                delays.append(time.perf_counter() - sent[msg["state"]["i"]])
                got += 1

    tasks = [asyncio.create_task(follow(m)) for m in members]
    for i in range(states):
        sent[i] = time.perf_counter()
        await teacher.send(json.dumps({"type": "state", "state": {"i": i, "page": "/step"}}))
        await asyncio.sleep(0.02)  # a teacher at full animation speed, not a flood
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    for c in (teacher, *members):
        await c.close()
    return delays


def row(name: str, delays: list[float]) -> str:
    d = sorted(delays)
    pick = lambda q: d[min(len(d) - 1, int(q * len(d)))] * 1000  # noqa: E731
    return f"| {name} | {len(d)} | {pick(.5):.1f} | {pick(.99):.1f} | {d[-1] * 1000:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    students, states = (5, 20) if args.quick else (30, 200)
    procs: list[subprocess.Popen[bytes]] = []
    print(f"{students} students, {states} states\n")
    print("| setup | receipts | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as data:
        try:
            proc, url = serve(data, {})
            procs.append(proc)
            print(row("one process, memory", asyncio.run(measure(url, [url], students, states))))
            redis = shutil.which("redis-server") or "/usr/bin/redis-server"
            if not os.path.exists(redis):
                print("| Redis, two workers | redis-server not installed | | | |")
                return
            port = free_port()
            procs.append(subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1",
                                           "--save", "", "--dir", data],
                                          stdout=subprocess.DEVNULL))
            env = {"SVERTKA_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
            a, url_a = serve(data, env)
            b, url_b = serve(data, env)
            procs += [a, b]
            delays = asyncio.run(measure(url_a, [url_a, url_b], students, states))
            print(row("Redis, two workers", delays))
        finally:
            for p in reversed(procs):  # the workers before their redis-server
                p.terminate()
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
