"""A photo through a VGG-style block: the whole /api/network/run against the core calls alone
(issue 10, "Speed").

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_network.py`` (``--quick`` for a tiny smoke
run). A 224x224 RGB photo (made from a bundled sample) goes through Conv2D 32 3x3 same relu,
Conv2D 32 3x3 same relu, MaxPooling2D 2, Conv2D 64 3x3 same relu, MaxPooling2D 2, Flatten,
Dense 10, with seeded weights. Measured, interleaved, median of N rounds:

- **core**: the same arithmetic with `server.core` directly (`conv` with the bias, ReLU,
  `pool`, `flatten`, `dense`) on the photo's float32 pixels, already decoded;
- **run**: ``POST /api/network/run`` with ``image_id`` and ``render`` (every layer's PNG grid,
  no numbers in the JSON): in-process through Starlette's TestClient (the ASGI app, no sockets),
  and over loopback HTTP to a live ``uvicorn`` (``--live``).

The target is run / core < 2. Both outputs are compared (the last layer's numbers via
``?format=npz``), so both sides did the same work. Wall-clock milliseconds on one machine; read
the ratio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_service import make_photo, serve  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from server.config import Settings  # noqa: E402
from server.core import conv, dense, flatten, pool  # noqa: E402
from server.nn.model import Sequential  # noqa: E402
from server.web.app import create_app  # noqa: E402

LAYERS: list[dict[str, Any]] = [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10},
]
SEED = 0


def core_forward(x: np.ndarray, weights: dict[str, list[np.ndarray]]) -> np.ndarray:
    """The block with the core's calls: channel-first inside, Keras's layouts converted."""
    h = np.ascontiguousarray(x.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)
    for name in ("conv2d", "conv2d_1", "pool", "conv2d_2", "pool"):
        if name == "pool":
            h = pool(h, mode="max", kernel_size=2)
            continue
        kernel, bias = weights[name]
        w = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        h = np.maximum(conv(h, w, bias=bias, padding="same"), 0)
    kernel, bias = weights["dense"]
    return dense(flatten(h, channels_last=True), kernel, bias)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def interleaved(rounds: int, cases: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median wall time per case, one call of each per round (load hits them alike)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, call in cases.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: median_ms(t) for name, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 48x48 photo, 2 rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--live", action="store_true", help="also time a live uvicorn")
    opts = parser.parse_args()
    size, rounds = (48, 2) if opts.quick else (opts.size, opts.rounds)
    photo = make_photo("chelsea.jpg", size, size)
    body = {"input_shape": [size, size, 3], "layers": LAYERS, "seed": SEED, "outputs": [],
            "render": {"mode": "stretch"}}

    model = Sequential([size, size, 3], LAYERS)
    model.init_weights(SEED)
    weights = model.get_weights()

    with tempfile.TemporaryDirectory() as tmp, TestClient(
            create_app(Settings(data_dir=Path(tmp)))) as client:
        image_id = client.post("/api/images", files={"file": ("photo.jpg", photo,
                                                               "image/jpeg")}).json()["id"]
        body["image_id"] = image_id
        # the same pixels the service uses: decoded by the store, as float32 (H, W, 3)
        npz = client.post("/api/network/run?format=npz", json={**body, "render": None})
        assert npz.status_code == 200, npz.text
        with np.load(io.BytesIO(npz.content)) as saved:
            x, served = saved["input"], saved["dense"]
        ours = core_forward(x, weights)
        difference = float(np.abs(ours - served).max() / max(np.abs(ours).max(), 1e-12))

        def run_in_process() -> None:
            response = client.post("/api/network/run", json=body)
            assert response.status_code == 200, response.text

        cases: dict[str, Callable[[], Any]] = {
            "core": lambda: core_forward(x, weights), "run (in-process)": run_in_process}
        answer = client.post("/api/network/run", json=body).json()
        png_bytes = sum(len(layer["png"] or "") for layer in answer["layers"])
        for call in cases.values():  # warm-up: tile buffers, BLAS threads, caches
            call()
        if opts.live:
            import httpx
            with tempfile.TemporaryDirectory() as live_dir, serve(Path(live_dir)) as url, \
                    httpx.Client(base_url=url, timeout=120) as http:
                live_id = http.post("/api/images", files={"file": ("photo.jpg", photo,
                                                                   "image/jpeg")}).json()["id"]
                live_body = {**body, "image_id": live_id}

                def run_live() -> None:
                    response = http.post("/api/network/run", json=live_body)
                    assert response.status_code == 200, response.text

                run_live()
                cases["run (uvicorn)"] = run_live
                results = interleaved(rounds, cases)
        else:
            results = interleaved(rounds, cases)

    core_ms = results["core"]
    print(f"VGG-style block on a {size}x{size} RGB photo, median of {rounds} rounds, "
          f"{model.macs / 1e6:.0f} M multiply-adds")
    print("| case | median ms | ratio to core |")
    print("|---|---|---|")
    for name, ms in results.items():
        print(f"| {name} | {ms:.1f} | {ms / core_ms:.2f} |")
    print(f"rendered PNGs: {png_bytes / 1024:.0f} KiB of data URLs; last layer: max rel. "
          f"difference core vs service {difference:.1e}")
    worst = max(ms / core_ms for name, ms in results.items() if name != "core")
    print(f"run / core: {worst:.2f} (target < 2)")
    return 0 if difference < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
