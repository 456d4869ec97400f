"""The method chooser: shift-and-add, tiled im2col or FFT, from the shape of the work.

Thresholds come from bench/bench_scaling.py on the development machine (2 cores, AVX-512,
NumPy's OpenBLAS), recorded in bench/crossover.md; they only decide speed, never the result.

- FFT costs about the same for any kernel size while the others grow with the taps: FFT from
  `FFT_MIN_TAPS` taps with one filter (measured crossover k = 11..15 per axis over three runs)
  and `FFT_MIN_TAPS_MANY` with several (k = 13..15: every filter adds its own kernel transforms,
  one per channel, and an inverse transform). Only at stride 1: FFT computes every stride-1
  position.
- Shift-and-add does one in-place BLAS update per tap: it reads C/groups planes and rewrites
  F/groups accumulators per tap (one axpy per filter, channel and tap when F*C is tiny). im2col
  copies C/groups * prod(K) shifted rows once and writes the output once. So im2col wins when
  the filters outnumber the channels (`IM2COL_FILTER_RATIO`): an RGB photo through 16 filters,
  a grey one through 4. Without BLAS (the NumPy fallback) im2col wins everywhere but F*C tiny.
- Winograd F(4x4, 3x3) (`winograd4`; 2-D, 3x3, stride 1, dilation 1) runs the 3x3 layers of
  16 channels and filters or more (`WINOGRAD4_MIN_CHANNELS`): 4x fewer multiplications, every
  step a BLAS product.
- Shift-and-add itself runs as axpys straight over the input for a handful of filters x
  channels (`direct_variant`, `taps`); at stride 1 with few channels and several filters as one
  GEMM per kernel row with the row's taps stacked (`ROWS_MAX_CHANNELS`, ahead of im2col); else
  as one GEMM per tap over padded tiles.
- Winograd F(2x2, 3x3) (`winograd`; 2-D, 3x3, stride 1, dilation 1) is never picked here, only
  forced with ``method="winograd"``: it does 2.25x fewer multiply-adds, but its transforms are
  single-threaded NumPy passes, and measured (bench/README.md, "Winograd") it is about 10%
  slower than shift-and-add on the 64x64-channel bench shape on one thread, faster only from
  about 128x128 channels x filters on one thread, and 30-60% slower on two threads everywhere.
"""

from __future__ import annotations

import numpy as np

from . import blas, taps, winograd
from .plan import ConvPlan

METHODS = ("direct", "im2col", "fft", "winograd", "winograd4")

FFT_MIN_TAPS = 121
"""Kernel taps (prod(K)) from which FFT beats shift-and-add and im2col, one filter, stride 1."""

FFT_MIN_TAPS_MANY = 196
"""The same with several filters."""

IM2COL_FILTER_RATIO = 4
"""im2col when filters per group >= this many times the channels per group."""

WINOGRAD4_MIN_CHANNELS = 16
"""Channels and filters per group from which Winograd F(4x4, 3x3) (`winograd4`) runs 3x3 layers.
Measured (one thread, CPU time, medians of 7, "same" padding; 3 Dec 2026) against the best of
shift-and-add and im2col: 32 x 32 channels x filters 0.49-0.83x on 32..224-wide maps, 32 x 64
0.37-0.73x, 64 x 32 0.48-0.91x, 16 x 32 0.70-0.85x, 16 x 16 0.82-1.04x; 64x128x128 through 64
filters 0.5x, 128 x 128 0.55x. With two threads on a busy machine it is also the steady one:
its BLAS calls are cut to stay on their thread (`winograd4.BLAS_ONE_THREAD`), while
shift-and-add's per-tap GEMMs wait for OpenBLAS's second thread (32 x 32 on a 112-wide map:
3.4 ms against 141 ms, load average 1.7). Below 16 channels or filters it is no faster (3 x 16
on 64..512-wide maps: 1.0-1.4x shift-and-add's time)."""

WINOGRAD4_MAX_CHANNELS = 256
"""...and up to which: its float32 error grows with the channels summed (largest error 2.8e-6
of the largest output at 64 channels, 4.8e-6 at 256; the contract allows 1e-5)."""

WINOGRAD4_MIN_OUTPUTS = 32 * 32
"""Output positions per map from which it is worth its transforms and the kernel transform."""

ROWS_MAX_CHANNELS = 8
ROWS_MIN_FILTERS = 4
"""Shift-and-add with the last axis' taps stacked (`direct._run_rows`: one GEMM per kernel row)
runs stride-1 convolutions of at most `ROWS_MAX_CHANNELS` channels per group through at least
`ROWS_MIN_FILTERS` filters: measured (one thread) 0.66-0.87x the time of the best of im2col and
per-tap GEMMs from 4 grey to 32 RGB filters, 3x3 to 7x7 (16 RGB 5x5 filters on 1024x1024: 56
against 80 and 109 ms); 1.2-1.6x slower from 16 channels, or with 2 filters."""

TAPS_MAX_PRODUCTS = 3
"""Filters x channels per group up to which shift-and-add runs as one BLAS axpy per filter,
channel and tap straight over the input (`taps`), when it can: measured 0.5-0.6x the time of one
GEMM per tap on padded planes for an RGB photo through one 3x3 filter (one thread)."""

DIRECT_MAX_PRODUCTS = 3
"""Filters x channels per group up to which shift-and-add always wins (an RGB photo through one
filter; a grey one through four filters already goes faster through im2col)."""


def choose(plan: ConvPlan) -> str:
    """Name of the fastest method for ``plan``: "direct", "im2col", "fft" or "winograd4"."""
    fg, cg = plan.w.shape[0] // plan.groups, plan.w.shape[1]
    taps = int(np.prod(plan.kernel_shape))
    threshold = FFT_MIN_TAPS if plan.w.shape[0] == 1 else FFT_MIN_TAPS_MANY
    if taps >= threshold and all(s == 1 for s in plan.stride):
        return "fft"
    if (
        min(fg, cg) >= WINOGRAD4_MIN_CHANNELS
        and cg <= WINOGRAD4_MAX_CHANNELS
        and winograd.unsupported(plan) is None
        and int(np.prod(plan.out_shape)) >= WINOGRAD4_MIN_OUTPUTS
    ):
        return "winograd4"
    if fg * cg <= DIRECT_MAX_PRODUCTS:
        return "direct"
    if not blas.available(plan.dtype):
        return "im2col"  # without in-place BLAS updates, one GEMM per tile beats per-tap ones
    if _rows_win(plan, fg, cg):
        return "direct"
    if fg >= IM2COL_FILTER_RATIO * cg:
        return "im2col"
    return "direct"


def direct_variant(plan: ConvPlan) -> str:
    """How shift-and-add runs with BLAS: "taps" (`taps`, axpys over the input in place), "rows"
    (one GEMM per kernel row, `direct._run_rows`) or "gemm" (one GEMM per tap over padded tiles,
    `direct._run_blas`)."""
    fg, cg = plan.w.shape[0] // plan.groups, plan.w.shape[1]
    if fg * cg <= TAPS_MAX_PRODUCTS and taps.supported(plan):
        return "taps"
    if _rows_win(plan, fg, cg):
        return "rows"
    return "gemm"


def _rows_win(plan: ConvPlan, fg: int, cg: int) -> bool:
    return (
        all(s == 1 for s in plan.stride)
        and cg <= ROWS_MAX_CHANNELS
        and fg >= ROWS_MIN_FILTERS
        and blas.available(plan.dtype)
    )
