"""Flat stride-phase planes: every kernel tap becomes one contiguous slice.

For a tile of output rows, the padded input rows it reads are split into stride phases
(``xpad[c, p0::s0, p1::s1, ...]``), each phase plane is laid out flat with the same row widths,
and the output is computed on a "wide" grid of those widths. Then tap ``k`` reads, for every
output position at once, the contiguous slice of phase ``k*d % s`` starting at
``sum((k*d // s) * row_stride)``: no strided gathers, no computing at stride 1 and subsampling.
The few wide columns past the true output width are cropped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

import numpy as np

from .plan import ConvPlan, padded_rows
from .scratch import scratch


@dataclass(frozen=True)
class FlatLayout:
    """Geometry shared by every tile of one convolution."""

    unit_stride: bool  # one phase, the padded input itself
    phases: tuple[tuple[int, ...], ...]  # phase index -> per-axis phase (only those taps read)
    tap_phase: np.ndarray  # (T,) phase index of every tap (kernel taps in C order)
    tap_offset: np.ndarray  # (T,) flat offset of every tap inside its phase plane
    rest: tuple[int, ...]  # phase-plane widths of the axes after the first
    row: int  # flat length of one row (prod(rest))
    q0: int  # largest shift, in phase rows, along axis 0

    def plane_len(self, rows: int) -> int:
        """Flat length of one phase plane for ``rows`` output rows (with tail slack)."""
        return (rows + self.q0 + 1) * self.row


def layout(plan: ConvPlan) -> FlatLayout:
    s, d, k = plan.stride, plan.dilation, plan.kernel_shape
    padded = plan.padded_shape
    rest = tuple(-(-n // si) for n, si in zip(padded[1:], s[1:], strict=True))
    strides = [int(np.prod(rest[i:], dtype=np.int64)) for i in range(len(rest) + 1)]
    shifts = [
        [t * di for t, di in zip(tap, d, strict=True)] for tap in product(*(range(ki) for ki in k))
    ]
    # only the phases some tap reads: at most one per tap, however large the stride
    tap_phases = [tuple(v % si for v, si in zip(sh, s, strict=True)) for sh in shifts]
    phases = tuple(sorted(set(tap_phases)))
    index = {p: i for i, p in enumerate(phases)}
    tap_phase = [index[p] for p in tap_phases]
    tap_offset = [
        sum((v // si) * st for v, si, st in zip(sh, s, strides, strict=True)) for sh in shifts
    ]
    return FlatLayout(
        unit_stride=all(si == 1 for si in s),
        phases=phases,
        tap_phase=np.array(tap_phase, dtype=np.intp),
        tap_offset=np.array(tap_offset, dtype=np.intp),
        rest=rest,
        row=strides[0],
        q0=(d[0] * (k[0] - 1)) // s[0],
    )


class FlatTiles:
    """Fills reusable flat phase-plane buffers for consecutive tiles of output rows."""

    def __init__(self, plan: ConvPlan, lay: FlatLayout, rows: int) -> None:
        self.plan, self.lay, self.rows = plan, lay, rows
        channels = plan.x.shape[0]
        shape = (channels, len(lay.phases), lay.plane_len(rows))
        self.flat = scratch("flat", int(np.prod(shape)), plan.dtype).reshape(shape)
        # cells past the data feed only cropped outputs, but must hold finite values: zero them
        # once (the tiles below rewrite the same data cells every time)
        if lay.unit_stride:
            self.flat[:, :, (rows + lay.q0) * lay.row :] = 0
        else:
            self.flat[...] = 0
        self._stage: np.ndarray | None = None

    def fill(self, r0: int, r1: int) -> np.ndarray:
        """Phase planes for output rows ``r0 <= r < r1``: array (C, phases, flat length)."""
        plan, lay = self.plan, self.lay
        a, b = plan.rows_needed(r0, r1)
        channels = plan.x.shape[0]
        m0 = r1 - r0 + lay.q0
        if lay.unit_stride:
            view = self.flat[:, 0, : (b - a) * lay.row].reshape(channels, b - a, *lay.rest)
            padded_rows(plan, a, b, out=view)
            return self.flat
        if plan.padding_mode == "zeros":
            self._fill_phases_from_input(a, b, m0)
            return self.flat
        shape = (channels, b - a, *plan.padded_shape[1:])
        if self._stage is None:
            full = plan.rows_needed(0, self.rows)
            self._stage = scratch(
                "stage",
                channels * (full[1] - full[0]) * int(np.prod(shape[2:], dtype=np.int64)),
                plan.dtype,
            )
        tile = padded_rows(plan, a, b, out=self._stage[: int(np.prod(shape))].reshape(shape))
        for i, ph in enumerate(lay.phases):
            src = tile[
                (slice(None),)
                + tuple(slice(p, None, si) for p, si in zip(ph, plan.stride, strict=True))
            ]
            dst = self.flat[:, i, : m0 * lay.row].reshape(channels, m0, *lay.rest)
            dst[(slice(None),) + tuple(slice(0, n) for n in src.shape[1:])] = src
        return self.flat


    def _fill_phases_from_input(self, a: int, b: int, m0: int) -> None:
        """Zero padding: copy every phase plane straight from the input, one strided copy each.

        (Padding the rows into a staging tile first, then splitting it, moves the data twice;
        that is the only way for the reflecting modes.) Only cells that hold input are written,
        plus the phase rows that fall in the top or bottom padding: the padding columns were
        zeroed when the buffer was set up and no tile writes them.
        """
        plan, lay = self.plan, self.lay
        channels = plan.x.shape[0]
        firsts = (a,) + (0,) * (plan.ndim - 1)  # padded coordinate of phase index 0, per axis
        lasts = (b,) + plan.padded_shape[1:]  # padded coordinates end here (exclusive)
        for i, ph in enumerate(lay.phases):
            dst = self.flat[:, i, : m0 * lay.row].reshape(channels, m0, *lay.rest)
            src_index: list[slice] = [slice(None)]
            dst_index: list[slice] = [slice(None)]
            for axis, (p, s, first, last, n, (before, _)) in enumerate(
                zip(ph, plan.stride, firsts, lasts, plan.x.shape[1:], plan.pads, strict=True)
            ):
                count = len(range(first + p, last, s))  # phase cells of this tile on the axis
                # phase index j sits at padded coordinate first + p + s*j, input index minus before
                start = first + p - before
                lo = -(start // s) if start < 0 else 0  # ceil(-start / s)
                hi = min(count, -(-(n - start) // s)) if n > start else 0
                hi = max(hi, lo)
                if axis == 0:
                    dst[:, :lo] = 0
                    dst[:, hi:count] = 0
                src_index.append(slice(start + s * lo, start + s * hi, s))
                dst_index.append(slice(lo, hi))
            if all(sl.stop > sl.start for sl in dst_index[1:]):
                dst[tuple(dst_index)] = plan.x[tuple(src_index)]


def row_tiles(total: int, rows: int) -> Iterator[tuple[int, int]]:
    for r0 in range(0, total, rows):
        yield r0, min(r0 + rows, total)


def spread_rows(length: int, itemsize: int) -> int:
    """A row stride (in elements) of at least ``length`` for a matrix the BLAS updates row by
    row: an odd number of 64-byte lines, so that its rows do not all fall into the same cache
    sets. (Rows 4 KiB-aligned apart, e.g. 64 filters x 64 rows of 224 float32, made every GEMM
    of a tile twice as slow: RGB 224x224 through 64 3x3 filters, padding 0, 9.2 ms against 4.0
    with padding 1.)"""
    per_line = max(1, 64 // itemsize)
    lines = -(-length // per_line)
    return (lines + 1 - lines % 2) * per_line


class WideOutput:
    """The output on the wide grid, tile by tile.

    When the wide grid is the output grid (1-D, or kernels one tap wide), tiles are views of the
    output itself. Otherwise each tile goes through a scratch buffer and its valid part is copied
    into the output, which is always C-contiguous (web encoders such as orjson need that, and a
    cropped view of a wider array would hold memory the caller cannot see).
    """

    def __init__(self, plan: ConvPlan, lay: FlatLayout, rows: int) -> None:
        self.plan, self.lay = plan, lay
        filters, o0 = plan.w.shape[0], plan.out_shape[0]
        valid = int(np.prod(plan.out_shape[1:], dtype=np.int64))
        self.in_place = lay.row == valid
        if self.in_place:
            self.wide = np.empty((filters, o0 * lay.row), plan.dtype)
        else:
            self.out = np.empty((filters, *plan.out_shape), plan.dtype)
            self.ld = spread_rows(rows * lay.row, plan.dtype.itemsize)
            self.buf = scratch("wide", filters * self.ld, plan.dtype).reshape(filters, self.ld)

    def tile(self, r0: int, r1: int) -> np.ndarray:
        """Where to put the wide rows ``r0:r1``: a ``(F, (r1 - r0) * row)`` array."""
        if self.in_place:
            return self.wide[:, r0 * self.lay.row : r1 * self.lay.row]
        return self.buf[:, : (r1 - r0) * self.lay.row]

    def done(self, tile: np.ndarray, r0: int, r1: int) -> None:
        if self.in_place:
            return
        filters = self.out.shape[0]
        w = tile.reshape(filters, r1 - r0, *self.lay.rest)
        self.out[:, r0:r1] = w[(slice(None), slice(None)) + self._crop()]

    def _crop(self) -> tuple[slice, ...]:
        return tuple(slice(0, n) for n in self.plan.out_shape[1:])

    def result(self) -> np.ndarray:
        """The output ``(F, *O)`` (a view of the wide array when written in place)."""
        if not self.in_place:
            return self.out
        filters, o0 = self.plan.w.shape[0], self.plan.out_shape[0]
        wide = self.wide.reshape(filters, o0, *self.lay.rest)
        return wide[(slice(None), slice(None)) + self._crop()]
