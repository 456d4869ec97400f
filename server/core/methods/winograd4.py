"""Winograd F(4x4, 3x3) as batched matrix products: 4x fewer multiplications for 3x3 layers.

Every 4x4 block of outputs comes from the 6x6 block of padded input under it (Lavin & Gray,
2016): ``Y = A^T [ (G g G^T) * (B^T d B) ] A``. Summed over the channels, the 36 elementwise
products become 36 matrix products, and here every step is a matrix product through NumPy's
BLAS, on chunks of block rows small enough to stay in the cache:

- kernel transform, once, in float64 then rounded: ``U`` (36, F, C/groups), one product with
  ``G (x) G``;
- gather: the 6x6 windows (stride 4) of the chunk's padded rows, one strided copy, into
  ``D`` (6, 6, C, blocks);
- input transform, separable: ``B^T`` on the window columns (6 small GEMMs, one ``matmul``),
  then on the rows (one GEMM): ``V`` (36, C, blocks);
- 36 GEMMs ``M[e] = U[e] @ V[e]`` per group (one stacked ``matmul``): (36, F, blocks);
- output transform, separable, by ``A^T`` (4x6): first along the block columns as products with
  the transposed ``M`` (so each block's 4 columns land side by side), then along the rows (one
  GEMM): ``Y`` (4, F, block rows, output columns), copied into the output as whole rows.

Cost per 4x4 outputs: ``36 * F * C/groups`` multiply-adds instead of ``144 * F * C/groups``,
plus ``432 * C + 240 * F`` transform multiply-adds, all in BLAS calls (the
NumPy-pass transforms of F(2x2, 3x3) in `winograd` are what made that one lose). The chunks are
independent: with several CPUs, `THREADS` threads share them (the caller and kept helper
threads; NumPy and the BLAS release the GIL), each with its own scratch buffers, and the larger BLAS
calls are cut small enough to stay on their thread (`BLAS_ONE_THREAD`). Interpolation
points 0, 1, -1, 2, -1/2: the most accurate of the sets tried in float32 (largest error 2.5e-6
of the largest output on 64 random channels, against 6e-6 for 0, +-1, +-2, and for 0, +-1,
+-1/2; it grows with the channels summed, 4.4e-6 at 128, and on a lone output that cancels can
pass 1e-5 of it, which is why `choose` runs it on at most 256 channels; F(6x6, 3x3), 1.8 instead of
2.25 products per output, reaches 7e-6-9e-6 at 64 channels with the best points tried, too near
the contract). Memory: the output plus a few chunk buffers per thread.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import threads
from .plan import ConvPlan, padded_rows
from .scratch import scratch
from .winograd import unsupported

POINTS = (0.0, 1.0, -1.0, 2.0, -0.5)
"""Finite interpolation points of the Cook-Toom construction (the fifth is infinity)."""

CHUNK_BLOCKS = 64
"""Blocks (4x4 outputs each) per chunk at least: two block rows of a 128-wide map. Measured on
64x128x128 through 64x64x3x3, in-process, load average 1.5: 32 blocks 9.6-13 ms on one thread,
7.9-9.8 ms wall on two; 64 blocks 9.5-11.6 and 6.6-7.3 (bigger GEMMs, half the chunks)."""

CHUNK_BYTES = 1 * 2**20
"""Bytes of one chunk's ``V`` and ``M`` at most (above `CHUNK_BLOCKS`)."""

THREADS: int | None = None
"""Threads sharing one call's chunks (`threads.THREADS` when None)."""

BLAS_ONE_THREAD = 65536 * 4
"""``m * n * k`` up to which OpenBLAS runs a GEMM on the calling thread alone (its
``SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD``). The kernel transform and the 36 products
are cut to this size (`_matmul`): the chunks already keep every CPU busy, and a product above
it must wait for OpenBLAS's own workers, on a busy machine for a whole scheduler slice (the
kernel transform of 64 x 64 kernels in one product, two BLAS threads, load average 4: median
14.6 ms, against 0.12-0.14 ms cut in 2-8). The small-K transform products are left whole:
OpenBLAS keeps them on one thread already (same time with one BLAS thread or two), and cutting
them costs 10 us of NumPy bookkeeping a call (0.8 ms a call of the 64-channel bench layer)."""


MIN_SPLIT = 32
"""Blocks per BLAS call at least when the 36 products are cut for `BLAS_ONE_THREAD` (deeper
layers than 64 x 64 keep whole chunks and let the BLAS use its threads)."""


def _matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``A^T`` (4x6), ``G`` (6x3), ``B^T`` (6x6) of F(4, 3) for `POINTS`, in float64.

    ``A^T`` and ``G`` come from the points (Cook-Toom); ``B^T`` is solved from the identity
    every bilinear algorithm for correlation satisfies:
    ``sum_j A^T[i, j] G[j, k] B^T[j, l] = 1 if l == i + k else 0``.
    """
    m, r = 4, 3
    n = m + r - 1
    pts = np.array(POINTS)
    at, g = np.zeros((m, n)), np.zeros((n, r))
    for j, p in enumerate(pts):
        at[:, j] = p ** np.arange(m)
        g[j] = p ** np.arange(r) / np.prod([p - q for q in np.delete(pts, j)])
    at[m - 1, n - 1] = g[n - 1, r - 1] = 1.0
    eqs = np.zeros((m, r, n, n, n))  # (i, k, l) x (j, l') for the unknown B^T[j, l']
    rhs = np.zeros((m, r, n))
    for i in range(m):
        for k in range(r):
            for col in range(n):
                eqs[i, k, col, :, col] = at[i] * g[:, k]
                rhs[i, k, col] = 1.0 if col == i + k else 0.0
    bt = np.linalg.lstsq(eqs.reshape(-1, n * n), rhs.reshape(-1), rcond=None)[0].reshape(n, n)
    return at, g, np.where(np.abs(bt) < 1e-12, 0.0, bt)


_AT, _G, _BT = _matrices()
_KRON = np.kron(_G, _G)  # (36, 9): row a * 6 + b, column i * 3 + j holds G[a, i] G[b, j]


def kernel_transform(w: np.ndarray) -> np.ndarray:
    """``U = G g G^T`` of every (filter, channel): (36, F, C/groups), computed in float64.

    One product with ``G (x) G`` (36x9) over the flattened 3x3 kernels, in float64 into this
    thread's scratch buffers, then rounded into a fresh ``U``: the former two products with
    ``G`` and their transposes allocated five temporaries per call, and on this machine fresh
    memory faults on first touch (2 ms CPU, 4-8 ms wall for 64 x 64 kernels, now 0.1-0.2).
    """
    filters, cg = w.shape[0], w.shape[1]
    pairs = filters * cg
    w64 = scratch("wino_w64", pairs * 9, np.dtype(np.float64)).reshape(pairs, 9)
    np.copyto(w64, w.reshape(pairs, 9))
    u64 = scratch("wino_u64", 36 * pairs, np.dtype(np.float64)).reshape(36, pairs)
    parts = _parts(36 * 9, pairs, 1)
    parts = parts if pairs % parts == 0 else 1
    np.matmul(
        _KRON,
        w64.reshape(parts, pairs // parts, 9).transpose(0, 2, 1),
        out=u64.reshape(36, parts, pairs // parts).transpose(1, 0, 2),
    )
    u = np.empty((36, filters, cg), w.dtype)
    np.copyto(u.reshape(36, pairs), u64, casting="unsafe")
    return u


def run(plan: ConvPlan) -> np.ndarray:
    """Convolve by Winograd F(4x4, 3x3); returns ``(F, O0, O1)`` without bias."""
    reason = unsupported(plan)
    if reason is not None:
        raise ValueError(f"Winograd cannot run this convolution: {reason}")
    filters = plan.w.shape[0]
    o0, o1 = plan.out_shape
    ty, tx = -(-o0 // 4), -(-o1 // 4)  # block rows, blocks per row
    rows = chunk_rows(plan)
    out = np.empty((filters, o0, o1), plan.dtype)
    u = kernel_transform(plan.w)
    consts = (
        u,
        _BT.astype(plan.dtype),
        _AT.astype(plan.dtype),
    )
    chunks = [(y0, min(y0 + rows, ty)) for y0 in range(0, ty, rows)]
    threads.share(lambda part: _chunks(plan, out, consts, part, rows, tx), chunks, THREADS)
    return out


def chunk_rows(plan: ConvPlan) -> int:
    """Block rows per chunk: at least `CHUNK_BLOCKS` blocks, more while ``V`` and ``M`` stay
    within `CHUNK_BYTES`; with a smaller tile budget, as few as one block row."""
    channels, filters = plan.x.shape[0], plan.w.shape[0]
    o0, o1 = plan.out_shape
    ty, tx = -(-o0 // 4), -(-o1 // 4)
    per_row = 36 * (channels + filters) * tx * plan.dtype.itemsize
    rows = max(-(-CHUNK_BLOCKS // tx), CHUNK_BYTES // per_row)
    if plan.tile_bytes < CHUNK_BYTES:
        rows = plan.tile_bytes // per_row
    return int(max(1, min(rows, ty)))


def _chunks(
    plan: ConvPlan,
    out: np.ndarray,
    consts: tuple[np.ndarray, np.ndarray, np.ndarray],
    chunks: Iterable[tuple[int, int]],
    rows: int,
    tx: int,
) -> None:
    """Compute the output block rows of ``chunks`` (this thread's share)."""
    u, bt, at = consts
    dtype = plan.dtype
    channels, filters = plan.x.shape[0], plan.w.shape[0]
    groups, cg = plan.groups, plan.w.shape[1]
    fg = filters // groups
    o0, o1 = plan.out_shape
    wp = plan.padded_shape[1]
    width = 4 * tx + 2  # padded columns the blocks read (past wp: zeros)
    nb = rows * tx
    padded = scratch("flat", channels * (4 * rows + 2) * width, dtype).reshape(
        channels, 4 * rows + 2, width
    )
    padded[:, :, wp:] = 0
    d = scratch("col", 36 * channels * nb, dtype).reshape(6, 6, channels * nb)
    v1 = scratch("stage", 36 * channels * nb, dtype).reshape(6, 6, channels * nb)
    v = scratch("wino_v", 36 * channels * nb, dtype).reshape(36, channels, nb)
    m = scratch("wide", 36 * filters * nb, dtype).reshape(36, filters, nb)
    z = scratch("direct", 24 * filters * nb, dtype)
    y = scratch("wino_y", 16 * filters * nb, dtype)
    for y0, y1 in chunks:
        n = y1 - y0
        k = n * tx
        a, b = 4 * y0, 4 * y1 + 2  # padded rows read
        have = max(0, min(b, plan.padded_shape[0]) - a)
        if have:
            padded_rows(plan, a, a + have, out=padded[:, :have, :wp])
        padded[:, have : b - a] = 0
        s = padded.strides
        win = as_strided(padded, (channels, n, tx, 6, 6), (s[0], 4 * s[1], 4 * s[2], s[1], s[2]))
        dk = d[:, :, : channels * k]
        dk.reshape(6, 6, channels, n, tx)[...] = win.transpose(3, 4, 0, 1, 2)
        np.matmul(bt, dk, out=v1[:, :, : channels * k])  # B^T along the window columns
        vk = v.reshape(-1)[: 36 * channels * k].reshape(36, channels, k)
        np.matmul(bt, v1[:, :, : channels * k].reshape(6, -1), out=vk.reshape(6, -1))
        mk = m.reshape(-1)[: 36 * filters * k].reshape(36, filters, k)
        for g in range(groups):
            fs = slice(g * fg, (g + 1) * fg)
            _matmul(u[:, fs], vk[:, g * cg : (g + 1) * cg], mk[:, fs], least=MIN_SPLIT)
        # A^T along the block columns, as products with the transposed M (BLAS reads it in
        # place): z[a, (f, by, bx), j], so each 4x4 block's columns j land next to each other
        zk = z[: 24 * filters * k].reshape(6, filters * k, 4)
        np.matmul(mk.reshape(6, 6, -1).transpose(0, 2, 1), at.T, out=zk)
        # A^T along the block rows, one GEMM: y[i, f, by, (bx, j)], rows of the output
        yk = y[: 16 * filters * k].reshape(4, filters, n, 4 * tx)
        np.matmul(at, zk.reshape(6, -1), out=yk.reshape(4, -1))
        _write(out, yk, y0)


def _parts(mk: int, n: int, least: int) -> int:
    """How many parts to cut ``n`` into so that ``mk * part`` stays within `BLAS_ONE_THREAD`
    (a divisor of ``n`` when one is near), parts of at least ``least`` (1 when they cannot)."""
    most = max(1, BLAS_ONE_THREAD // mk)
    if most < least:
        return 1  # too thin to be worth it: the BLAS may use its own threads
    parts = -(-n // most)
    for even in range(parts, min(2 * parts, n) + 1):
        if n % even == 0:
            return even
    return parts


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray, least: int = 1) -> None:
    """``out[...] = a @ b`` (stacked or not), the longer of the rows of ``a`` and the columns of
    ``b`` cut into parts so that every BLAS call stays single-threaded (`BLAS_ONE_THREAD`):
    views, one ``matmul`` over the stacked parts when they divide evenly, else one per part;
    parts of at least ``least`` rows or columns."""
    m, kk = a.shape[-2:]
    n = b.shape[-1]
    by_rows = m > n
    parts = _parts(kk * (n if by_rows else m), m if by_rows else n, least)
    if parts == 1:
        np.matmul(a, b, out=out)
    elif by_rows and m % parts == 0:
        ap = np.reshape(a, (*a.shape[:-2], parts, m // parts, kk), copy=False)
        op = np.reshape(out, (*out.shape[:-2], parts, m // parts, n), copy=False)
        np.matmul(ap, b[..., None, :, :], out=op)
    elif not by_rows and n % parts == 0:
        bp = np.reshape(b, (*b.shape[:-1], parts, n // parts), copy=False)
        op = np.reshape(out, (*out.shape[:-1], parts, n // parts), copy=False)
        np.matmul(a[..., None, :, :], np.moveaxis(bp, -2, -3), out=np.moveaxis(op, -2, -3))
    else:
        step = -(-(m if by_rows else n) // parts)
        for i in range(0, m if by_rows else n, step):
            if by_rows:
                np.matmul(a[..., i : i + step, :], b, out=out[..., i : i + step, :])
            else:
                np.matmul(a, b[..., i : i + step], out=out[..., i : i + step])


def _write(out: np.ndarray, yk: np.ndarray, y0: int) -> None:
    """``out[f, 4(y0 + by) + i, c] = yk[i, f, by, c]``, cropped to the output (runs of whole
    output rows: the block columns are already in place)."""
    filters, o0, o1 = out.shape
    n = yk.shape[2]
    r0 = 4 * y0
    nfull = min(n, (o0 - r0) // 4)  # block rows wholly inside the output
    if nfull:
        dst = out[:, r0 : r0 + 4 * nfull].reshape(filters, nfull, 4, o1)
        dst[...] = yk[:, :, :nfull, :o1].transpose(1, 2, 0, 3)
    last = min(o0 - r0 - 4 * nfull, 4)
    if nfull < n and last > 0:  # the ragged last block row
        out[:, r0 + 4 * nfull : r0 + 4 * nfull + last] = yk[:last, :, nfull, :o1].transpose(1, 0, 2)
