"""A photo through a VGG-style block: the whole /api/network/run against the core calls alone
(issue 10, "Speed").

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_network.py`` (``--quick`` for a tiny smoke
run). A 224x224 RGB photo (made from a bundled sample) goes through Conv2D 32 3x3 same relu,
Conv2D 32 3x3 same relu, MaxPooling2D 2, Conv2D 64 3x3 same relu, MaxPooling2D 2, Flatten,
Dense 10, with seeded weights. Measured, interleaved, median of N rounds:

- **core**: the same arithmetic with `server.core` directly (`conv` with the bias, ReLU,
  `pool`, `flatten`, `dense`) on the photo's float32 pixels, already decoded;
- **run**: ``POST /api/network/run`` with ``image_id`` and ``render`` as the ``/network`` page
  asks (every layer's PNG grid of thumbnails, maps shrunk to ``render.max_side`` by block means,
  no numbers in the JSON): in-process through Starlette's TestClient (the ASGI app, no sockets),
  and over loopback HTTP to a live ``uvicorn`` (``--live``);
- **open large**: the same run drawing one channel of ``conv2d_1`` at full size, what the page
  asks when a thumbnail is opened;
- **full-size maps** (``--full``): every map at full size (``max_side: null``), the answer before
  thumbnails, for comparison.

The target is run / core < 2. Both sides are compared, so both did the same work: the last
layer's numbers (via ``?format=npz``), and thumbnails of the first and last conv layers against
block means of the core's own maps drawn on their scale. Each round times every case once,
interleaved; the ratio is the median of the rounds' ratios (each case against the core call of
its own round, so a burst of load hits both), with its quartiles. Wall-clock milliseconds on one
machine; read the ratio.
"""

from __future__ import annotations

import argparse
import base64
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
from PIL import Image  # noqa: E402

from server.config import Settings  # noqa: E402
from server.core import conv, dense, flatten, pool  # noqa: E402
from server.imaging.render import block_mean, display, reduction_factor  # noqa: E402
from server.nn.model import Sequential  # noqa: E402
from server.web.app import create_app  # noqa: E402
from server.web.schemas.network import RenderSpec  # noqa: E402

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


def core_forward(x: np.ndarray, weights: dict[str, list[np.ndarray]],
                 maps: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The block with the core's calls: channel-first inside, Keras's layouts converted.
    ``maps`` (when given) receives each convolution's output, channel-first."""
    h = np.ascontiguousarray(x.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)
    for name in ("conv2d", "conv2d_1", "pool", "conv2d_2", "pool"):
        if name == "pool":
            h = pool(h, mode="max", kernel_size=2)
            continue
        kernel, bias = weights[name]
        w = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        h = np.maximum(conv(h, w, bias=bias, padding="same"), 0)
        if maps is not None:
            maps[name] = h
    kernel, bias = weights["dense"]
    return dense(flatten(h, channels_last=True), kernel, bias)


def picture(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def thumbnail_difference(row: dict[str, Any], maps: np.ndarray, max_side: int | None) -> int:
    """Largest grey-level difference between the served grid's tiles and the core's maps
    shrunk the same way and drawn on the same scale (0 or 1: float32 sums in another order)."""
    grid = row["grid"]
    factor = reduction_factor(maps.shape[1:], max_side)
    assert grid["factor"] == factor, (grid, factor)
    lo, hi = float(maps.min()), float(maps.max())
    assert np.allclose(grid["range"], [lo, hi], rtol=1e-5, atol=1e-6), (grid["range"], lo, hi)
    expected, _ = display(block_mean(maps, factor), "stretch", data_range=(lo, hi))
    served = picture(row["png"])
    worst = 0
    for k in range(grid["count"]):
        r, c = divmod(k, grid["columns"])
        y, x = r * (grid["height"] + grid["gap"]), c * (grid["width"] + grid["gap"])
        tile = served[y:y + grid["height"], x:x + grid["width"]].astype(int)
        worst = max(worst, int(np.abs(tile - expected[k]).max()))
    return worst


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def interleaved(rounds: int, cases: dict[str, Callable[[], Any]]) -> dict[str, list[float]]:
    """Wall times (ms) per case, one call of each per round (load hits them alike)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, call in cases.items():
            start = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - start) * 1000.0)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 48x48 photo, 2 rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--max-side", type=int, default=None,
                        help="render.max_side of the thumbnails (default: the API's)")
    parser.add_argument("--full", action="store_true", help="also time full-size maps")
    parser.add_argument("--live", action="store_true", help="also time a live uvicorn")
    opts = parser.parse_args()
    size, rounds = (48, 2) if opts.quick else (opts.size, opts.rounds)
    photo = make_photo("chelsea.jpg", size, size)
    # as the /network page asks: thumbnails of every map layer, no numbers for maps
    render: dict[str, Any] = {"mode": "stretch", "max_maps": 64}
    if opts.max_side is not None:
        render["max_side"] = opts.max_side
    body: dict[str, Any] = {"input_shape": [size, size, 3], "layers": LAYERS, "seed": SEED,
                            "outputs": [], "render": render}

    model = Sequential([size, size, 3], LAYERS)
    model.init_weights(SEED)
    weights = model.get_weights()
    max_side = RenderSpec.model_validate(render).max_side

    with tempfile.TemporaryDirectory() as tmp, TestClient(
            create_app(Settings(data_dir=Path(tmp)))) as client:
        image_id = client.post("/api/images", files={"file": ("photo.jpg", photo,
                                                               "image/jpeg")}).json()["id"]
        body["image_id"] = image_id
        large = {**body, "render": {**render, "layers": ["conv2d_1"], "channel": 5,
                                    "max_side": None}}
        full = {**body, "render": {**render, "max_side": None}}
        # the same pixels the service uses: decoded by the store, as float32 (H, W, 3)
        npz = client.post("/api/network/run?format=npz", json={**body, "render": None})
        assert npz.status_code == 200, npz.text
        with np.load(io.BytesIO(npz.content)) as saved:
            x, served = saved["input"], saved["dense"]
        core_maps: dict[str, np.ndarray] = {}
        ours = core_forward(x, weights, core_maps)
        difference = float(np.abs(ours - served).max() / max(np.abs(ours).max(), 1e-12))
        answer = client.post("/api/network/run", json=body).json()
        rows = {row["name"]: row for row in answer["layers"]}
        levels = max(thumbnail_difference(rows[name], core_maps[name], max_side)
                     for name in ("conv2d", "conv2d_2"))
        opened = client.post("/api/network/run", json=large).json()["layers"][1]
        tile = picture(opened["png"]).astype(int)
        channel = core_maps["conv2d_1"][5]
        lo, hi = rows["conv2d_1"]["grid"]["range"]
        want, _ = display(channel, "stretch", data_range=(lo, hi))
        levels = max(levels, int(np.abs(tile - want).max()))
        png_bytes = sum(len(row["png"] or "") for row in answer["layers"])
        tiles = ", ".join(f"{row['name']} {row['grid']['height']}x{row['grid']['width']}"
                          f" (/{row['grid']['factor']})" for row in answer["layers"]
                          if row["grid"])

        def post(json: dict[str, Any]) -> Callable[[], None]:
            def call() -> None:
                response = client.post("/api/network/run", json=json)
                assert response.status_code == 200, response.text
            return call

        cases: dict[str, Callable[[], Any]] = {
            "core": lambda: core_forward(x, weights), "run (in-process)": post(body),
            "open large (1 channel, full size)": post(large)}
        if opts.full:
            cases["full-size maps (in-process)"] = post(full)
            full_bytes = sum(len(row["png"] or "") for row in
                             client.post("/api/network/run", json=full).json()["layers"])
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
                times = interleaved(rounds, cases)
        else:
            times = interleaved(rounds, cases)

    core = times["core"]
    print(f"VGG-style block on a {size}x{size} RGB photo, {rounds} rounds, "
          f"{model.macs / 1e6:.0f} M multiply-adds; thumbnails: max_side {max_side}")
    print("| case | median ms | ratio to core (median of rounds) | ratio quartiles |")
    print("|---|---|---|---|")
    ratios: dict[str, float] = {}
    for name, samples in times.items():
        q1, q2, q3 = quartiles([t / c for t, c in zip(samples, core, strict=True)])
        ratios[name] = q2
        print(f"| {name} | {statistics.median(samples):.1f} | {q2:.2f} | {q1:.2f}-{q3:.2f} |")
    print(f"tiles: {tiles}")
    print(f"rendered PNGs: {png_bytes / 1024:.0f} KiB of data URLs"
          + (f" (full-size maps: {full_bytes / 1024:.0f} KiB)" if opts.full else ""))
    print(f"last layer: max rel. difference core vs service {difference:.1e}; thumbnails and "
          f"the large map vs the core's maps: at most {levels} grey level(s)")
    main_cases = [name for name in ratios if name.startswith("run (")]
    worst = max(ratios[name] for name in main_cases)
    print(f"run / core: {worst:.2f} (target < 2)")
    return 0 if difference < 1e-4 and levels <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
