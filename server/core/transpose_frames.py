"""Step-by-step frames of a transposed convolution: which stamps reach each output cell.

A transposed convolution scatters: input cell ``i`` (channel ``c``) adds ``x[c, i] * w[c, f, k]``
to output cell ``o = i*stride + k*dilation - padding`` of every filter ``f`` of its group. Read
backwards, output cell ``o`` of filter ``f`` is the bias plus the products of every (input cell,
kernel tap) pair whose stamp lands on it: ``i = (o + padding - k*dilation) / stride`` must be a
whole number inside the input. A frame lists those pairs, the *taps* of the cell, and their sum.

Frames are ordered as the convolution's (DESIGN §3): filter-major, then output positions in
row-major order, ``total = F * prod(O)``. A frame's taps are ordered by input channel, then by
input coordinates (row-major), so a cell's sum reads like the input it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from .errors import ShapeError
from .frames import _select
from .methods.gather import json_list
from .shapes import as_tuple
from .transpose import _operands, conv_transpose_shape

__all__ = ["TransposeFrameBatch", "conv_transpose_frames", "gather_geometry"]


@dataclass(frozen=True)
class TransposeFrameBatch:
    """A page of transposed-convolution frames (``n`` of them) and the taps of each.

    Attributes
    ----------
    index, filter : (n,) canonical frame number ``filter * prod(O) + flat position``; filter
    position : (n, nd) output coordinates
    bias, value : (n,) float64; ``value = bias + sum of the frame's products``
    tap_frame : (m,) which frame (0..n-1) each of the ``m`` taps belongs to, ascending
    tap_channel : (m,) the input channel of the tap
    tap_input, tap_kernel : (m, nd) input and kernel coordinates (spatial)
    tap_x, tap_w, tap_product : (m,) float64 input value, weight, and their product
    total : the number of frames selected
    output_shape : spatial output shape ``O``
    """

    index: np.ndarray
    filter: np.ndarray
    position: np.ndarray
    bias: np.ndarray
    value: np.ndarray
    tap_frame: np.ndarray
    tap_channel: np.ndarray
    tap_input: np.ndarray
    tap_kernel: np.ndarray
    tap_x: np.ndarray
    tap_w: np.ndarray
    tap_product: np.ndarray
    total: int
    output_shape: tuple[int, ...]

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def taps(self) -> list[list[dict[str, Any]]]:
        """Every frame's taps as JSON-ready dicts ``{channel, input, kernel, x, w, product}``."""
        rows = zip(
            self.tap_channel.tolist(), self.tap_input.tolist(), self.tap_kernel.tolist(),
            json_list(self.tap_x), json_list(self.tap_w), json_list(self.tap_product),
            strict=True,
        )
        flat = [
            {"channel": c, "input": i, "kernel": k, "x": x, "w": w, "product": p}
            for c, i, k, x, w, p in rows
        ]
        ends = np.cumsum(np.bincount(self.tap_frame, minlength=len(self))).tolist()
        starts = [0, *ends[:-1]]
        return [flat[a:b] for a, b in zip(starts, ends, strict=True)]

    def to_list(self) -> list[dict[str, Any]]:
        """The frames as DESIGN §3's dicts: index, filter, position, taps, bias, value."""
        columns = {
            "index": self.index.tolist(),
            "filter": self.filter.tolist(),
            "position": self.position.tolist(),
            "taps": self.taps(),
            "bias": json_list(self.bias),
            "value": json_list(self.value),
        }
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def gather_geometry(
    spatial_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    *,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> list[dict[str, int]]:
    """The direct convolution equal to a transposed one, per axis.

    Insert ``stride - 1`` zeros between neighbouring inputs (``(n-1)*stride + 1`` cells), pad
    ``d*(k-1) - padding`` before and ``d*(k-1) - padding + output_padding`` after (a negative
    amount crops), then slide the flipped kernel with stride 1 and the same dilation.

    >>> gather_geometry((3,), (3,), stride=2, padding=1, output_padding=1)
    [{'upsampled': 5, 'before': 1, 'after': 2, 'size': 6}]
    """
    out = conv_transpose_shape(spatial_shape, kernel_shape, stride=stride, padding=padding,
                               output_padding=output_padding, dilation=dilation)
    nd = len(spatial_shape)
    s = as_tuple(stride, nd, "stride")
    d = as_tuple(dilation, nd, "dilation")
    p = as_tuple(padding, nd, "padding", minimum=0)
    op = as_tuple(output_padding, nd, "output_padding", minimum=0)
    axes = []
    for a in range(nd):
        reach = d[a] * (kernel_shape[a] - 1) - p[a]
        axes.append({"upsampled": (spatial_shape[a] - 1) * s[a] + 1, "before": reach,
                     "after": reach + op[a], "size": out[a]})
    return axes


def conv_transpose_frames(
    x: Any,
    w: Any,
    *,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    offset: int = 0,
    limit: int = 100,
    positions: Any = None,
    filters: Any = None,
) -> TransposeFrameBatch:
    """A page of transposed-convolution frames: every stamp that reaches chosen output cells.

    Parameters
    ----------
    x, w, bias, stride, padding, output_padding, dilation, groups
        As for `conv_transpose` (the same validation and errors). With the shorthand (no channel
        axes) there is one filter (0) and one input channel (0).
    offset, limit, positions, filters
        As for `frames`: a page of the filter-major, row-major order, or these output cells.

    Returns
    -------
    TransposeFrameBatch

    Notes
    -----
    Cost: ``n * C/groups * prod(K)`` for ``n`` frames, in float64, whatever the input size: one
    vectorized pass over the page per kernel tap (no loop over output cells).

    Examples
    --------
    >>> b = conv_transpose_frames(np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0]), stride=2)
    >>> b.total, b.output_shape, b.value.tolist()
    (5, (5,), [1.0, 10.0, 102.0, 20.0, 200.0])
    >>> [(t["input"], t["kernel"], t["product"]) for t in b.to_list()[2]["taps"]]
    [([0], [2], 100.0), ([1], [0], 2.0)]
    """
    xa, wa, _ = _operands(x, w, groups)
    nd = xa.ndim - 1
    spatial = tuple(int(n) for n in xa.shape[1:])
    kernel = tuple(int(k) for k in wa.shape[2:])
    out_shape = conv_transpose_shape(spatial, kernel, stride=stride, padding=padding,
                                     output_padding=output_padding, dilation=dilation)
    s = np.asarray(as_tuple(stride, nd, "stride"), dtype=np.int64)
    d = np.asarray(as_tuple(dilation, nd, "dilation"), dtype=np.int64)
    p = np.asarray(as_tuple(padding, nd, "padding", minimum=0), dtype=np.int64)
    channels, fg = int(wa.shape[0]), int(wa.shape[1])
    n_filters = fg * groups
    cg = channels // groups
    biases = np.zeros(n_filters)
    if bias is not None:
        ba = np.asarray(bias)
        if ba.dtype.kind not in "biuf" or ba.shape not in ((), (n_filters,)):
            raise ShapeError(
                f"`bias` must hold one value per filter ({n_filters}), got shape {ba.shape}",
                param="bias",
                accepted=f"a number or a list of {n_filters} numbers",
            )
        biases = np.broadcast_to(ba.astype(np.float64), (n_filters,))
    filt, pos, index, total = _select(n_filters, filters, out_shape, positions, offset, limit)
    n = len(filt)
    xf = xa.astype(np.float64, copy=False)
    wf = wa.astype(np.float64, copy=False)
    group = filt // fg
    chans = group[:, None] * cg + np.arange(cg)  # (n, cg) input channels each frame reads
    # Reversed kernel order walks the input upwards: taps come out in input row-major order.
    kernel_taps = list(product(*(range(k - 1, -1, -1) for k in kernel)))
    t = len(kernel_taps)
    taps = np.asarray(kernel_taps, dtype=np.int64).reshape(t, nd)  # (t, nd)
    shifted = pos[:, None, :] + p - taps[None] * d  # (n, t, nd): i * stride
    spatial_arr = np.asarray(spatial, dtype=np.int64)
    hit = ((shifted % s == 0) & (shifted >= 0) & (shifted < spatial_arr * s)).all(axis=2)
    inputs = np.where(hit[..., None], shifted // s, 0)  # (n, t, nd)
    # values for every (frame, channel, tap); misses read cell 0 and are dropped below
    xv = xf[(chans[:, :, None], *np.moveaxis(inputs, 2, 0)[:, :, None, :])]  # (n, cg, t)
    wv = wf[(chans[:, :, None], (filt % fg)[:, None, None], *taps.T[:, None, None, :])]
    prods = xv * wv
    mask = np.broadcast_to(hit[:, None, :], (n, cg, t))
    value = biases[filt] + np.where(mask, prods, 0.0).reshape(n, cg * t).sum(axis=1)
    fi, ci, ti = np.nonzero(mask)  # frame-major, then channel, then tap: the documented order
    return TransposeFrameBatch(
        index=index,
        filter=filt,
        position=pos,
        bias=biases[filt].copy(),
        value=value,
        tap_frame=fi.astype(np.int64),
        tap_channel=chans[fi, ci],
        tap_input=inputs[fi, ti],
        tap_kernel=taps[ti],
        tap_x=xv[fi, ci, ti],
        tap_w=wv[fi, ci, ti],
        tap_product=prods[fi, ci, ti],
        total=total,
        output_shape=out_shape,
    )

