"""Shift-and-add straight over the input: one BLAS axpy per filter, channel and tap.

For a handful of filters x channels (an RGB photo through one 3x3 filter, what the playground
runs on every slider move) the work is memory-bound, and the fastest way found (bench/README.md)
is the plainest: ``out[f] += w[f, c, i, j] * x[c, i:i+H, j:j+W]`` for every tap, as one axpy over
the flat, unpadded input planes into the flat output, which is its final C-contiguous array.
No padded copy of the input, no wide grid to crop: the output has the input's row width, so a
tap's shifted window of the output is one contiguous flat range of the input.

Exactness: along the rows, each tap only touches the output rows whose source row exists (zero
padding adds nothing elsewhere). Along the columns, a flat shift by ``s`` wraps the first or
last ``|s|`` columns of a row onto the neighbouring row; those border columns (``pad_left`` on
the left, ``pad_right`` on the right, 2 for a 3x3 "same") are then recomputed exactly from
zero-padded column strips. Runs (`supported`): 2 spatial axes, stride 1, zero padding, output
width equal to the input width, the input already C-contiguous in the working dtype (else a cast
copy of the whole input would break the memory bound), and NumPy's BLAS reachable.
Cost ``F * C/groups * prod(K)`` multiply-adds per output, in as many BLAS calls per row band;
memory: the output alone.
"""

from __future__ import annotations

import numpy as np

from . import blas
from .plan import ConvPlan

BAND_BYTES = 32 * 2**20
"""Output rows per band x (filters + channels) x row bytes at most. Measured (3x512x512, one
3x3 filter, one thread): the whole photo in one band beat bands of 8-128 rows by 1.4-4x (each
band costs a BLAS call per tap, and calls are not free), so bands only bound the call lengths on
very large photos."""


def supported(plan: ConvPlan) -> bool:
    """True when `run` can compute ``plan`` (see the module doc)."""
    if plan.ndim != 2 or plan.stride != (1, 1) or plan.padding_mode != "zeros":
        return False
    if not blas.available(plan.dtype):
        return False
    x = plan.x
    if x.dtype != plan.dtype or not x.flags.c_contiguous:
        return False
    (pl, pr), k1, d1 = plan.pads[1], plan.kernel_shape[1], plan.dilation[1]
    return plan.out_shape[1] == x.shape[2] and pl + pr == d1 * (k1 - 1)


def run(plan: ConvPlan) -> np.ndarray:
    """Convolve ``plan`` (which `supported`); returns ``(F, *O)`` without bias."""
    x, w = plan.x, plan.w
    channels, height, width = x.shape
    filters, cg, k0, k1 = w.shape
    fg = filters // plan.groups
    ho = plan.out_shape[0]
    (pt, _), (pl, _) = plan.pads
    d0, d1 = plan.dilation
    out = np.empty((filters, ho, width), plan.dtype)
    item = plan.dtype.itemsize
    axpy = blas.axpy_raw(plan.dtype)
    x_ptr, out_ptr = x.ctypes.data, out.ctypes.data
    plane, oplane = height * width, ho * width
    # taps ordered from the kernel's middle row outwards: the first one covers the most rows
    mid = min(range(k0), key=lambda i: abs(i * d0 - pt))
    taps = sorted(((i, j) for i in range(k0) for j in range(k1)), key=lambda t: abs(t[0] - mid))
    weights = w.tolist()
    band = max(1, min(ho, BAND_BYTES // max((channels + filters) * width * item, 1)))
    for r0 in range(0, ho, band):
        r1 = min(r0 + band, ho)
        for f in range(filters):
            g = f // fg
            acc = out[f].reshape(-1)[r0 * width : r1 * width]
            started = False
            for cl in range(cg):
                c = g * cg + cl
                wf = weights[f][cl]
                for i, j in taps:
                    # output rows whose source row r - pt + i*d0 lies inside the input
                    ra, rb = max(r0, pt - i * d0), min(r1, height + pt - i * d0)
                    if rb <= ra:
                        continue
                    shift = (i * d0 - pt) * width + j * d1 - pl  # source = output + shift
                    o0, o1 = ra * width, rb * width
                    o0 = max(o0, -shift)  # clipped cells lie in the border columns
                    o1 = min(o1, plane - shift)
                    if o1 <= o0:
                        continue
                    wv = wf[i][j]
                    if not started:
                        if (o0, o1) != (r0 * width, r1 * width):
                            acc[...] = 0
                        else:
                            src = x.reshape(channels, -1)[c, o0 + shift : o1 + shift]
                            np.multiply(src, wv, out=acc)
                            started = True
                            continue
                        started = True
                    axpy(
                        o1 - o0,
                        wv,
                        x_ptr + (c * plane + o0 + shift) * item,
                        1,
                        out_ptr + (f * oplane + o0) * item,
                        1,
                    )
            if not started:
                acc[...] = 0
    _fix_borders(plan, out)
    return out


def _fix_borders(plan: ConvPlan, out: np.ndarray) -> None:
    """Recompute the output columns a flat shift wrapped (``pad_left`` on the left,
    ``pad_right`` on the right) exactly, from zero-padded strips of the input columns."""
    x, w = plan.x, plan.w
    channels, height, width = x.shape
    filters, cg, k0, k1 = w.shape
    fg = filters // plan.groups
    (pt, pb), (pl, pr) = plan.pads
    d0, d1 = plan.dilation
    ho = out.shape[1]
    cols = sorted(set(range(min(pl, width))) | set(range(max(width - pr, 0), width)))
    if not cols:
        return
    for j in cols:
        src = [j - pl + jj * d1 for jj in range(k1)]
        strip = np.zeros((channels, height + pt + pb, k1), plan.dtype)
        for jj, col in enumerate(src):
            if 0 <= col < width:
                strip[:, pt : pt + height, jj] = x[:, :, col]
        acc = np.zeros((filters, ho), plan.dtype)
        for i in range(k0):
            rows = strip[:, i * d0 : i * d0 + ho, :]  # (C, ho, k1)
            for g in range(plan.groups):
                fs = slice(g * fg, (g + 1) * fg)
                acc[fs] += np.einsum("fck,chk->fh", w[fs, :, i, :], rows[g * cg : (g + 1) * cg])
        out[:, :, j] = acc
