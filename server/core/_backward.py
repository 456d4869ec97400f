"""The arithmetic of `gradients.conv_backward`: shift-and-add over taps on flat phase planes.

Everything here takes arrays already checked and brought to full batched form in the working
dtype; the public functions in `gradients` do the validation and the shorthand. The planes
(`Grid`, `split`, `merge`, `widen`) serve the pooling gradients too (`_pool_backward`).

Layout (the idea of `methods.flat`, with the batch inside the planes): the padded input is split
into its stride phases ``xpad[..., p0::s0, p1::s1, ...]``, each phase laid out flat over the
whole batch ``(N, *Q)``, and the gradients are computed on that "wide" grid. Tap ``k`` then
reads, for every output position of every sample at once, one contiguous slice of phase
``k*d % s`` starting at the flat offset of ``k*d // s``. The wide positions that are not outputs
(past an output row, between samples) carry a zero output gradient, so they add nothing.
(Strided windows would cost NumPy an inner loop per output row, which dominates on small maps
such as 8x8 digits; a contiguous slice costs one per channel.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from .methods.plan import _source_index
from .padding import pad
from .shapes import Pads

COLS_BYTES = 16 * 2**20
"""Budget of the stacked tap windows of `conv_grads` (taps go in chunks that fit)."""


@dataclass(frozen=True)
class Grid:
    """The wide grid of a batch: phase planes, and where every tap reads in them."""

    padded: tuple[int, ...]  # padded spatial shape P (at least what the windows read)
    stride: tuple[int, ...]
    q: tuple[int, ...]  # phase-plane shape, ceil(P / s)
    out: tuple[int, ...]  # spatial output shape O
    samples: int
    phases: tuple[tuple[int, ...], ...]  # the phases some tap reads
    tap_phase: tuple[int, ...]  # per tap (row-major), index into `phases`
    tap_offset: tuple[int, ...]  # per tap, flat offset inside its phase plane
    length: int  # wide positions up to the last output of the last sample (the slices' length)

    @property
    def plane(self) -> int:
        """Flat length of one phase plane (every sample)."""
        return self.samples * math.prod(self.q)


    def reads(self, t: int) -> tuple[int, slice]:
        """Phase and slice of the flat planes that tap ``t`` reads for every wide position."""
        offset = self.tap_offset[t]
        return self.tap_phase[t], slice(offset, offset + self.length)


def grid(
    padded: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: tuple[int, ...],
    samples: int,
) -> Grid:
    q = tuple(-(-p // s) for p, s in zip(padded, stride, strict=True))
    steps = [math.prod(q[a + 1 :]) for a in range(len(q))]  # Python ints: no overflow
    shifts = [
        tuple(t * d for t, d in zip(tap, dilation, strict=True))
        for tap in product(*(range(k) for k in kernel))
    ]
    tap_phases = [tuple(v % s for v, s in zip(sh, stride, strict=True)) for sh in shifts]
    phases = tuple(sorted(set(tap_phases)))
    index = {p: i for i, p in enumerate(phases)}
    last = sum((o - 1) * st for o, st in zip(out, steps, strict=True))
    return Grid(
        padded=padded,
        stride=stride,
        q=q,
        out=out,
        samples=samples,
        phases=phases,
        tap_phase=tuple(index[p] for p in tap_phases),
        tap_offset=tuple(
            sum((v // s) * st for v, s, st in zip(sh, stride, steps, strict=True))
            for sh in shifts
        ),
        length=(samples - 1) * math.prod(q) + last + 1,
    )


def _phase_index(phase: tuple[int, ...], g: Grid) -> tuple[slice, ...]:
    return tuple(slice(p, None, s) for p, s in zip(phase, g.stride, strict=True))


def split(xp: np.ndarray, g: Grid, fill: float) -> np.ndarray:
    """``xp`` (R, N, *P) into flat phase planes (R, phases, N * prod(Q))."""
    rows = xp.shape[0]
    if all(s == 1 for s in g.stride):
        return xp.reshape(rows, 1, g.plane)
    planes = np.full((rows, len(g.phases), g.samples, *g.q), fill, xp.dtype)
    for i, phase in enumerate(g.phases):
        src = xp[(slice(None), slice(None), *_phase_index(phase, g))]
        dst: tuple[Any, ...] = (slice(None), i, slice(None), *(slice(0, n) for n in src.shape[2:]))
        planes[dst] = src
    return planes.reshape(rows, len(g.phases), g.plane)


def merge(planes: np.ndarray, g: Grid) -> np.ndarray:
    """Flat phase planes (R, phases, N * prod(Q)) back into (R, N, *P) (the inverse of split)."""
    rows = planes.shape[0]
    if all(s == 1 for s in g.stride):
        return planes.reshape(rows, g.samples, *g.padded)
    out = np.zeros((rows, g.samples, *g.padded), planes.dtype)
    for i, phase in enumerate(g.phases):
        dst = out[(slice(None), slice(None), *_phase_index(phase, g))]
        src = planes[:, i].reshape(rows, g.samples, *g.q)
        dst[...] = src[(slice(None), slice(None), *(slice(0, n) for n in dst.shape[2:]))]
    return out


def widen(values: np.ndarray, g: Grid) -> np.ndarray:
    """Output-shaped ``values`` (R, N, *O) on the wide grid (R, length), zeros elsewhere."""
    rows = values.shape[0]
    wide = np.zeros((rows, g.samples, *g.q), values.dtype)
    wide[(slice(None), slice(None), *(slice(0, o) for o in g.out))] = values
    return wide.reshape(rows, g.plane)[:, : g.length]


def fold_padding(grad: np.ndarray, pads: Pads, spatial: tuple[int, ...], mode: str) -> np.ndarray:
    """Gradient w.r.t. the input from the gradient w.r.t. the padded input (axes 2 on).

    Every padded position copied one input element (`_source_index`; none for zeros), so its
    gradient is added back there. Padding is separable, so is the fold: one axis at a time.
    """
    for a, ((before, _), n) in enumerate(zip(pads, spatial, strict=True)):
        if grad.shape[a + 2] == n:
            continue
        axis = a + 2
        index: list[Any] = [slice(None)] * grad.ndim
        index[axis] = slice(before, before + n)
        inner = grad[tuple(index)]
        if mode != "zeros":
            inner = inner.copy()
            padded = np.concatenate([np.arange(before), np.arange(before + n, grad.shape[axis])])
            source = _source_index(padded - before, n, mode)
            border = np.take(grad, padded, axis=axis)
            np.add.at(np.moveaxis(inner, axis, 0), source, np.moveaxis(border, axis, 0))
        grad = inner
    return grad


def conv_grads(
    x: np.ndarray,
    w: np.ndarray,
    g: np.ndarray,
    *,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pads,
    padding_mode: str,
    groups: int,
    cols_bytes: int = COLS_BYTES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a batched convolution: ``x`` (N, C, *S), ``w`` (F, C/G, *K), ``g`` (N, F, *O).

    Channels lead (``(C, N, *S)``), so each GEMM operand is one reshape: the windows of a chunk
    of taps are stacked into ``cols[c, tap, wide]`` (one contiguous copy per tap), then
    ``grad_w[G, Fg, (c, tap)] = g[G, Fg, wide] @ cols[G, (c, tap), wide]^T``, and
    ``cols = w^T @ g`` is added back into the planes, one contiguous add per tap (the
    transposed convolution).
    """
    samples, channels = x.shape[:2]
    filters, cg = w.shape[:2]
    fg = filters // groups
    kernel = tuple(int(k) for k in w.shape[2:])
    out = tuple(int(o) for o in g.shape[2:])
    spatial = tuple(int(s) for s in x.shape[2:])
    dtype = w.dtype
    ntaps = math.prod(kernel)

    padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads, strict=True))
    xt = np.moveaxis(x, 1, 0)  # (C, N, *S): channels lead
    if padding_mode == "zeros":  # pad, transpose and cast in one copy
        xp = np.zeros((channels, samples, *padded), dtype)
        xp[(slice(None), slice(None), *(slice(b, b + n) for (b, _), n in zip(
            pads, spatial, strict=True)))] = xt
    else:
        xc = np.ascontiguousarray(xt, dtype=dtype).reshape(channels * samples, *spatial)
        xp = pad(xc, pads, padding_mode).reshape(channels, samples, *padded)
    lay = grid(padded, kernel, stride, dilation, out, samples)
    planes = split(xp, lay, 0.0)
    length = lay.length
    gt = widen(np.moveaxis(g, 1, 0).astype(dtype, copy=False), lay).reshape(groups, fg, length)
    wt = w.reshape(groups, fg, cg, ntaps)

    grad_w = np.empty((groups, fg, cg, ntaps), dtype)
    grad_planes = np.zeros(planes.shape, dtype)
    chunk = int(max(1, min(ntaps, cols_bytes // max(channels * length * dtype.itemsize, 1))))
    buf = np.empty(channels * chunk * length, dtype)
    reads = [lay.reads(t) for t in range(ntaps)]
    for t0 in range(0, ntaps, chunk):
        t1 = min(t0 + chunk, ntaps)
        cols = buf[: channels * (t1 - t0) * length].reshape(channels, t1 - t0, length)
        for j, (phase, window) in enumerate(reads[t0:t1]):
            cols[:, j] = planes[:, phase, window]
        stacked = cols.reshape(groups, cg * (t1 - t0), length)
        part = np.matmul(gt, stacked.transpose(0, 2, 1))  # (G, Fg, Cg * taps)
        grad_w[..., t0:t1] = part.reshape(groups, fg, cg, t1 - t0)
        wc = wt[..., t0:t1].transpose(0, 2, 3, 1).reshape(groups, cg * (t1 - t0), fg)
        np.matmul(wc, gt, out=stacked)  # the windows' gradients, in the same buffer
        for j, (phase, window) in enumerate(reads[t0:t1]):
            grad_planes[:, phase, window] += cols[:, j]
    grad_xp = merge(grad_planes, lay)  # (C, N, *P)
    grad_x = fold_padding(grad_xp, pads, spatial, padding_mode)
    grad_bias = g.sum(axis=(0, *range(2, g.ndim)), dtype=dtype)
    return np.ascontiguousarray(np.moveaxis(grad_x, 0, 1)), grad_w.reshape(w.shape), grad_bias
