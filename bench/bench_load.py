"""A classroom's load on loopback: many clients hammer the heavy endpoints while health is polled.

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_load.py`` (``--quick`` for a tiny smoke run
that CI can afford). It starts ``svertka serve`` (``--workers`` as given) in its own process
group on 127.0.0.1 with a temporary ``SVERTKA_DATA_DIR``, uploads a photo, then for
``--duration`` seconds runs ``--clients`` concurrent clients (asyncio + httpx, one process),
each cycling through:

- ``POST /api/conv``: a 64x64 inline matrix with a 3x3 kernel, answered as JSON;
- ``POST /api/frames``: 100 sliding-window frames at a random offset of the photo;
- ``POST /api/conv/render``: the photo (``max_side`` 512) through ``sobel_x``, as PNG.

A separate process polls ``GET /api/health`` every 20 ms on its own connection, so its
latencies measure the server's event loop, not this process's. Reported: requests per second,
p50/p99 per endpoint, errors (anything but 200; a 503 from the bounded queue counts), health
p50/p99 against the target of 100 ms p99, and the server's peak memory (the sum of the peak
resident sizes, ``VmHWM``, of its processes). Bounded: fixed duration, fixed clients, a request
timeout. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "static" / "samples"
HEALTH_TARGET_MS = 100.0
HEALTH_EVERY_S = 0.02
TIMEOUT_S = 60.0


def make_photo(width: int, height: int) -> bytes:
    """A JPEG of the bundled astronaut, resized, with a little grain (compresses like a photo)."""
    with Image.open(SAMPLES / "astronaut.jpg") as image:
        image = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += np.random.default_rng(0).normal(0.0, 3.0, pixels.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)).save(
        buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# the server ------------------------------------------------------------------------------------
class Server:
    """``svertka serve`` in its own process group; `peak_mb` reads its processes' VmHWM."""

    def __init__(self, data_dir: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SVERTKA_DATA_DIR": str(data_dir)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not answer /api/health within 120 s")
            time.sleep(0.1)

    def pids(self) -> list[int]:
        """The processes of the server's group (the manager and its workers)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.process.pid:  # field 5 of stat: the process group
                    found.append(int(entry.name))
        return found

    def peak_mb(self) -> float:
        total_kb = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total_kb += int(line.split()[1])
            except OSError:
                continue
        return total_kb / 1024.0

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                continue


# the clients -----------------------------------------------------------------------------------
@dataclass
class Series:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def requests_for(image_id: str, frames_total: int) -> list[tuple[str, str, dict[str, Any]]]:
    rng = np.random.default_rng(1)
    matrix = rng.integers(-5, 6, (64, 64)).tolist()
    return [
        ("conv", "/api/conv", {"input": matrix, "kernel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
                               "padding": "same", "activation": "relu"}),
        ("frames", "/api/frames", {"image_id": image_id, "color": "rgb", "preset": "sobel_x",
                                   "offset": -1, "limit": 100, "_total": frames_total}),
        ("render", "/api/conv/render", {"image_id": image_id, "color": "rgb", "max_side": 512,
                                        "preset": "sobel_x", "padding": "same",
                                        "display": {"mode": "signed"}}),
    ]


async def client_loop(client: httpx.AsyncClient, plan: list[tuple[str, str, dict[str, Any]]],
                      series: dict[str, Series], until: float, seed: int) -> None:
    rng = random.Random(seed)
    turn = seed % len(plan)
    while time.monotonic() < until:
        name, path, body = plan[turn % len(plan)]
        turn += 1
        if name == "frames":
            total = body["_total"]
            body = {k: v for k, v in body.items() if k != "_total"}
            body["offset"] = rng.randrange(max(total - 100, 1))
        start = time.perf_counter()
        try:
            answer = await client.post(path, json=body)
            status = answer.status_code
            await answer.aread()
        except httpx.HTTPError:
            status = 0
        elapsed = (time.perf_counter() - start) * 1000.0
        entry = series[name]
        entry.statuses[status] = entry.statuses.get(status, 0) + 1
        if status == 200:
            entry.latencies_ms.append(elapsed)
        else:
            entry.errors += 1


async def hammer(url: str, plan: list[tuple[str, str, dict[str, Any]]], clients: int,
                 duration: float) -> dict[str, Series]:
    series = {name: Series(name) for name, _, _ in plan}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT_S, limits=limits) as client:
        until = time.monotonic() + duration
        await asyncio.gather(*(client_loop(client, plan, series, until, seed)
                               for seed in range(clients)))
    return series


def poll_health(url: str, ready: Any, stop: Any, out: Any) -> None:
    """In its own process: GET /api/health every 20 ms until ``stop``; send the latencies."""
    latencies, errors = [], 0
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        client.get("/api/health")  # connected and warm before the load starts
        ready.set()
        while not stop.is_set():
            start = time.perf_counter()
            try:
                ok = client.get("/api/health").status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - start) * 1000.0)
            else:
                errors += 1
            stop.wait(HEALTH_EVERY_S)
    out.send((latencies, errors))


# the report ------------------------------------------------------------------------------------
def report(series: dict[str, Series], health: Series, duration: float, peak_mb: float,
           clients: int, workers: int) -> tuple[str, bool]:
    lines = [f"{clients} clients for {duration:.1f} s, {workers} worker(s), "
             f"health polled every {HEALTH_EVERY_S * 1000:.0f} ms", "",
             "| endpoint | requests | req/s | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|"]
    total_ok = total_errors = 0
    for entry in (*series.values(), health):
        count = len(entry.latencies_ms)
        total_ok += count if entry is not health else 0
        total_errors += entry.errors
        lines.append(f"| {entry.name} | {count + entry.errors} | {count / duration:.1f} | "
                     f"{entry.p(50):.1f} | {entry.p(99):.1f} | {entry.errors} |")
    met = health.p(99) <= HEALTH_TARGET_MS
    lines += ["", f"all endpoints: {total_ok / duration:.1f} requests/s",
              f"errors: {total_errors} (target 0)",
              f"health p99: {health.p(99):.1f} ms (target <= {HEALTH_TARGET_MS:.0f} ms): "
              f"{'met' if met else 'NOT met'}",
              f"server peak memory: {peak_mb:.0f} MB"]
    refused = sum(e.statuses.get(503, 0) for e in series.values())
    if total_errors:
        codes = {name: e.statuses for name, e in series.items() if e.errors}
        lines.append(f"statuses of failed endpoints: {codes} (503 refused: {refused})")
    return "\n".join(lines), total_errors == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="a tiny smoke run: 4 clients for 2 s on a small photo")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.duration = 4, 2.0
    side = (320, 240) if args.quick else (1024, 768)

    with tempfile.TemporaryDirectory(prefix="svertka-load-") as tmp:
        server = Server(Path(tmp) / "data", args.workers)
        try:
            upload = httpx.post(server.url + "/api/images", timeout=TIMEOUT_S,
                                files={"file": ("photo.jpg", make_photo(*side), "image/jpeg")})
            upload.raise_for_status()
            image_id = upload.json()["id"]
            probe = httpx.post(server.url + "/api/frames", timeout=TIMEOUT_S, json={
                "image_id": image_id, "color": "rgb", "preset": "sobel_x", "limit": 1})
            probe.raise_for_status()
            plan = requests_for(image_id, probe.json()["total"])
            asyncio.run(hammer(server.url, plan, min(args.clients, 2), 0.5))  # warm up
            context = multiprocessing.get_context("spawn")
            ready, stop = context.Event(), context.Event()
            receive, send = context.Pipe(duplex=False)
            poller = context.Process(target=poll_health, args=(server.url, ready, stop, send))
            poller.start()
            if not ready.wait(timeout=120):
                raise RuntimeError("the health poller did not start")
            start = time.monotonic()
            series = asyncio.run(hammer(server.url, plan, args.clients, args.duration))
            duration = time.monotonic() - start
            stop.set()
            latencies, health_errors = receive.recv()
            poller.join(timeout=30)
            peak = server.peak_mb()
        finally:
            server.stop()
    health = Series("health", latencies, health_errors)
    text, ok = report(series, health, duration, peak, args.clients, args.workers)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
