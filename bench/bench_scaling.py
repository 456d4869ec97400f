"""How each convolution method scales, and where the chooser should switch: bench/crossover.md.

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_scaling.py`` (``--quick`` for a smoke run).

Three sweeps, every method timed on every point (interleaved, best of ``--repeat``):
1. image side 256..4096 (RGB, 4 filters of 3x3, padding 1);
2. kernel size 1..31 (a 512x512 image; one grey filter, and 8 filters over RGB; "same" padding);
3. the direct / im2col boundary: filters x channels x kernel size on a 256x256 image.

Times are CPU seconds of this process on ONE BLAS thread (``OPENBLAS_NUM_THREADS=1``, set below
before NumPy loads): the machine this was tuned on is shared, and CPU time on one thread measures
the work a method does far more steadily than wall time on two. The chooser only ranks methods,
so that is the quantity it needs. Results (tables and crossover points) are printed and written
to bench/crossover.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.core import conv, conv_method  # noqa: E402
from server.core.methods import choose as _method  # noqa: E402

METHODS = ("direct", "im2col", "fft", "winograd4")
OUT = Path(__file__).with_name("crossover.md")


def best_times(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best CPU time of each function over ``repeat`` interleaved rounds (after a warm-up)."""
    for fn in fns.values():
        fn()
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - t0)
    return best


def method_fns(x: np.ndarray, w: np.ndarray, **kw: Any) -> dict[str, Callable[[], Any]]:
    """Every method that can run this convolution (Winograd: 2-D 3x3 at stride 1 only)."""
    winograd = w.ndim == 4 and w.shape[2:] == (3, 3) and kw.get("stride", 1) == 1
    return {
        m: (lambda m=m: conv(x, w, method=m, **kw))
        for m in METHODS
        if m != "winograd4" or winograd
    }


def row(label: str, t: dict[str, float], chosen: str) -> str:
    fastest = min(t, key=lambda k: t[k])
    cells = " | ".join(
        "-" if m not in t else f"**{t[m] * 1e3:.2f}**" if m == fastest else f"{t[m] * 1e3:.2f}"
        for m in METHODS
    )
    return f"| {label} | {cells} | {chosen}{'' if chosen == fastest else ' (!)'} |"


def sweep_side(sides: list[int], repeat: int, rng: np.random.Generator) -> list[str]:
    lines = [
        "## 1. Time against image side (3 channels, 4 filters 3x3, padding 1), ms",
        "",
        "| side | direct | im2col | fft | winograd4 | chosen |",
        "|---|---|---|---|---|---|",
    ]
    w = rng.standard_normal((4, 3, 3, 3), dtype=np.float32)
    for side in sides:
        x = rng.standard_normal((3, side, side), dtype=np.float32)
        t = best_times(method_fns(x, w, padding=1), max(1, repeat // (1 + side // 1024)))
        lines.append(row(str(side), t, conv_method(x, w, padding=1)))
        print(lines[-1], flush=True)
    return lines


def sweep_kernel(
    side: int, sizes: list[int], repeat: int, rng: np.random.Generator
) -> tuple[list[str], dict[str, int | None]]:
    lines = [
        f'## 2. Time against kernel size ({side}x{side}, padding "same"), ms',
        "",
        "| case | direct | im2col | fft | winograd4 | chosen |",
        "|---|---|---|---|---|---|",
    ]
    crossings: dict[str, int | None] = {}
    for label, channels, filters in (("1 filter, grey", 1, 1), ("8 filters, RGB", 3, 8)):
        x = rng.standard_normal((channels, side, side), dtype=np.float32)
        first_fft = None
        for k in sizes:
            w = rng.standard_normal((filters, channels, k, k), dtype=np.float32)
            t = best_times(method_fns(x, w, padding="same"), repeat)
            lines.append(row(f"{label}, k={k}", t, conv_method(x, w, padding="same")))
            print(lines[-1], flush=True)
            other = min(t["direct"], t["im2col"])
            if first_fft is None and t["fft"] < other:
                first_fft = k
        crossings[label] = first_fft
    return lines, crossings


def sweep_boundary(side: int, repeat: int, rng: np.random.Generator) -> list[str]:
    lines = [
        f"## 3. direct against im2col ({side}x{side}, padding 0), ms",
        "",
        "| channels x filters x kernel | Cg*K taps | direct | im2col | fft | winograd4 | chosen |",
        "|---|---|---|---|---|---|---|",
    ]
    for channels in (1, 3, 8, 16, 32, 64):
        for filters in (1, 4, 16, 64):
            for k in (3, 5, 7):
                if channels * filters * k * k > 64 * 64 * 9:
                    continue
                x = rng.standard_normal((channels, side, side), dtype=np.float32)
                w = rng.standard_normal((filters, channels, k, k), dtype=np.float32)
                t = best_times(method_fns(x, w), repeat)
                label = f"{channels} x {filters} x {k}x{k}"
                lines.append(row(f"{label} | {channels * k * k}", t, conv_method(x, w)))
                print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    if args.quick:
        sides, side_k, sizes, side_b, repeat = [32, 64], 48, [1, 3, 9], 24, 1
    else:
        sides, side_k, repeat = [256, 512, 1024, 2048, 4096], 512, args.repeat
        sizes, side_b = [1, 3, 5, 7, 9, 11, 13, 15, 19, 23, 31], 256
    lines = [
        "# Method crossovers (written by bench/bench_scaling.py)",
        "",
        f"numpy {np.__version__}; CPU time on one BLAS thread, best of {repeat}; bold = "
        "fastest; (!) = the chooser picked another method. One machine's figures.",
        "",
        f"Chooser thresholds in server/core/methods/choose.py: "
        f"FFT_MIN_TAPS = {_method.FFT_MIN_TAPS}, "
        f"FFT_MIN_TAPS_MANY = {_method.FFT_MIN_TAPS_MANY}, "
        f"IM2COL_FILTER_RATIO = {_method.IM2COL_FILTER_RATIO}, "
        f"DIRECT_MAX_PRODUCTS = {_method.DIRECT_MAX_PRODUCTS}, "
        f"WINOGRAD4_MIN_CHANNELS = {_method.WINOGRAD4_MIN_CHANNELS}, "
        f"WINOGRAD4_MAX_CHANNELS = {_method.WINOGRAD4_MAX_CHANNELS}, "
        f"WINOGRAD4_MIN_OUTPUTS = {_method.WINOGRAD4_MIN_OUTPUTS}. \"direct\" is shift-and-add "
        "in whichever variant `direct_variant` picks (taps, kernel rows, per-tap GEMM).",
        "",
    ]
    lines += sweep_side(sides, repeat, rng) + [""]
    kernel_lines, crossings = sweep_kernel(side_k, sizes, repeat, rng)
    lines += kernel_lines + [""]
    lines += sweep_boundary(side_b, repeat, rng) + [""]
    lines.append("## Crossover points")
    lines.append("")
    for label, k in crossings.items():
        where = f"k = {k} ({k * k} taps)" if k else "not within the sizes measured"
        lines.append(f"- FFT beats direct and im2col from {where}, {label}.")
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[-3:]))
    if not args.no_write and not args.quick:
        OUT.write_text(text)
        print(f"written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
