"""The method chooser: shift-and-add, tiled im2col or FFT, from the shape of the work.

Thresholds come from bench/bench_scaling.py on the development machine (2 cores, AVX-512,
OpenBLAS), recorded in bench/crossover.md; they only decide speed, never the result.
"""

from __future__ import annotations

import numpy as np

from ._plan import ConvPlan

METHODS = ("direct", "im2col", "fft")

FFT_MIN_TAPS = 169
"""Kernel taps (prod(K), dilation excluded) from which FFT beats direct with one filter."""

FFT_MIN_TAPS_MANY = 121
"""The same with several filters (the input transform is shared by every filter)."""

DIRECT_MAX_PRODUCTS = 4
"""Filters x channels per group up to which shift-and-add beats im2col + GEMM."""


def choose(plan: ConvPlan) -> str:
    """Name of the fastest method for ``plan``: "direct", "im2col" or "fft"."""
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    fg = filters // plan.groups
    taps = int(np.prod(plan.kernel_shape))
    if all(s == 1 for s in plan.stride):
        threshold = FFT_MIN_TAPS if filters == 1 else FFT_MIN_TAPS_MANY
        if taps >= threshold:
            return "fft"
    if fg * cg <= DIRECT_MAX_PRODUCTS:
        return "direct"
    return "im2col"
