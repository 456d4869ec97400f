"""Tiled im2col: one column matrix and one matrix product per tile of output rows.

For a tile of output rows, the column matrix ``col[(c, tap), j]`` is assembled from contiguous
slices of the flat stride-phase planes (`_flat`), one slice copy per channel and tap, and the tile
of outputs is one GEMM: ``wide[F, j] = w[F, (c, tap)] @ col[(c, tap), j]``. The tile height keeps
the column matrix near `COL_BYTES`, which keeps the product near the machine's GEMM peak while
memory stays bounded. Best for many channels and filters with small kernels.
"""

from __future__ import annotations

import numpy as np

from . import _blas
from ._flat import FlatTiles, WideOutput, layout, row_tiles
from ._plan import ConvPlan
from ._scratch import scratch

COL_BYTES = 4 * 2**20
"""Target size of one tile's column matrix (measured in bench/crossover.md)."""


def tile_rows(plan: ConvPlan, row: int) -> int:
    """Output rows per tile: the column matrix near `COL_BYTES`, within the tile budget."""
    cg, ntaps = plan.w.shape[1], int(np.prod(plan.kernel_shape))
    per_row = cg * ntaps * row * plan.dtype.itemsize
    budget = min(COL_BYTES, plan.tile_bytes)
    return int(max(1, min(plan.out_shape[0], budget // max(per_row, 1))))


def run(plan: ConvPlan, use_blas: bool | None = None) -> np.ndarray:
    """Convolve by tiled im2col + GEMM; returns ``(F, *O)`` without bias."""
    if use_blas is None:
        use_blas = _blas.available(plan.dtype)
    lay = layout(plan)
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    fg = filters // plan.groups
    ntaps = int(np.prod(plan.kernel_shape))
    wmat = plan.w.reshape(plan.groups, fg, cg * ntaps)
    rows = tile_rows(plan, lay.row)
    tiles = FlatTiles(plan, lay, rows)
    output = WideOutput(plan, lay, rows)
    col_buf = scratch("col", cg * ntaps * rows * lay.row, plan.dtype)
    offsets = lay.tap_offset.tolist()
    phases = lay.tap_phase.tolist()
    for r0, r1 in row_tiles(plan.out_shape[0], rows):
        flat = tiles.fill(r0, r1)
        length = (r1 - r0) * lay.row
        cols = col_buf[: cg * ntaps * length].reshape(cg, ntaps, length)
        wide = output.tile(r0, r1)
        for g in range(plan.groups):
            planes = flat[g * cg : (g + 1) * cg]
            for t in range(ntaps):
                cols[:, t] = planes[:, phases[t], offsets[t] : offsets[t] + length]
            a, b = wmat[g], cols.reshape(cg * ntaps, length)
            if use_blas:  # straight into the (strided) output, no temporary
                _blas.gemm_acc(a, b, wide[g * fg : (g + 1) * fg], beta=0.0)
            else:
                np.matmul(a, b, out=wide[g * fg : (g + 1) * fg])
        output.done(wide, r0, r1)
    return output.result()
