"""Step-by-step frames: the arithmetic of single placements of a sliding window (DESIGN §3).

A convolution frame is one filter at one output position: the patch under the taps, the products
with the kernel, the sum per input channel, the bias, the value and the activated output.
Frames are ordered filter-major, then output positions row-major, ``total = F * prod(O)``. A pooling
frame (`pool_frames`) is one channel at one output position: the window, and the winner (max) or the
sum and divisor (avg).

Both gather a page of windows straight from the unpadded input (`methods.gather`), so a page
costs the same anywhere in a large photo.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import activate
from .errors import ParameterError
from .methods.gather import check_positions, gather, json_list, page
from .methods.plan import make_plan
from .pooling import pool_geometry
from .shapes import Pads

__all__ = ["FrameBatch", "PoolFrameBatch", "frames", "pool_frames"]


@dataclass(frozen=True)
class FrameBatch:
    """A page of convolution frames (``n`` of them); arrays are float64 / int64.

    Attributes
    ----------
    index : (n,) canonical frame number ``filter * prod(O) + flat position``
    filter : (n,)
    position : (n, nd) output coordinates
    origin : (n, nd) first tap in padded-input coordinates, ``position * stride``
    patch : (n, C/groups, *K) input values under the taps (padding included)
    products : (n, C/groups, *K) ``patch * kernel`` (the flipped kernel when ``flip``)
    channel_sums : (n, C/groups)
    bias, value, output : (n,) ``value = bias + sum(products)``, ``output = activation(value)``
    total : int, the number of frames selected (every filter and position unless narrowed)
    padding : one ``(before, after)`` per spatial axis
    output_shape : the spatial output shape ``O``
    """

    index: np.ndarray
    filter: np.ndarray
    position: np.ndarray
    origin: np.ndarray
    patch: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    bias: np.ndarray
    value: np.ndarray
    output: np.ndarray
    total: int
    padding: Pads
    output_shape: tuple[int, ...]

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def to_list(self) -> list[dict[str, Any]]:
        """The frames as JSON-ready dicts of DESIGN §3 (plain Python ints, floats, lists)."""
        columns = {
            "index": self.index.tolist(),
            "filter": self.filter.tolist(),
            "position": self.position.tolist(),
            "origin": self.origin.tolist(),
            "patch": json_list(self.patch),
            "products": json_list(self.products),
            "channel_sums": json_list(self.channel_sums),
            "bias": json_list(self.bias),
            "value": json_list(self.value),
            "output": json_list(self.output),
        }
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _select(
    n_filters: int, chosen: Any, out_shape: tuple[int, ...], positions: Any, offset: Any,
    limit: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Filters (or channels), positions and canonical indices of one page, and the total."""
    if chosen is None:
        wanted = np.arange(n_filters, dtype=np.int64)
    else:
        wanted = np.asarray(chosen)
        if (
            wanted.ndim != 1
            or (wanted.size and wanted.dtype.kind not in "iu")
            or ((wanted < 0) | (wanted >= n_filters)).any()
        ):
            raise ParameterError(
                f"`filters` must be a list of indices in 0..{n_filters - 1}, got {chosen!r}",
                param="filters",
                accepted=f"a list of ints in 0..{n_filters - 1}",
            )
        wanted = wanted.astype(np.int64)
    per_filter = math.prod(out_shape)
    if positions is None:
        m = per_filter
        total = len(wanted) * m
        k = page(total, offset, limit)
        flat = k % m
        pos = np.stack(np.unravel_index(flat, out_shape), axis=1).astype(np.int64)
    else:
        given = check_positions(positions, out_shape)
        m = len(given)
        total = len(wanted) * m
        k = page(total, offset, limit)
        pos = given[k % max(m, 1)]
        flat = np.ravel_multi_index(tuple(pos.T), out_shape).astype(np.int64)
    chosen_f = wanted[k // max(m, 1)]
    return chosen_f, pos, chosen_f * per_filter + flat, total


def frames(
    x: Any,
    w: Any,
    *,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    padding_mode: str = "zeros",
    dilation: Any = 1,
    groups: int = 1,
    flip: bool = False,
    activation: str | None = None,
    activation_params: Mapping[str, Any] | None = None,
    offset: int = 0,
    limit: int = 100,
    positions: Any = None,
    filters: Any = None,
) -> FrameBatch:
    """A page of convolution frames: every number of ``conv`` at chosen output cells.

    Parameters
    ----------
    x, w, bias, stride, padding, padding_mode, dilation, groups, flip
        As for `conv` (the same validation and errors). With the shorthand (no channel axes) the
        frames still have one filter (0) and patches of shape ``(1, *K)``.
    activation : str, optional
        A name of `ACTIVATIONS`, applied to ``value`` to give ``output``.
    activation_params : mapping, optional
        Its parameters, e.g. ``{"negative_slope": 0.2}``.
    offset, limit : int >= 0
        The page of the selected frames: sequence numbers ``offset .. offset + limit - 1``.
        An offset past the end gives an empty page (``total`` still says how many there are).
    positions : list of output coordinates, optional
        Only these cells (each a list of ``nd`` ints inside the output), in the order given.
    filters : list of int, optional
        Only these filters, in the order given.

    Returns
    -------
    FrameBatch
        Frames filter-major, then position (row-major, or in the order of ``positions``).
        ``index`` stays the frame's number in the full order.

    Raises
    ------
    ShapeError, ParameterError, PaddingError, OutputSizeError
        As `conv`; also for positions outside the output, unknown filters, negative offsets.

    Notes
    -----
    Cost: ``n * C/groups * prod(K)`` for ``n`` frames, computed in float64, whatever the input
    size: the taps are gathered from the unpadded input with one fancy-indexing read (padding
    modes map the indices), so a page of 100 3x3 frames of a 2048x2048 RGB photo takes well
    under a millisecond of arithmetic.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(3, 3)
    >>> batch = frames(x, np.ones((2, 2)), bias=1.0, padding=1, offset=4, limit=1)
    >>> batch.total, batch.output_shape
    (16, (4, 4))
    >>> f = batch.to_list()[0]
    >>> f["position"], f["origin"], f["patch"], f["value"]
    ([1, 0], [1, 0], [[[0.0, 0.0], [0.0, 3.0]]], 4.0)
    """
    plan = make_plan(
        x, w, bias=bias, stride=stride, padding=padding, padding_mode=padding_mode,
        dilation=dilation, groups=groups, flip=flip, tile_bytes=None,
    )
    if activation is None and activation_params:
        raise ParameterError(
            f"`activation_params` {dict(activation_params)!r} given without an activation",
            param="activation_params",
            accepted="parameters together with an activation name",
        )
    if activation is not None:
        activate(np.zeros(0), activation, **dict(activation_params or {}))  # validate first
    n_filters, per_group = plan.w.shape[0], plan.w.shape[1]
    filt, pos, index, total = _select(
        n_filters, filters, plan.out_shape, positions, offset, limit
    )
    origin = pos * np.asarray(plan.stride, dtype=np.int64)
    group = filt // (n_filters // plan.groups)
    channels = group[:, None] * per_group + np.arange(per_group)
    values, inside = gather(
        plan.x, channels, origin, plan.kernel_shape, plan.dilation, plan.pads, plan.padding_mode
    )
    patch = values.astype(np.float64)
    if plan.padding_mode == "zeros" and not inside.all():
        patch = np.where(inside, patch, 0.0)
    products = patch * plan.w.astype(np.float64)[filt]
    n = len(filt)
    bias_f = (
        np.zeros(n) if plan.bias is None else plan.bias.astype(np.float64)[filt]
    )
    size = math.prod(plan.kernel_shape)  # explicit: -1 cannot be inferred for an empty page
    taps = products.reshape(n, per_group, size)
    value = bias_f + taps.reshape(n, per_group * size).sum(axis=1)
    output = value.copy() if activation is None else activate(
        value, activation, **dict(activation_params or {})
    )
    return FrameBatch(
        index=index,
        filter=filt,
        position=pos,
        origin=origin,
        patch=patch,
        products=products,
        channel_sums=taps.sum(axis=2),
        bias=bias_f,
        value=value,
        output=output,
        total=total,
        padding=plan.pads,
        output_shape=plan.out_shape,
    )


@dataclass(frozen=True)
class PoolFrameBatch:
    """A page of pooling frames (``n`` of them): one channel at one output position each.

    Attributes
    ----------
    index : (n,) canonical frame number ``channel * prod(O) + flat position``
    channel : (n,)
    position, origin : (n, nd) output coordinates and first tap in padded-input coordinates
    window : (n, *K) float64, the values the reduction sees: input values, padding (``-inf`` for
        max, 0 for avg), and the same for taps a ceil-mode window hangs past the padding
    in_input : (n, *K) bool, the tap reads the input (not padding)
    counted : (n, *K) bool, the tap counts: in the divisor (avg) or among the candidates (max)
    winner : (n, nd) int, tap coordinates of the maximum (max; the first one on ties); -1 for avg
    sum, divisor : (n,) the window's sum and what it is divided by (avg; NaN and 0 for max)
    value : (n,) the pooled value, ``pool(x)[channel, position]``
    total, padding, output_shape, mode : as for `FrameBatch`; ``mode`` is "max" or "avg"
    """

    index: np.ndarray
    channel: np.ndarray
    position: np.ndarray
    origin: np.ndarray
    window: np.ndarray
    in_input: np.ndarray
    counted: np.ndarray
    winner: np.ndarray
    sum: np.ndarray
    divisor: np.ndarray
    value: np.ndarray
    total: int
    padding: Pads
    output_shape: tuple[int, ...]
    mode: str

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready dicts; ``-inf`` padding becomes ``None``, and so do the fields of the
        other mode (``winner`` for avg, ``sum`` and ``divisor`` for max)."""
        n = len(self)
        is_max = self.mode == "max"
        columns = {
            "index": self.index.tolist(),
            "channel": self.channel.tolist(),
            "position": self.position.tolist(),
            "origin": self.origin.tolist(),
            "window": json_list(self.window),
            "in_input": self.in_input.tolist(),
            "counted": self.counted.tolist(),
            "winner": self.winner.tolist() if is_max else [None] * n,
            "sum": [None] * n if is_max else json_list(self.sum),
            "divisor": [None] * n if is_max else self.divisor.tolist(),
            "value": json_list(self.value),
        }
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def pool_frames(
    x: Any,
    *,
    mode: str,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    offset: int = 0,
    limit: int = 100,
    positions: Any = None,
    channels: Any = None,
) -> PoolFrameBatch:
    """A page of pooling frames: the window of every chosen output cell and how it reduces.

    Parameters
    ----------
    x, mode, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad
        As for `pool` (the same validation and errors). A channel-less input has channel 0.
    offset, limit, positions
        As for `frames`.
    channels : list of int, optional
        Only these channels, in the order given.

    Returns
    -------
    PoolFrameBatch
        Frames channel-major, then position (row-major, or in the order of ``positions``).

    Notes
    -----
    Cost: ``n * prod(K)`` for ``n`` frames (float64), independent of the size of ``x``.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 5.0], [3.0, 4.0, 0.0], [6.0, 0.0, 1.0]])
    >>> b = pool_frames(x, mode="max", kernel_size=[2, 2], ceil_mode=True, offset=1, limit=1)
    >>> f = b.to_list()[0]
    >>> f["position"], f["window"], f["winner"], f["value"]
    ([0, 1], [[5.0, None], [0.0, None]], [0, 0], 5.0)
    >>> a = pool_frames(x, mode="avg", kernel_size=[3, 3], stride=2, padding=1,
    ...                 count_include_pad=False, positions=[[1, 1]]).to_list()[0]
    >>> a["sum"], a["divisor"], a["value"]
    (5.0, 4, 1.25)
    """
    g = pool_geometry(
        x, mode=mode, kernel_size=kernel_size, stride=stride, padding=padding,
        dilation=dilation, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    n_channels = g.x.shape[0]
    try:
        chan, pos, index, total = _select(
            n_channels, channels, g.out_shape, positions, offset, limit
        )
    except ParameterError as err:
        if err.param != "filters":
            raise
        raise ParameterError(
            str(err).replace("`filters`", "`channels`"), param="channels", accepted=err.accepted
        ) from None
    origin = pos * np.asarray(g.stride, dtype=np.int64)
    values, inside = gather(g.x, chan[:, None], origin, g.kernel, g.dilation, g.pads, "zeros")
    n = len(chan)
    inside = inside[:, 0]
    # taps inside the padded input (PyTorch's count_include_pad divisor)
    in_padded = np.ones_like(inside)
    for axis, (n_a, (before, after), k, d) in enumerate(
        zip(g.spatial_shape, g.pads, g.kernel, g.dilation, strict=True)
    ):
        i = origin[:, axis, None] + np.arange(k) * d - before
        shape = [n] + [1] * g.ndim
        shape[axis + 1] = k
        in_padded = in_padded & (i < n_a + after).reshape(shape)
    fill = -np.inf if g.mode == "max" else 0.0
    window = np.where(inside, values[:, 0].astype(np.float64), fill)
    flat = window.reshape(n, math.prod(g.kernel))
    if g.mode == "max":
        counted = inside
        best = np.argmax(flat, axis=1) if n else np.zeros(0, dtype=np.int64)
        winner = np.stack(np.unravel_index(best, g.kernel), axis=1).astype(np.int64)
        value = flat[np.arange(n), best]
        sums, divisor = np.full(n, np.nan), np.zeros(n, dtype=np.int64)
    else:
        counted = in_padded if g.count_include_pad else inside
        winner = np.full((n, g.ndim), -1, dtype=np.int64)
        sums = flat.sum(axis=1)
        divisor = counted.reshape(n, math.prod(g.kernel)).sum(axis=1).astype(np.int64)
        value = sums / divisor
    return PoolFrameBatch(
        index=index, channel=chan, position=pos, origin=origin, window=window,
        in_input=inside, counted=counted, winner=winner, sum=sums, divisor=divisor, value=value,
        total=total, padding=g.pads, output_shape=g.out_shape, mode=g.mode,
    )
