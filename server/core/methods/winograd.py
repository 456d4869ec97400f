"""Winograd F(2x2, 3x3): 3x3 kernels at stride 1 with 2.25 times fewer multiplications.

Every 2x2 block of outputs is computed from the 4x4 block of padded input under it
(Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
``Y = A^T [ (G g G^T) * (B^T d B) ] A``, the product elementwise over the 16 transformed
elements. Summed over the channels, the elementwise products become 16 matrix products:

- kernel transform, once: ``U[e] = (G g G^T)[e]``, an array (16, F, C/groups);
- input transform per tile of output rows: ``V[e] = (B^T d B)[e]`` for every 4x4 block ``d``
  (stride 2), an array (16, C, blocks), computed separably (columns, then rows: 20 whole-tile
  1-D additions, no loop over positions);
- 16 GEMMs ``M[e] = U[e] @ V[e]`` per group: one stacked ``np.matmul``, which calls NumPy's
  BLAS once per element (measured faster than 16 `blas` calls through ctypes);
- output transform ``A^T M A`` (again separable additions), written straight into the strided
  2x2 phases of the output; the ragged last block row and column are cropped.

Cost per 2x2 outputs: ``16 * F * C/groups`` multiply-adds instead of ``36 * F * C/groups``, plus
about ``24 * (C + F)`` additions in the transforms. Those additions are NumPy passes over memory
(about 0.2-0.6 ns per element here, on one thread) while the products run near the BLAS peak,
so on the development machine Winograd only pays from about 128 channels x 128 filters on one
thread, and loses on two (the BLAS calls share the threads, the transforms do not):
bench/README.md, "Winograd". `choose` therefore never picks it; ``conv(..., method="winograd")``
forces it. The padded rows of a tile come from the input (zero padding) or `padded_rows` (every
other mode); memory is the output plus one tile within the plan's tile budget. Float32 stays well
within the accuracy contract (the transforms only add, subtract and halve). F(4x4, 3x3) was not
tried: its transforms cost about 1.3 times more additions per output, the part that dominates.
"""

from __future__ import annotations

import numpy as np

from .flat import row_tiles
from .plan import ConvPlan, padded_rows
from .scratch import scratch

CHUNK_BYTES = 512 * 2**10
"""Scratch of one chunk of the transforms, kept in the L2 cache between their two steps
(256 KiB measured slower, 1 MiB the same)."""

WINO_TILE_BYTES = 8 * 2**20
"""Working memory of one tile (padded rows, V and M), within the tile budget: 4-16 MiB measured
the same on 64x64 channels x filters, 128x128 (2 MiB: 15% slower, smaller GEMMs)."""

# G (4x3): the kernel transform of F(2x2, 3x3)
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def unsupported(plan: ConvPlan) -> str | None:
    """Why Winograd cannot run ``plan``, or None when it can (2-D, 3x3, stride 1, dilation 1)."""
    if plan.ndim != 2:
        return f"it needs 2 spatial axes, got {plan.ndim}"
    if plan.kernel_shape != (3, 3):
        return f"it needs a 3x3 kernel, got {'x'.join(map(str, plan.kernel_shape))}"
    if plan.stride != (1, 1):
        return f"it needs stride 1, got {list(plan.stride)}"
    if plan.dilation != (1, 1):
        return f"it needs dilation 1, got {list(plan.dilation)}"
    return None


def kernel_transform(w: np.ndarray) -> np.ndarray:
    """``U = G g G^T`` of every (filter, channel): (16, F, C/groups) in ``w``'s dtype.

    Computed in float64 and rounded once.
    """
    u = np.einsum("ai,fcij,bj->abfc", _G, w.astype(np.float64), _G)
    return np.ascontiguousarray(u.reshape(16, w.shape[0], w.shape[1]).astype(w.dtype))


def tile_block_rows(plan: ConvPlan, wb: int) -> int:
    """Block rows (2 output rows each) per tile: working memory near `WINO_TILE_BYTES`."""
    channels, filters = plan.x.shape[0], plan.w.shape[0]
    # per block row: 2 padded rows of 2 wb and V (16 wb) per channel, M (16 wb) per filter
    # (plus one more block row of the first two; the chunk scratch is fixed, `CHUNK_BYTES`)
    per = (20 * channels + 16 * filters) * wb * plan.dtype.itemsize
    budget = min(WINO_TILE_BYTES, plan.tile_bytes)
    by_total = -(-plan.out_shape[0] // 2)
    return int(max(1, min(by_total, budget // max(per, 1))))


def run(plan: ConvPlan) -> np.ndarray:
    """Convolve by Winograd F(2x2, 3x3); returns ``(F, O0, O1)`` without bias.

    Layout, chosen so that every transform step is a few long 1-D NumPy operations: a tile of
    ``n`` block rows keeps its padded rows split by parity, ``pb[r, c, y] = xpad[c, 2y + r]``
    (``y <= n``), each row ``2 wb`` wide with ``wb = bx + 1`` blocks per row. In flat indices
    ``q = (c * (n + 1) + y) * wb + x`` the 4 columns of block ``q`` are ``pb[r].flat[2q + l]``
    and its 4 rows are parity ``k % 2`` at ``q + (k // 2) * wb``: whole-tile strided slices. The
    blocks at ``x = bx`` and ``y = n`` (past the edge, or reading the next channel) are computed
    and dropped; the GEMMs skip row ``y = n`` through their leading dimension.
    """
    reason = unsupported(plan)
    if reason is not None:
        raise ValueError(f"Winograd cannot run this convolution: {reason}")
    dtype = plan.dtype
    channels, filters = plan.x.shape[0], plan.w.shape[0]
    groups, cg = plan.groups, plan.w.shape[1]
    fg = filters // groups
    o0, o1 = plan.out_shape
    bx, by_total = -(-o1 // 2), -(-o0 // 2)  # blocks per row, block rows
    wb = bx + 1  # blocks per row on the wide grid (2 wb >= o1 + 2 padded columns)
    rows = tile_block_rows(plan, wb)
    u = kernel_transform(plan.w).reshape(16, groups, fg, cg)
    u_groups = [np.ascontiguousarray(u[:, g]) for g in range(groups)]

    plane = channels * (rows + 1) * wb  # blocks of one tile (the wide grid), at most
    pb_buf = scratch("flat", 2 * (2 * plane + 2), dtype).reshape(2, 2 * plane + 2)
    chunk = max(wb, CHUNK_BYTES // (8 * dtype.itemsize))
    cols = scratch("stage", 8 * (chunk + wb), dtype).reshape(4, 2, chunk + wb)
    v_buf = scratch("col", 16 * plane, dtype)
    m_buf = scratch("wide", 16 * filters * rows * wb, dtype)
    s_len = max(rows * wb, min(filters * rows * wb, CHUNK_BYTES // (5 * dtype.itemsize)))
    s_buf = scratch("direct", 5 * s_len, dtype).reshape(5, s_len)
    out = np.empty((filters, o0, o1), dtype)
    # the four 2x2 phases of the output: out[:, a::2, b::2] holds Y[a, b] of every block
    phases = {(a, b): out[:, a::2, b::2] for a in (0, 1) for b in (0, 1)}

    for t0, t1 in row_tiles(by_total, rows):
        n = t1 - t0
        q = channels * (n + 1) * wb
        pb = pb_buf[:, : 2 * q + 2]
        _fill(plan, pb[:, : 2 * q].reshape(2, channels, n + 1, 2 * wb), 2 * t0)
        pb[:, 2 * q :] = 0  # read only by dropped blocks, but kept finite
        v = v_buf[: 16 * q].reshape(16, q)
        _input_transform(pb, cols, v, q, wb)
        vm = v.reshape(16, channels, (n + 1) * wb)[:, :, : n * wb]  # skip the y = n rows
        m = m_buf[: 16 * filters * n * wb].reshape(16, filters, n * wb)
        for g in range(groups):  # 16 GEMMs per group, through NumPy's BLAS
            gf = slice(g * fg, (g + 1) * fg)
            np.matmul(u_groups[g], vm[:, g * cg : (g + 1) * cg], out=m[:, gf])
        _output_transform(m, s_buf, phases, t0, t1, wb)
    return out


def _fill(plan: ConvPlan, pb: np.ndarray, a: int) -> None:
    """``pb[r, c, y, i] = xpad[c, a + 2y + r, i]``, zeros past the padded input.

    ``pb`` (2, C, n + 1, 2 wb): the padded rows ``a:a + 2n + 2`` split by parity, each
    ``2 wb >= o1 + 2`` wide. Zero padding copies straight from the input; the other modes build
    the padded rows first (`padded_rows`, one more copy). (Splitting the columns by parity here
    too, to make the column step read contiguously, was measured 10% slower in all.)
    """
    channels, n1, width = pb.shape[1:]
    if plan.padding_mode == "zeros":
        (top, _), (left, _) = plan.pads
        rows, cols = plan.x.shape[1:]
        for r in (0, 1):
            dst = pb[r]
            first = a + r - top  # input row of y = 0
            y0 = min(n1, -(first // 2) if first < 0 else 0)
            y1 = max(y0, min(n1, -(-(rows - first) // 2)))
            dst[:, :y0] = 0
            dst[:, y1:] = 0
            dst[:, y0:y1, :left] = 0
            dst[:, y0:y1, left + cols :] = 0
            if y1 > y0:
                i = first + 2 * y0
                dst[:, y0:y1, left : left + cols] = plan.x[:, i : i + 2 * (y1 - y0) : 2]
        return
    wp = plan.padded_shape[1]
    have = max(0, min(a + 2 * n1, plan.padded_shape[0]) - a)
    buf = scratch("wino_rows", channels * max(have, 1) * wp, plan.dtype)
    padded = padded_rows(
        plan, a, a + have, out=buf[: channels * have * wp].reshape(channels, have, wp)
    )
    for r in (0, 1):
        dst = pb[r]
        got = padded[:, r::2]
        dst[:, : got.shape[1], :wp] = got
        dst[:, got.shape[1] :] = 0
        dst[:, :, wp:] = 0


def _input_transform(pb: np.ndarray, cols: np.ndarray, v: np.ndarray, q: int, wb: int) -> None:
    """``v[4i + j, blk] = (B^T d B)[i, j]`` for the 4x4 block ``d`` of every wide-grid block.

    ``B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]``. Columns first, both
    row parities at once (``cols[j, r, blk] = sum_l B^T[j, l] pb[r, 2 blk + l]``), then rows
    (row ``k`` of a block is parity ``k % 2`` shifted by ``(k // 2) * wb``): whole-chunk 1-D
    slices. ``pb`` (2, 2q + 2), ``v`` (16, q), ``cols`` scratch (4, 2, chunk + wb): the blocks
    go in chunks so that ``cols`` stays in the cache between the two steps.
    """
    chunk = cols.shape[2] - wb
    for q0 in range(0, q, chunk):
        q1 = min(q0 + chunk, q)
        ext = min(q1 + wb, q)  # the rows below the chunk (zeros past the tile)
        cc = cols[:, :, : q1 - q0 + wb]
        cc[:, :, ext - q0 :] = 0
        c = [pb[:, 2 * q0 + k : 2 * ext + k : 2] for k in range(4)]
        np.subtract(c[0], c[2], out=cc[0, :, : ext - q0])
        np.add(c[1], c[2], out=cc[1, :, : ext - q0])
        np.subtract(c[2], c[1], out=cc[2, :, : ext - q0])
        np.subtract(c[1], c[3], out=cc[3, :, : ext - q0])
        for j in range(4):
            d = [cc[j, k % 2, (k // 2) * wb : (k // 2) * wb + q1 - q0] for k in range(4)]
            np.subtract(d[0], d[2], out=v[j, q0:q1])
            np.add(d[1], d[2], out=v[4 + j, q0:q1])
            np.subtract(d[2], d[1], out=v[8 + j, q0:q1])
            np.subtract(d[1], d[3], out=v[12 + j, q0:q1])


def _output_transform(
    m: np.ndarray,
    s: np.ndarray,
    phases: dict[tuple[int, int], np.ndarray],
    t0: int,
    t1: int,
    wb: int,
) -> None:
    """``Y = A^T M A`` of every block into the output phases, cropping the ragged edge.

    ``m`` (16, F, n * wb); ``A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]``: rows first
    (``s[j] = (A^T M)[a, j]``, four sums of three), then columns into ``s[4]`` and from there
    into block rows ``t0:t1`` of ``out[:, a::2, b::2]``. Filters go in chunks that keep the
    scratch ``s`` (5, chunk * n * wb) in the cache.
    """
    filters, n = m.shape[1], t1 - t0
    fc = max(1, s.shape[1] // (n * wb))
    mm = m.reshape(4, 4, filters, n * wb)
    for f0 in range(0, filters, fc):
        f1 = min(f0 + fc, filters)
        size = (f1 - f0) * n * wb
        sj, tmp = s[:4, :size].reshape(4, f1 - f0, n * wb), s[4, :size]
        for a in (0, 1):
            if a == 0:
                np.add(mm[0, :, f0:f1], mm[1, :, f0:f1], out=sj)
                sj += mm[2, :, f0:f1]
            else:
                np.subtract(mm[1, :, f0:f1], mm[2, :, f0:f1], out=sj)
                sj -= mm[3, :, f0:f1]
            for b in (0, 1):
                dst = phases[(a, b)][f0:f1, t0:t1]
                crop = (slice(None), slice(0, dst.shape[1]), slice(0, dst.shape[2]))
                grid = (f1 - f0, n, wb)
                if b == 0:  # sj[0] + sj[1] + sj[2]
                    np.add(sj[0], sj[1], out=tmp.reshape(f1 - f0, -1))
                    np.add(tmp.reshape(grid)[crop], sj[2].reshape(grid)[crop], out=dst)
                else:  # sj[1] - sj[2] - sj[3]
                    np.subtract(sj[1], sj[2], out=tmp.reshape(f1 - f0, -1))
                    np.subtract(tmp.reshape(grid)[crop], sj[3].reshape(grid)[crop], out=dst)
