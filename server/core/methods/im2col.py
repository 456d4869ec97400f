"""Tiled im2col: one column matrix and one matrix product per tile of output rows.

For a tile of output rows, the column matrix ``col[(c, tap), j]`` is assembled from the shifted
rows of the flat stride-phase planes (`flat`), one strided copy per channel and tap that keeps
only the true output columns, and the tile of outputs is one GEMM written straight into the
output rows: ``out[F, j] = w[F, (c, tap)] @ col[(c, tap), j]``. The tile height keeps
the column matrix near `COL_BYTES`, which keeps the product near the machine's GEMM peak while
memory stays bounded. Best for many channels and filters with small kernels.
"""

from __future__ import annotations

import numpy as np

from . import blas
from .flat import FlatTiles, layout, row_tiles
from .plan import ConvPlan
from .scratch import scratch

COL_BYTES = 16 * 2**20
"""Target size of one tile's column matrix. 8 MiB was best on one thread (CPU time); 16 MiB
halves the number of GEMM calls, each a fork-join of OpenBLAS's threads that can cost a whole
scheduler slice when the machine is busy, for about 5% more work."""


def tile_rows(plan: ConvPlan, row: int) -> int:
    """Output rows per tile: the column matrix near `COL_BYTES`, within the tile budget."""
    cg, ntaps = plan.w.shape[1], int(np.prod(plan.kernel_shape))
    per_row = cg * ntaps * row * plan.dtype.itemsize
    budget = min(COL_BYTES, plan.tile_bytes)
    return int(max(1, min(plan.out_shape[0], budget // max(per_row, 1))))


def run(plan: ConvPlan, use_blas: bool | None = None) -> np.ndarray:
    """Convolve by tiled im2col + GEMM; returns ``(F, *O)`` without bias."""
    if use_blas is None:
        use_blas = blas.available(plan.dtype)
    lay = layout(plan)
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    fg = filters // plan.groups
    ntaps = int(np.prod(plan.kernel_shape))
    wmat = plan.w.reshape(plan.groups, fg, cg * ntaps)
    rows = tile_rows(plan, lay.row)
    tiles = FlatTiles(plan, lay, rows)
    inner = plan.out_shape[1:]
    per_row = int(np.prod(inner, dtype=np.int64))  # columns are exact output positions
    crop = (slice(None), slice(None)) + tuple(slice(0, n) for n in inner)
    out = np.empty((filters, plan.out_shape[0] * per_row), plan.dtype)
    col_buf = scratch("col", cg * ntaps * rows * per_row, plan.dtype)
    offsets = lay.tap_offset.tolist()
    phases = lay.tap_phase.tolist()
    for r0, r1 in row_tiles(plan.out_shape[0], rows):
        flat = tiles.fill(r0, r1)
        n = r1 - r0
        length = n * lay.row
        cols = col_buf[: cg * ntaps * n * per_row].reshape(cg, ntaps, n, *inner)
        target = out[:, r0 * per_row : r1 * per_row]  # the output rows themselves
        for g in range(plan.groups):
            planes = flat[g * cg : (g + 1) * cg]
            for t in range(ntaps):
                src = planes[:, phases[t], offsets[t] : offsets[t] + length]
                cols[:, t] = src.reshape(cg, n, *lay.rest)[crop]
            a, b = wmat[g], cols.reshape(cg * ntaps, n * per_row)
            if use_blas:  # straight into the output rows, no temporary
                blas.gemm_acc(a, b, target[g * fg : (g + 1) * fg], beta=0.0)
            else:
                np.matmul(a, b, out=target[g * fg : (g + 1) * fg])
    return out.reshape(filters, *plan.out_shape)
