"""The arithmetic of `gradients.pool_backward`: max and average pooling's gradients.

Windows that tile the input (stride = kernel, no padding) take a short path: every input
element is in at most one window. Any other geometry walks the kernel taps on the flat
stride-phase planes of `_backward` (one contiguous slice per tap for every window at once).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._backward import grid, merge, split, widen
from .shapes import Pads


def _first_valid_tap(
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pads,
    out: tuple[int, ...],
) -> np.ndarray:
    """Per window (shape O), the first tap inside the input: PyTorch's index when no value wins."""
    per_axis = []
    for k, s, d, (before, _), o in zip(kernel, stride, dilation, pads, out, strict=True):
        start = np.arange(o) * s - before
        first = np.where(start < 0, (-start + d - 1) // d, 0)
        per_axis.append(np.minimum(first, k - 1))
    return np.ravel_multi_index(np.ix_(*per_axis), kernel)


GATHER_MAX = 2**18
"""Inputs up to this many elements take max pooling's tiled path through cached indices."""


@functools.lru_cache(maxsize=16)
def _tile_index(shape: tuple[int, ...], kernel: tuple[int, ...]) -> np.ndarray:
    """Flat input index of every tap of every window, (taps, windows), for tiling windows."""
    nd = len(kernel)
    out = tuple(n // k for n, k in zip(shape[1:], kernel, strict=True))
    split = (shape[0], *(v for o, k in zip(out, kernel, strict=True) for v in (o, k)))
    crop = (slice(None), *(slice(0, o * k) for o, k in zip(out, kernel, strict=True)))
    order = (*range(2, 2 * nd + 1, 2), 0, *range(1, 2 * nd, 2))  # (*K, B, *O)
    flat = np.arange(math.prod(shape)).reshape(shape)[crop].reshape(split).transpose(order)
    index = np.ascontiguousarray(flat.reshape(math.prod(kernel), -1))
    index.flags.writeable = False
    return index


def _pool_tiled(x: np.ndarray, g: np.ndarray, mode: str, kernel: tuple[int, ...]) -> np.ndarray:
    """Windows that tile the input (stride = kernel, no padding, no dilation or overhang).

    Every input element is then in at most one window. Average: ``g / prod(K)`` written
    through a view of the gradient reshaped to ``(B, O0, K0, O1, K1, ...)``. Max: the windows
    gathered as rows of a ``(taps, windows)`` array (the index is cached per shape; NumPy's
    strided loops over rows as short as a digit's are slow), the first maximum by ``argmax``
    (which returns the first of equal values), and the gradient put back through the same
    index. Cells past the last window (``n > O*K``) get zeros.
    """
    nd = len(kernel)
    out = g.shape[1:]
    grad = np.zeros(x.shape, g.dtype)
    if mode == "avg":
        split = (x.shape[0], *(v for o, k in zip(out, kernel, strict=True) for v in (o, k)))
        crop = (slice(None), *(slice(0, o * k) for o, k in zip(out, kernel, strict=True)))
        order = (0, *range(1, 2 * nd, 2), *range(2, 2 * nd + 1, 2))  # (B, *O, *K)
        target = grad[crop].reshape(split).transpose(order)  # splitting axes: still a view
        target[...] = (g / math.prod(kernel))[(..., *(None,) * nd)]
        return grad
    index = _tile_index(tuple(int(n) for n in x.shape), kernel)
    first = np.argmax(x.reshape(-1)[index], axis=0)
    grad.reshape(-1)[index[first, np.arange(first.size)]] = g.reshape(-1)
    return grad


def pool_grads(
    x: np.ndarray,
    g: np.ndarray,
    *,
    mode: str,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pads,
    extent: tuple[int, ...],
    divisor: np.ndarray | None,
) -> np.ndarray:
    """Gradient of max or average pooling of ``x`` (B, *S) given ``g`` (B, *O) (B: planes).

    Max: a running argmax over the taps in row-major order (`>`, so the first maximum wins;
    NaN always wins, so the last NaN does, as in PyTorch's CPU kernel), then each tap adds the
    gradients of the windows it won. Avg: each tap adds ``g / divisor``. Padding is cropped.
    """
    samples, spatial = x.shape[0], tuple(int(n) for n in x.shape[1:])
    out = tuple(int(o) for o in g.shape[1:])
    tiled = (
        stride == kernel
        and all(d == 1 for d in dilation)
        and not any(b or a for b, a in pads)
        and all(e <= n for e, n in zip(extent, spatial, strict=True))
    )
    # NaN: argmax would pick the first NaN where PyTorch picks the last
    if tiled and (mode == "avg" or (x.size <= GATHER_MAX and not np.isnan(x).any())):
        return _pool_tiled(x, g, mode, kernel)
    widths = [(0, 0)] + [
        (before, max(e - before - n, 0)) for (before, _), e, n in zip(pads, extent, spatial,
                                                                       strict=True)
    ]
    padded = tuple(b + n + a for (b, a), n in zip(widths[1:], spatial, strict=True))
    inner = (slice(None), *(slice(b, b + n) for (b, _), n in zip(widths[1:], spatial,
                                                                 strict=True)))
    lay = grid(padded, kernel, stride, dilation, out, samples)
    ntaps, length = len(lay.tap_phase), lay.length
    reads = [lay.reads(t) for t in range(ntaps)]
    grad_planes = np.zeros((len(lay.phases), lay.plane), g.dtype)
    if mode == "max":
        xp = np.pad(x, widths, mode="constant", constant_values=-np.inf) if any(
            b or a for b, a in widths) else x
        planes = split(xp[None], lay, -np.inf)[0]
        nan = bool(np.isnan(x).any())  # NaN wins every comparison (checked once, not per tap)
        best = np.full(length, -np.inf, x.dtype)
        winner = np.full(length, -1, np.intp)
        better = np.empty(length, bool)
        for t, (phase, window) in enumerate(reads):
            v = planes[phase, window]
            np.greater(v, best, out=better)
            if nan:
                better |= np.isnan(v)
            np.copyto(best, v, where=better)
            np.copyto(winner, t, where=better)
        gw = widen(g[None], lay)[0]
        unset = (winner < 0) & (gw != 0)  # all -inf (or padding): PyTorch keeps the first tap
        if unset.any():
            first = _first_valid_tap(kernel, stride, dilation, pads, out)
            firsts = widen(np.broadcast_to(first, g.shape)[None], lay)[0]
            winner = np.where(unset, firsts, winner)
        # every window's gradient goes to one place: one weighted count over the flat planes
        start = np.array(
            [phase * lay.plane + window.start for phase, window in reads], np.intp
        )
        target = start[np.maximum(winner, 0)] + np.arange(length)
        grad_planes = np.bincount(target, weights=gw, minlength=grad_planes.size).astype(
            g.dtype, copy=False).reshape(grad_planes.shape)
    else:
        assert divisor is not None
        share = widen((g / divisor.astype(g.dtype))[None], lay)[0]
        for phase, window in reads:
            grad_planes[phase, window] += share
    grad: np.ndarray = merge(grad_planes[None], lay)[0][inner]
    return grad
