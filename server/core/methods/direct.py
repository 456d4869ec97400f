"""Shift-and-add over kernel taps on flat stride-phase planes (see `flat`).

For every tile of output rows and every tap, the whole tile of outputs is updated at once from one
contiguous slice of a phase plane: ``acc[f] += w[f, c, tap] * plane[c, offset(tap):...]`` (one
axpy per filter, channel and tap), or one matrix product per tap
(``acc[F] += w[:, :, tap] @ plane[C, offset:...]``, the planes read in place through the BLAS
leading dimension). Tiles are sized so the accumulators and planes stay in the CPU cache across
the taps. With NumPy's bundled BLAS reachable (`blas`) each update is one in-place BLAS call;
otherwise NumPy does it with a temporary, in cache-sized chunks.
Two variants with BLAS (`choose.direct_variant`): for a handful of filters x channels on an
input it can read in place, one axpy per filter, channel and tap straight over the input
(`taps`); at stride 1 with few channels, the last axis' taps stacked and one GEMM per kernel row
(`_run_rows`).
Cost ``F * C/groups * prod(K)`` multiply-adds per output; memory: the output and one tile.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import blas, taps
from .choose import direct_variant
from .flat import FlatLayout, FlatTiles, WideOutput, layout, row_tiles
from .plan import ConvPlan
from .scratch import scratch

CHUNK_BYTES = 256 * 2**10
"""Bytes of one accumulator chunk (plus its inputs), to stay within the L2 cache of one core."""

TILE_BYTES = 8 * 2**20
"""Input planes and accumulators of one tile at most, NumPy path (within the tile budget)."""

CACHE_BYTES = 1 * 2**20
"""Input planes and accumulators of one tile, BLAS path, when the per-tap products are
memory-bound (few filters or channels): they stay in the L2 cache across the taps."""

BLAS_TILE_BYTES = 32 * 2**20
"""The same when the per-tap products are compute-bound (`DENSE_INTENSITY`): big tiles mean few
BLAS calls, each worth sharing between threads."""

DENSE_INTENSITY = 8.0
"""Multiply-adds per element moved, ``Fg*Cg / (Fg + Cg)``, from which a per-tap GEMM is
compute-bound (64 channels x 64 filters: 32; an RGB photo through 8 filters: 2.2)."""

ROWS_TILE_BYTES = 4 * 2**20
"""Stacked planes and accumulators of one tile, `_run_rows` (measured on 16 5x5 filters over
an RGB 1024x1024 photo, one thread: 512 KiB-1 MiB 60 ms, 2 MiB 56, 4 MiB 53)."""

AXPY_MAX = 4
"""NumPy path: filters x channels per group up to which one multiply-add per (filter, channel,
tap) beats a small matrix product per tap. (The BLAS path always uses GEMMs: OpenBLAS keeps
small ones on one thread, which matters on a busy machine, and they cost the same as axpys.)"""


def _tile_rows(plan: ConvPlan, row: int, budget: int) -> int:
    channels, filters = plan.x.shape[0], plan.w.shape[0]
    per_row = (channels * int(np.prod(plan.stride)) + filters) * row * plan.dtype.itemsize
    budget = min(budget, plan.tile_bytes)
    return int(max(1, min(plan.out_shape[0], budget // max(per_row, 1))))


def run(plan: ConvPlan, use_blas: bool | None = None) -> np.ndarray:
    """Convolve by shift-and-add; returns ``(F, *O)`` without bias.

    With BLAS, a handful of filters x channels on an input `taps` can take in place runs there
    (one axpy per filter, channel and tap, straight over the input: `choose.direct_variant`).
    """
    if use_blas is None:
        use_blas = blas.available(plan.dtype)
    if not use_blas:
        return _run_numpy(plan)
    variant = direct_variant(plan)
    if variant == "taps":
        return taps.run(plan)
    if variant == "rows":
        return _run_rows(plan)
    return _run_blas(plan)


def _sweep(
    plan: ConvPlan,
    lay: FlatLayout,
    rows: int,
    compute: Callable[[slice, np.ndarray, np.ndarray, int], None],
) -> np.ndarray:
    """Walk the output in tiles of ``rows`` rows and, per group, call
    ``compute(filters, planes, acc, length)`` to fill ``acc`` (that group's wide output rows,
    ``length`` columns) from ``planes`` (its channels' flat phase planes)."""
    fg, cg = plan.w.shape[0] // plan.groups, plan.w.shape[1]
    tiles = FlatTiles(plan, lay, rows)
    output = WideOutput(plan, lay, rows)
    for r0, r1 in row_tiles(plan.out_shape[0], rows):
        flat = tiles.fill(r0, r1)
        wide = output.tile(r0, r1)
        for g in range(plan.groups):
            fs = slice(g * fg, (g + 1) * fg)
            compute(fs, flat[g * cg : (g + 1) * cg], wide[fs], (r1 - r0) * lay.row)
        output.done(wide, r0, r1)
    return output.result()


def _run_blas(plan: ConvPlan) -> np.ndarray:
    """One in-place GEMM per tap and group: ``acc += w[:, :, tap] @ planes[:, shifted]``.

    (Stacking the last axis' taps into deeper GEMMs was measured too: the saved passes over the
    accumulators cost as much as the extra plane copies.)
    """
    lay = layout(plan)
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    fg = filters // plan.groups
    ntaps = int(np.prod(plan.kernel_shape))
    per_tap = np.ascontiguousarray(plan.w.reshape(filters, cg, ntaps).transpose(2, 0, 1))
    dense = fg * cg / (fg + cg) >= DENSE_INTENSITY
    rows = _tile_rows(plan, lay.row, BLAS_TILE_BYTES if dense else CACHE_BYTES)
    offsets = lay.tap_offset.tolist()
    phases = lay.tap_phase.tolist()

    def compute(fs: slice, planes: np.ndarray, acc: np.ndarray, length: int) -> None:
        for t in range(ntaps):
            src = planes[:, phases[t], offsets[t] : offsets[t] + length]
            blas.gemm_acc(per_tap[t, fs], src, acc, beta=0.0 if t == 0 else 1.0)

    return _sweep(plan, lay, rows, compute)


def _run_rows(plan: ConvPlan) -> np.ndarray:
    """Stride 1: the taps of the last axis stacked, one GEMM per tap of the other axes.

    Per tile, ``E[(c, j), p] = plane[c, p + j * d_last]`` (``C/groups * k_last`` shifted copies
    of the planes, a little longer than the tile); then for every tap ``i`` of the other axes,
    ``acc += w[:, :, i, :] @ E[:, offset(i) : offset(i) + length]``, read in place through the
    leading dimension: ``prod(K) / k_last`` passes over the accumulators instead of ``prod(K)``,
    and ``k_last`` copies per channel instead of im2col's ``prod(K)``.
    """
    lay = layout(plan)
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    k_last, d_last = plan.kernel_shape[-1], plan.dilation[-1]
    lead = int(np.prod(plan.kernel_shape[:-1]))
    # (lead, F, C/groups * k_last): the weights of one leading tap, channels then last-axis taps
    w_rows = np.ascontiguousarray(
        np.moveaxis(plan.w.reshape(filters, cg, lead, k_last), 2, 0).reshape(lead, filters, -1)
    )
    offsets = lay.tap_offset.reshape(lead, k_last)[:, 0].tolist()  # flat shift of leading taps
    reach = max(offsets)
    per_row = (cg * k_last + filters) * lay.row * plan.dtype.itemsize
    rows = int(max(1, min(plan.out_shape[0], min(ROWS_TILE_BYTES, plan.tile_bytes) // per_row)))
    width = rows * lay.row + reach
    stack = scratch("col", cg * k_last * width, plan.dtype).reshape(cg * k_last, width)

    def compute(fs: slice, planes: np.ndarray, acc: np.ndarray, length: int) -> None:
        ext = length + reach
        for c in range(cg):
            for j in range(k_last):
                stack[c * k_last + j, :ext] = planes[c, 0, j * d_last : j * d_last + ext]
        for i, off in enumerate(offsets):
            src = stack[:, off : off + length]
            blas.gemm_acc(w_rows[i, fs], src, acc, beta=0.0 if i == 0 else 1.0)

    return _sweep(plan, lay, rows, compute)


def _run_numpy(plan: ConvPlan) -> np.ndarray:
    lay = layout(plan)
    filters, cg = plan.w.shape[0], plan.w.shape[1]
    fg = filters // plan.groups
    taps = plan.w.reshape(filters, cg, -1)
    rows = _tile_rows(plan, lay.row, TILE_BYTES)
    chunk = max(1024, CHUNK_BYTES // (plan.dtype.itemsize * (cg + fg + 1)))
    tmp_buf = scratch("direct", fg * chunk, plan.dtype).reshape(fg, chunk)
    offsets = lay.tap_offset.tolist()
    phases = lay.tap_phase.tolist()
    use_axpy = fg * cg <= AXPY_MAX

    def compute(fs: slice, planes: np.ndarray, acc: np.ndarray, length: int) -> None:
        wg = taps[fs]
        for j0 in range(0, length, chunk):
            j1 = min(j0 + chunk, length)
            tmp = tmp_buf[:, : j1 - j0]
            if use_axpy:
                _axpy_chunk(acc[:, j0:j1], tmp[0], wg, planes, phases, offsets, j0, j1)
            else:
                _gemm_chunk(acc[:, j0:j1], tmp, wg, planes, phases, offsets, j0, j1)

    return _sweep(plan, lay, rows, compute)


def _axpy_chunk(
    acc: np.ndarray,
    tmp: np.ndarray,
    wg: np.ndarray,
    planes: np.ndarray,
    phases: list[int],
    offsets: list[int],
    j0: int,
    j1: int,
) -> None:
    """acc[f] = sum over channels and taps of w * shifted plane (one multiply-add each)."""
    fg, cg, ntaps = wg.shape
    for f in range(fg):
        a = acc[f]
        first = True
        for c in range(cg):
            for t in range(ntaps):
                src = planes[c, phases[t], offsets[t] + j0 : offsets[t] + j1]
                wv = wg[f, c, t]
                if first:
                    np.multiply(src, wv, out=a)
                    first = False
                else:
                    np.multiply(src, wv, out=tmp)
                    a += tmp


def _gemm_chunk(
    acc: np.ndarray,
    tmp: np.ndarray,
    wg: np.ndarray,
    planes: np.ndarray,
    phases: list[int],
    offsets: list[int],
    j0: int,
    j1: int,
) -> None:
    """acc = sum over taps of w[:, :, tap] @ shifted planes (one small GEMM per tap)."""
    for t in range(wg.shape[2]):
        src = planes[:, phases[t], offsets[t] + j0 : offsets[t] + j1]
        if t == 0:
            np.matmul(wg[:, :, 0], src, out=tmp)
            acc[...] = tmp
        else:
            np.matmul(wg[:, :, t], src, out=tmp)
            acc += tmp
