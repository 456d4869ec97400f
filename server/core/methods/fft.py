"""FFT convolution (overlap-save in row tiles), for large kernels.

Each tile of padded input rows is transformed once per channel (``rfftn``), multiplied by the
conjugate spectrum of every (dilated) filter, summed over the channels of its group in the
frequency domain, and transformed back once per filter. Cost per tile about
``(C + F) * N log N + F * C/groups * N`` for ``N`` padded samples, independent of the kernel size,
which is why it wins for kernels of about 11 taps per axis and more. It computes every position of
a stride-1 correlation, so `choose` picks it only for stride 1 (with a stride it still works,
taking every ``s``-th result). Memory: spectra of one tile, within the tile budget, plus the
filter spectra.
"""

from __future__ import annotations

import numpy as np

from .flat import row_tiles
from .plan import ConvPlan, padded_rows


def fast_len(n: int) -> int:
    """Smallest ``2**a * 3**b * 5**c * 7**d >= n`` (a size pocketfft transforms quickly).

    >>> fast_len(541), fast_len(512)
    (560, 512)
    """
    best = 1 << max(n - 1, 0).bit_length()
    p7 = 1
    while p7 < best:
        p5 = p7
        while p5 < best:
            p3 = p5
            while p3 < best:
                p2 = p3
                while p2 < n:
                    p2 *= 2
                best = min(best, p2)
                p3 *= 3
            p5 *= 5
        p7 *= 7
    return best


def _dilated(w: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    if all(d == 1 for d in dilation):
        return w
    k = w.shape[2:]
    span = tuple(d * (n - 1) + 1 for d, n in zip(dilation, k, strict=True))
    wd = np.zeros(w.shape[:2] + span, w.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    return wd


def run(plan: ConvPlan) -> np.ndarray:
    """Convolve with the FFT; returns ``(F, *O)`` without bias."""
    nd, s = plan.ndim, plan.stride
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    fg = filters // plan.groups
    channels = plan.x.shape[0]
    wd = _dilated(plan.w, plan.dilation)
    span = wd.shape[2:]
    padded = plan.padded_shape
    rest = tuple(fast_len(n) for n in padded[1:])
    csize = 2 * plan.dtype.itemsize
    per_row = (channels + 2 * filters + filters * cg) * csize * int(np.prod(rest, dtype=np.int64))
    per_row = per_row * (rest[-1] // 2 + 1) // rest[-1] if rest else per_row
    target = max(2 * span[0], plan.tile_bytes // max(per_row, 1))
    rows = int(min(plan.out_shape[0], max(1, (target - span[0]) // s[0] + 1)))
    fs = (fast_len((rows - 1) * s[0] + span[0]), *rest)
    axes = tuple(range(1, nd + 1))
    spec = np.conj(np.fft.rfftn(wd, s=fs, axes=tuple(range(2, nd + 2))))
    out = np.empty((filters, *plan.out_shape), plan.dtype)
    keep = tuple(slice(0, o * si, si) for o, si in zip(plan.out_shape[1:], s[1:], strict=True))
    for r0, r1 in row_tiles(plan.out_shape[0], rows):
        a, b = plan.rows_needed(r0, r1)
        tile = padded_rows(plan, a, b)
        xs = np.fft.rfftn(tile, s=fs, axes=axes)
        for g in range(plan.groups):
            acc = np.zeros((fg, *xs.shape[1:]), xs.dtype)
            for c in range(cg):
                acc += spec[g * fg : (g + 1) * fg, c] * xs[g * cg + c]
            y = np.fft.irfftn(acc, s=fs, axes=axes)
            out[g * fg : (g + 1) * fg, r0:r1] = y[
                (slice(None), slice(0, (r1 - r0) * s[0], s[0])) + keep
            ]
    return out
