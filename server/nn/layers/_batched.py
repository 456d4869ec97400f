"""The training path of convolutions and tiling pools: a whole batch in the layout (C, *S, N).

A training step of a small network (a batch of 8x8 digits) is hundreds of NumPy calls on
arrays of a few thousand numbers, so what costs is the number of calls and how long their
innermost loops run, not the arithmetic. With the batch as the last (fastest) axis:

- the windows of a convolution are one strided copy whose inner run is a whole output row of
  every sample (``O[-1] * N`` numbers), and the convolution is one matrix product
  ``(F, C*K) @ (C*K, O*N)`` whose result is already ``(F, *O, N)``, the next layer's input;
- the kernel's gradient reuses those windows (``g @ cols.T``), and the input's gradient (stride
  1) is the same windowing of the output gradient padded to a "full" convolution, times the
  flipped kernel: no scatter-add over taps;
- a pooling window's taps are strided views whose inner run is the batch.

Layers hand their outputs on as ``(N, C, *S)`` views of arrays laid out this way (the shape
every layer expects; only the memory order differs), so consecutive layers need no copies.
The layers check the shapes and arguments (built and validated once) before coming here; the
public `server.core.conv_backward` and `pool_backward` remain the contract, and the tests
compare both with PyTorch's autograd.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

Pads = tuple[tuple[int, int], ...]

__all__ = ["batch_first", "batch_last", "conv_input_grad", "conv_windows", "pad_batch",
           "tiled_pool", "tiled_pool_grad"]

COLS_BYTES = 16 * 2**20
"""Largest stack of windows the training path builds (bigger inputs take the core's tiles)."""


def batch_last(x: np.ndarray) -> np.ndarray:
    """``(N, C, *S)`` as a C-contiguous ``(C, *S, N)`` (no copy when it already lies so)."""
    return np.ascontiguousarray(x.transpose(*range(1, x.ndim), 0))


def batch_first(a: np.ndarray) -> np.ndarray:
    """The ``(N, C, *S)`` view of a ``(C, *S, N)`` array (the inverse of `batch_last`)."""
    return a.transpose(a.ndim - 1, *range(a.ndim - 1))


def pad_batch(x: np.ndarray, pads: Pads) -> np.ndarray:
    """``(C, *S, N)`` with zeros around the spatial axes (the array itself without padding)."""
    if not any(b or a for b, a in pads):
        return x
    spatial = x.shape[1:-1]
    xp = np.zeros((x.shape[0], *(n + b + a for n, (b, a) in zip(spatial, pads, strict=True)),
                   x.shape[-1]), x.dtype)
    xp[(slice(None), *(slice(b, b + n) for n, (b, _) in zip(spatial, pads, strict=True)),
        slice(None))] = x
    return xp


def conv_windows(xp: np.ndarray, kernel: tuple[int, ...], dilation: tuple[int, ...],
                 out: tuple[int, ...]) -> np.ndarray:
    """Every window of a stride-1 convolution: ``(C * prod(K), prod(O) * N)`` from the padded
    ``(C, *P, N)``, rows in the order ``(c, *k)`` of a core kernel ``(F, C, *K)`` flattened.

    One copy through a read-only strided view ``(C, *K, *O, N)``; each of its inner runs is
    ``O[-1] * N`` contiguous numbers.
    """
    steps = xp.strides
    strides = (steps[0], *(s * d for s, d in zip(steps[1:-1], dilation, strict=True)),
               *steps[1:])
    view = np.ndarray((xp.shape[0], *kernel, *out, xp.shape[-1]), xp.dtype, xp, 0, strides)
    view.flags.writeable = False
    cols: np.ndarray = view.reshape(xp.shape[0] * math.prod(kernel), -1)  # copies
    return cols


def conv_input_grad(g: np.ndarray, w: np.ndarray, pads: Pads,
                    dilation: tuple[int, ...]) -> np.ndarray:
    """``dL/dx`` of a stride-1 convolution, ``(C, *S, N)``, from ``g`` = ``dL/dz`` ``(F, *O, N)``
    and the core kernel ``w`` ``(F, C, *K)``: the "full" convolution of ``g`` with the kernel
    flipped and its two channel axes swapped (``x[s] = sum_k w[k] g[s + before - k*d]``).

    Needs ``before, after <= d * (k - 1)`` on every axis (always so for "valid" and "same").
    """
    nd = w.ndim - 2
    kernel = w.shape[2:]
    full = tuple((d * (k - 1) - b, d * (k - 1) - a)
                 for k, d, (b, a) in zip(kernel, dilation, pads, strict=True))
    gp = pad_batch(g, full)
    spatial = tuple(p - d * (k - 1) for p, k, d in zip(gp.shape[1:-1], kernel, dilation,
                                                       strict=True))
    cols = conv_windows(gp, kernel, dilation, spatial)
    flipped = w[(slice(None), slice(None), *(slice(None, None, -1),) * nd)]
    wt = flipped.transpose(1, 0, *range(2, nd + 2)).reshape(w.shape[1], -1)
    grad: np.ndarray = (wt @ cols).reshape(w.shape[1], *spatial, g.shape[-1])
    return grad


def tiled_pool(x: np.ndarray, mode: str, kernel: tuple[int, ...]) -> np.ndarray:
    """Max or average pooling of ``(C, *S, N)`` by windows that tile it (stride = kernel,
    every ``S`` a multiple of the kernel): a running maximum (sum) over the taps' views."""
    taps = _taps(x, kernel)
    if len(taps) == 1:
        return taps[0].copy()
    out = np.maximum(taps[0], taps[1]) if mode == "max" else taps[0] + taps[1]
    for tap in taps[2:]:
        if mode == "max":
            np.maximum(out, tap, out=out)
        else:
            out += tap
    if mode == "avg":
        out /= x.dtype.type(math.prod(kernel))
    return out


def tiled_pool_grad(x: np.ndarray, pooled: np.ndarray, g: np.ndarray, mode: str,
                    kernel: tuple[int, ...]) -> np.ndarray:
    """``dL/dx`` of `tiled_pool` given its output ``pooled`` and ``g`` = ``dL/d pooled``.

    Max sends each window's gradient to the first tap (row-major) equal to the maximum, as
    PyTorch's autograd does: ``rest`` holds the gradient no earlier tap took. (NaN never equals
    the maximum: the caller takes the core's path when ``pooled`` holds one.)
    """
    grad = np.empty_like(x)
    targets = _taps(grad, kernel)
    if mode == "avg":
        share = g / x.dtype.type(math.prod(kernel))
        for target in targets:
            target[...] = share
        return grad
    taps = _taps(x, kernel)
    rest = g
    for i, (tap, target) in enumerate(zip(taps[:-1], targets, strict=False)):
        np.multiply(rest, tap == pooled, out=target)
        rest = rest - target if i == 0 else np.subtract(rest, target, out=rest)
    targets[-1][...] = rest  # what no earlier tap took: the last tap is the maximum there
    return grad


def _taps(x: np.ndarray, kernel: tuple[int, ...]) -> list[np.ndarray]:
    """The views ``x[:, i0::k0, i1::k1, ..., :]`` of every tap of tiling windows, row-major."""
    split = (x.shape[0], *(v for n, k in zip(x.shape[1:-1], kernel, strict=True)
                           for v in (n // k, k)), x.shape[-1])
    blocks = x.reshape(split)
    return [blocks[index] for index in _tap_indices(kernel)]


@functools.cache
def _tap_indices(kernel: tuple[int, ...]) -> tuple[tuple[Any, ...], ...]:
    """Per tap, its index into the blocks ``(C, O0, K0, O1, K1, ..., N)`` (built once)."""
    return tuple((slice(None), *(v for i in tap for v in (slice(None), i)), slice(None))
                 for tap in itertools.product(*map(range, kernel)))
