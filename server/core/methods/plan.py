"""Validated convolution arguments (`ConvPlan`) and padded row tiles of the input.

Every method of `conv` starts from a `ConvPlan`: the operands in full channel-first form and each
per-axis parameter as a tuple. The input is never padded as a whole: `padded_rows` builds the
rows of the padded input a tile needs, in the working dtype, so memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError, ShapeError
from ..padding import check_padding_fits, check_padding_mode
from ..shapes import Pads, as_tuple, normalize_operands, output_shape, resolve_padding

TILE_BYTES = 32 * 2**20
"""Default working-memory budget of one tile (padded input rows, column matrix, partial sums)."""

_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class ConvPlan:
    """Everything a convolution method needs, validated and in per-axis form."""

    x: np.ndarray  # (C, *S), the caller's values (cast per tile)
    w: np.ndarray  # (F, C/groups, *K) in `dtype`, already flipped when flip=True
    bias: np.ndarray | None  # (F,) in `dtype`
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: Pads
    padding_mode: str
    groups: int
    out_shape: tuple[int, ...]  # spatial output shape O
    dtype: np.dtype[Any]
    squeeze: bool
    tile_bytes: int

    @property
    def ndim(self) -> int:
        return self.x.ndim - 1

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        return tuple(self.w.shape[2:])

    @property
    def padded_shape(self) -> tuple[int, ...]:
        return tuple(n + b + a for n, (b, a) in zip(self.x.shape[1:], self.pads, strict=True))

    def rows_needed(self, r0: int, r1: int) -> tuple[int, int]:
        """Padded-input rows (axis 0) read by output rows ``r0 <= r < r1``."""
        return r0 * self.stride[0], (r1 - 1) * self.stride[0] + self.dilation[0] * (
            self.kernel_shape[0] - 1
        ) + 1


def _check_array(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ParameterError(
            f"`{name}` must hold real numbers, got an array of dtype {arr.dtype} "
            f"with shape {arr.shape}",
            param=name,
            accepted="a nested list or array of real numbers",
        )
    return arr


def working_dtype(*arrays: np.ndarray | None) -> np.dtype[Any]:
    """float32 when every operand fits in float32 (float32 images), else float64."""
    present = [a for a in arrays if a is not None]
    common = np.result_type(*present)
    return np.dtype(np.float32) if common == np.float32 else np.dtype(np.float64)


def make_plan(
    x: Any,
    w: Any,
    *,
    bias: Any,
    stride: Any,
    padding: Any,
    padding_mode: str,
    dilation: Any,
    groups: int,
    flip: bool,
    tile_bytes: int | None,
) -> ConvPlan:
    """Validate the arguments of `conv` (every check before any work) and build a plan."""
    xa = _check_array(x, "input")
    wa = _check_array(w, "kernel")
    ba = None if bias is None else _check_array(bias, "bias")
    ops = normalize_operands(xa, wa, groups=groups)
    mode = check_padding_mode(padding_mode)
    nd = ops.spatial_ndim
    strides = as_tuple(stride, nd, "stride")
    dilations = as_tuple(dilation, nd, "dilation")
    spatial = tuple(int(n) for n in ops.x.shape[1:])
    kernel = tuple(int(k) for k in ops.w.shape[2:])
    pads = resolve_padding(
        padding, spatial_shape=spatial, kernel_shape=kernel, stride=strides, dilation=dilations
    )
    out = output_shape(spatial, kernel, stride=strides, padding=pads, dilation=dilations)
    check_padding_fits(spatial, pads, mode)
    if not isinstance(flip, bool | np.bool_):
        raise ParameterError(
            f"`flip` must be true or false, got {flip!r}", param="flip", accepted="a boolean"
        )
    if tile_bytes is not None and (not isinstance(tile_bytes, int) or tile_bytes < 1):
        raise ParameterError(
            f"`tile_bytes` must be an int >= 1, got {tile_bytes!r}",
            param="tile_bytes",
            accepted="a positive number of bytes",
        )
    filters = ops.w.shape[0]
    if ba is not None:
        if ba.ndim == 0:
            ba = np.full(filters, ba)
        elif ba.shape != (filters,):
            raise ShapeError(
                f"`bias` must hold one value per filter ({filters}), got shape {ba.shape}",
                param="bias",
                accepted=f"a number or a list of {filters} numbers",
            )
    dtype = working_dtype(ops.x, ops.w, ba)
    wk = ops.w.astype(dtype)
    if flip:
        wk = wk[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
    return ConvPlan(
        x=ops.x,
        w=np.ascontiguousarray(wk),
        bias=None if ba is None else ba.astype(dtype),
        # along an axis with one output the stride is never applied: 1 there keeps index
        # arithmetic in int64 for any stride a caller sends (origin = position * stride = 0)
        stride=tuple(1 if o == 1 else s for o, s in zip(out, strides, strict=True)),
        dilation=dilations,
        pads=pads,
        padding_mode=mode,
        groups=int(groups),
        out_shape=out,
        dtype=dtype,
        squeeze=ops.squeeze,
        tile_bytes=TILE_BYTES if tile_bytes is None else tile_bytes,
    )


def _source_index(i: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Input index that padded index ``i`` (already shifted by ``before``) reads in ``mode``."""
    if mode == "replicate":
        return np.asarray(np.clip(i, 0, n - 1))
    if mode == "circular":
        return np.asarray(np.mod(i, n))
    # reflect: mirror about 0 and n-1 without repeating the edge
    if n == 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    j = np.mod(i, period)
    return np.asarray(np.where(j < n, j, period - j))


def padded_rows(plan: ConvPlan, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
    """Rows ``a <= i < b`` (axis 0) of the padded input, all other axes padded in full.

    Returns ``(C, b - a, *padded_shape[1:])`` in the plan's dtype; writes into ``out`` when given
    (any array of that shape). Cost: one copy of those rows.
    """
    x, pads = plan.x, plan.pads
    shape = (x.shape[0], b - a, *plan.padded_shape[1:])
    if out is None:
        out = np.empty(shape, plan.dtype)
    if plan.padding_mode == "zeros":
        n0, before0 = x.shape[1], pads[0][0]
        lo, hi = max(a - before0, 0), min(b - before0, n0)
        top = lo + before0 - a
        if hi <= lo:
            out[...] = 0
            return out
        core = (slice(None), slice(top, top + hi - lo)) + tuple(
            slice(p, p + n) for (p, _), n in zip(pads[1:], x.shape[2:], strict=True)
        )
        if any(p for pair in pads[1:] for p in pair) or top or top + hi - lo < b - a:
            _zero_border(out, core)
        out[core] = x[:, lo:hi]
        return out
    idx = [_source_index(np.arange(a, b) - pads[0][0], x.shape[1], plan.padding_mode)]
    for n, (before, after) in zip(x.shape[2:], pads[1:], strict=True):
        idx.append(_source_index(np.arange(-before, n + after), n, plan.padding_mode))
    gather: tuple[Any, ...] = (slice(None), *np.ix_(*idx))
    out[...] = x[gather]
    return out


def _zero_border(out: np.ndarray, core: tuple[slice, ...]) -> None:
    """Zero everything of ``out`` outside the box ``core`` (axis by axis, no full pass)."""
    for axis in range(1, out.ndim):
        s = core[axis]
        lead = (slice(None),) + tuple(core[1:axis])
        out[lead + (slice(0, s.start),)] = 0
        out[lead + (slice(s.stop, None),)] = 0
