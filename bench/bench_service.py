"""Time the real service on loopback against the same work done in-process (issue 6, item 3).

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_service.py`` (``--quick`` for a tiny smoke
run that CI can afford). It starts ``uvicorn`` with the real app factory in a subprocess on
127.0.0.1 and a temporary ``SVERTKA_DATA_DIR``, uploads photos made from the bundled samples
(upscaled, with a little sensor grain so they compress like photos), warms up, then measures:

- ``POST /api/conv/render``: a 1024x768 RGB photo, the ``sobel_x`` preset, ``padding: "same"``,
  answered as PNG. Each request is interleaved with the same work done in this process: the
  core's own ``conv`` on the same float32 array, plus turning the map into the same PNG
  (``server.imaging.render.display`` + ``server.imaging.encode.encode_png`` at the service's
  level and row filter). The PNG bytes must match the server's, so both sides did the same work.
  The ratio is client round trip p50 / in-process p50; the target is at most 2.
- ``POST /api/frames``: pages of 100 frames at random offsets in a 2048x2048 RGB photo. Server
  time comes from the ``Server-Timing`` header (``total``: request start to response start,
  inside the app); the target is p50 under 20 ms.
- ``GET /api/health`` as the floor: what loopback HTTP costs with no work at all.
- ``--clients 1,8,32`` (issue 16, item 4): the render request of the first display mode sent by
  that many concurrent clients (asyncio, one keep-alive connection each, every client sending
  its next request as soon as the last one is answered), ``--requests`` per client count at
  least 4 per client: p50/p95/p99 latency, requests per second, errors (anything but a 200,
  a 503 from the bounded queue included). The target: p50 at 1 client within 1.5x of the
  in-process p50 of the interleaved render case above.

Latencies are wall-clock milliseconds on one machine; read the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from server.core import conv  # noqa: E402
from server.core.kernels import PRESETS  # noqa: E402
from server.imaging.decode import decode_image, to_array  # noqa: E402
from server.imaging.encode import encode_png  # noqa: E402
from server.imaging.render import display, png_filter  # noqa: E402

SAMPLES = ROOT / "static" / "samples"
PNG_LEVEL = 1  # the service's default `png_compress_level`
_TIMING = re.compile(r"(?:^|,)\s*([\w-]+)(?:;[^,]*?dur=([\d.]+))?")


# photos ------------------------------------------------------------------------------------------
def make_photo(sample: str, width: int, height: int, *, seed: int = 0) -> bytes:
    """A ``width x height`` JPEG made from a bundled sample: centre-cropped to the aspect ratio,
    resized with Lanczos, plus mild Gaussian grain so it is not unnaturally smooth."""
    with Image.open(SAMPLES / sample) as image:
        image = image.convert("RGB")
        aspect = width / height
        w, h = image.size
        if w / h > aspect:
            crop_w = round(h * aspect)
            box = ((w - crop_w) // 2, 0, (w - crop_w) // 2 + crop_w, h)
        else:
            crop_h = round(w / aspect)
            box = (0, (h - crop_h) // 2, w, (h - crop_h) // 2 + crop_h)
        image = image.crop(box).resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32)
    grain = np.random.default_rng(seed).normal(0.0, 3.0, pixels.shape).astype(np.float32)
    noisy = np.clip(np.rint(pixels + grain), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


# the server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """Run ``uvicorn --factory server.web.app:create_app`` until the block ends; yield its URL."""
    port = free_port()
    env = {**os.environ, "SVERTKA_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "server.web.app:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with code {proc.returncode}")
            try:
                if httpx.get(url + "/api/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer /api/health within 60 s")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_timing(response: httpx.Response) -> dict[str, float]:
    """``Server-Timing: total;dur=1.2, core;dur=0.8`` -> ``{"total": 1.2, "core": 0.8}``."""
    header = response.headers.get("server-timing", "")
    return {m.group(1): float(m.group(2)) for m in _TIMING.finditer(header) if m.group(2)}


# statistics ------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` in [0, 100] (``numpy.percentile``'s default)."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


@dataclass
class Series:
    name: str
    client: list[float] = field(default_factory=list)  # round trip, ms
    server: list[float] = field(default_factory=list)  # Server-Timing total, ms
    inproc: list[float] = field(default_factory=list)  # the same work in this process, ms
    stages: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    def p(self, which: str, q: float) -> float:
        values = getattr(self, which)
        return percentile(values, q) if values else float("nan")


def timed_post(client: httpx.Client, path: str, body: dict[str, Any],
               ) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = (time.perf_counter() - start) * 1000.0
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:500]}")
    return response, elapsed


# the cases ---------------------------------------------------------------------------------------
def render_case(client: httpx.Client, photo: bytes, image_id: str, mode: str, *, warmup: int,
                requests: int) -> Series:
    """/api/conv/render of ``sobel_x`` with padding same, interleaved with the in-process work."""
    body = {"image_id": image_id, "preset": "sobel_x", "padding": "same",
            "display": {"mode": mode}}
    x = to_array(decode_image(photo), "rgb")  # what the store caches: float32 (3, H, W)
    kernel = np.asarray(PRESETS["sobel_x"].kernel, dtype=np.float32)
    w = np.ascontiguousarray(np.broadcast_to(kernel, (1, x.shape[0], *kernel.shape)))

    stages: dict[str, list[float]] = {"conv": [], "display": [], "encode": []}

    def in_process() -> tuple[bytes, float]:
        t0 = time.perf_counter()
        y = conv(x, w, padding="same")
        t1 = time.perf_counter()
        pixels, _ = display(y[0], mode)
        t2 = time.perf_counter()
        png = encode_png(pixels, compress_level=PNG_LEVEL, filter=png_filter(mode))
        t3 = time.perf_counter()
        stages["conv"].append((t1 - t0) * 1000.0)
        stages["display"].append((t2 - t1) * 1000.0)
        stages["encode"].append((t3 - t2) * 1000.0)
        return png, (t3 - t0) * 1000.0

    series = Series(f"conv/render {x.shape[2]}x{x.shape[1]} rgb sobel_x same, {mode}")
    for _ in range(warmup):
        timed_post(client, "/api/conv/render", body)
        in_process()
    for value in stages.values():
        value.clear()
    same_bytes = True
    for _ in range(requests):
        response, elapsed = timed_post(client, "/api/conv/render", body)
        png, local = in_process()
        same_bytes &= response.content == png
        series.client.append(elapsed)
        series.server.append(server_timing(response).get("total", float("nan")))
        series.inproc.append(local)
    series.stages = stages
    series.note = f"PNG {len(png) // 1024} KiB, identical to in-process: {same_bytes}"
    if not same_bytes:
        raise RuntimeError("the server's PNG differs from the in-process one: not the same work")
    return series


def frames_case(client: httpx.Client, image_id: str, side: int, *, warmup: int, requests: int,
                seed: int = 0) -> Series:
    """/api/frames pages of 100 frames at random offsets, ``sobel_x`` on an RGB photo."""
    rng = random.Random(seed)
    total = side * side  # one filter, padding same, stride 1
    series = Series(f"frames {side}x{side} rgb sobel_x, 100 at a random offset")

    def one() -> tuple[httpx.Response, float]:
        body = {"image_id": image_id, "preset": "sobel_x", "padding": "same",
                "offset": rng.randrange(0, total - 100), "limit": 100}
        response, elapsed = timed_post(client, "/api/frames", body)
        if len(response.json()["frames"]) != 100:
            raise RuntimeError("expected a page of 100 frames")
        return response, elapsed

    for _ in range(warmup):
        one()
    size = 0
    for _ in range(requests):
        response, elapsed = one()
        series.client.append(elapsed)
        series.server.append(server_timing(response).get("total", float("nan")))
        size = len(response.content)
    series.note = f"answer {size // 1024} KiB of JSON"
    return series


def health_case(client: httpx.Client, *, warmup: int, requests: int) -> Series:
    series = Series("health (loopback floor)")
    for i in range(warmup + requests):
        start = time.perf_counter()
        response = client.get("/api/health")
        elapsed = (time.perf_counter() - start) * 1000.0
        if i >= warmup:
            series.client.append(elapsed)
            series.server.append(server_timing(response).get("total", float("nan")))
    return series


@dataclass
class LoadRow:
    clients: int
    latencies: list[float]  # ms, the answered (200) requests
    errors: int
    seconds: float  # wall time of the whole burst

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) if self.latencies else float("nan")

    @property
    def rps(self) -> float:
        return (len(self.latencies) + self.errors) / self.seconds


async def _burst(url: str, body: dict[str, Any], clients: int, per_client: int) -> LoadRow:
    """``clients`` concurrent clients, each sending ``per_client`` requests back to back."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120.0, limits=limits) as client:

        async def one_client(count: int, record: bool) -> None:
            nonlocal errors
            for _ in range(count):
                start = time.perf_counter()
                try:
                    response = await client.post("/api/conv/render", json=body)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - start) * 1000.0
                if record and ok:
                    latencies.append(elapsed)
                elif record:
                    errors += 1

        await asyncio.gather(*(one_client(1, False) for _ in range(clients)))  # connect, warm
        start = time.perf_counter()
        await asyncio.gather(*(one_client(per_client, True) for _ in range(clients)))
        seconds = time.perf_counter() - start
    return LoadRow(clients, latencies, errors, seconds)


def load_case(url: str, image_id: str, mode: str, counts: list[int], requests: int,
              ) -> list[LoadRow]:
    """The render request under 1, 8, 32... concurrent clients (see the module docstring)."""
    body = {"image_id": image_id, "preset": "sobel_x", "padding": "same",
            "display": {"mode": mode}}
    rows = []
    for clients in counts:
        per_client = max(4, -(-requests // clients))
        rows.append(asyncio.run(_burst(url, body, clients, per_client)))
    return rows


def load_table(rows: list[LoadRow], inproc_p50: float, target: float, *, quick: bool) -> str:
    lines = [
        "| clients | requests | errors | rps | p50 ms | p95 ms | p99 ms | p50 / in-process "
        "| target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r.p(50) / inproc_p50
        judged = r.clients == 1
        met = "" if not judged else "n/a (quick)" if quick else "yes" if ratio <= target else "NO"
        lines.append(
            f"| {r.clients} | {len(r.latencies) + r.errors} | {r.errors} | {r.rps:.1f} "
            f"| {fmt(r.p(50))} | {fmt(r.p(95))} | {fmt(r.p(99))} | {fmt(ratio)} "
            f"| {f'<= {target:g}' if judged else ''} | {met} |"
        )
    return "\n".join(lines)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "-"


# report ------------------------------------------------------------------------------------------
def fmt(value: float) -> str:
    return "-" if value != value else f"{value:.2f}"  # NaN -> "-"


def verdicts(rows: list[Series], render_target: float, frames_target: float,
             ) -> list[tuple[str, float, bool | None]]:
    """Per row: the target it is held to, the measured figure, and whether it is met."""
    out: list[tuple[str, float, bool | None]] = []
    for s in rows:
        if s.inproc:
            ratio = s.p("client", 50) / s.p("inproc", 50)
            out.append((f"ratio <= {render_target:g}", ratio, ratio <= render_target))
        elif s.name.startswith("frames"):
            server = s.p("server", 50)
            out.append((f"server p50 < {frames_target:g} ms", server, server < frames_target))
        else:
            out.append(("", float("nan"), None))
    return out


def table(rows: list[Series], judged: list[tuple[str, float, bool | None]], *,
          quick: bool) -> str:
    lines = [
        "| case | client p50 ms | client p95 ms | server p50 ms | server p95 ms "
        "| in-process p50 ms | ratio p50 | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s, (target, _, ok) in zip(rows, judged, strict=True):
        ratio = s.p("client", 50) / s.p("inproc", 50) if s.inproc else float("nan")
        met = "" if ok is None else "n/a (quick)" if quick else "yes" if ok else "NO"
        lines.append(
            f"| {s.name} | {fmt(s.p('client', 50))} | {fmt(s.p('client', 95))} "
            f"| {fmt(s.p('server', 50))} | {fmt(s.p('server', 95))} | {fmt(s.p('inproc', 50))} "
            f"| {fmt(ratio)} | {target} | {met} |"
        )
    return "\n".join(lines)


def stages_text(rows: list[Series]) -> str:
    out = []
    for s in rows:
        if s.stages:
            parts = ", ".join(f"{k} {statistics.median(v):.2f} ms" for k, v in s.stages.items())
            out.append(f"- {s.name}: in-process {parts}")
        if s.note:
            out.append(f"- {s.name}: {s.note}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (small photos, few requests): seconds, for CI")
    parser.add_argument("--requests", type=int, default=None, help="measured requests per case")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up requests per case")
    parser.add_argument("--modes", default="signed,stretch",
                        help="display modes of the render case, comma-separated")
    parser.add_argument("--clients", default=None,
                        help="concurrent client counts of the load case, comma-separated "
                        "(default 1,8,32; 1,4 with --quick; empty: skip it)")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a target is missed (not with --quick)")
    args = parser.parse_args(argv)
    quick = args.quick
    requests = args.requests or (5 if quick else 50)
    warmup = args.warmup if args.warmup is not None else (2 if quick else 10)
    render_size = (128, 96) if quick else (1024, 768)
    frames_side = 256 if quick else 2048
    render_target, frames_target, load_target = 2.0, 20.0, 1.5
    spec = args.clients if args.clients is not None else ("1,4" if quick else "1,8,32")
    counts = [int(c) for c in spec.split(",") if c.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    print(f"# bench_service: {'quick smoke run' if quick else 'full run'}; "
          f"{requests} requests per case after {warmup} warm-up; python {sys.version.split()[0]}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs; load average {load_average()}",
          flush=True)
    photo = make_photo("coffee.jpg", *render_size, seed=1)
    big = make_photo("astronaut.jpg", frames_side, frames_side, seed=2)
    with tempfile.TemporaryDirectory(prefix="svertka-bench-") as tmp, serve(Path(tmp)) as url, \
            httpx.Client(base_url=url, timeout=120.0) as client:
        ids = []
        for data in (photo, big):
            response = client.post("/api/images", files={"file": ("photo.jpg", data,
                                                                    "image/jpeg")})
            if response.status_code != 201:
                raise RuntimeError(f"upload answered {response.status_code}: {response.text}")
            ids.append(response.json()["id"])
        rows = [health_case(client, warmup=warmup, requests=requests)]
        for mode in modes:
            rows.append(render_case(client, photo, ids[0], mode, warmup=warmup,
                                    requests=requests))
        rows.append(frames_case(client, ids[1], frames_side, warmup=warmup, requests=requests))
        load_rows = (
            load_case(url, ids[0], modes[0], counts, requests) if counts and modes else []
        )
    judged = verdicts(rows, render_target, frames_target)
    print()
    print(table(rows, judged, quick=quick))
    print()
    print(stages_text(rows))
    load_missed = False
    if load_rows:
        inproc = rows[1].p("inproc", 50)
        print(f"\n/api/conv/render ({modes[0]}) under concurrent clients; in-process p50 "
              f"{inproc:.2f} ms (1 client, interleaved, above); load average {load_average()}\n")
        print(load_table(load_rows, inproc, load_target, quick=quick))
        first = [r for r in load_rows if r.clients == 1]
        load_missed = bool(first) and first[0].p(50) / inproc > load_target
        load_missed |= any(r.errors for r in load_rows)
    print("\nclient: round trip through httpx on loopback; server: the app's Server-Timing "
          "`total`;\nratio: client p50 / in-process p50 (core conv + display + PNG encode, same "
          "bytes).")
    if quick:
        print("quick smoke run: sizes too small for the targets to mean anything")
        return 0
    missed = [target for target, _, ok in judged if ok is False]
    return 1 if args.check and (missed or load_missed) else 0


if __name__ == "__main__":
    sys.exit(main())
