"""Transposed convolution, with the semantics of ``torch.nn.functional.conv_transposeNd``.

Every input position scatters its value times the kernel into the output: for each tap ``k``,
``full[f, i*s + k*d] += sum_c x[c, i] * w[c, f, k]``, which is one matrix product per tap
(``w[:, :, k].T @ x``) added into a strided view of the output. No zeros are inserted and no
work is spent on them. ``padding`` then trims the ends and ``output_padding`` extends the end.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

from .errors import OutputSizeError, ParameterError, ShapeError
from .methods.plan import working_dtype
from .shapes import as_tuple

__all__ = ["conv_transpose", "conv_transpose_shape"]


def _operands(x: Any, w: Any, groups: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    xa, wa = np.asarray(x), np.asarray(w)
    for arr, name in ((xa, "input"), (wa, "kernel")):
        if arr.dtype.kind not in "biuf":
            raise ParameterError(
                f"`{name}` must hold real numbers, got an array of dtype {arr.dtype}",
                param=name,
                accepted="a nested list or array of real numbers",
            )
    squeeze = False
    if xa.ndim == wa.ndim and 1 <= xa.ndim <= 3:
        xa, wa, squeeze = xa[None], wa[None, None], True
    elif wa.ndim == xa.ndim + 2 and 1 <= xa.ndim <= 3:
        xa = xa[None]
    elif not (wa.ndim == xa.ndim + 1 and 2 <= xa.ndim <= 4):
        raise ShapeError(
            f"cannot pair an input of shape {xa.shape} with a transposed-convolution kernel of "
            f"shape {wa.shape}",
            param="kernel",
            accepted="input (C, *S) with kernel (C, F/groups, *K); or input and kernel with the "
            "same number of axes; 1 to 3 spatial axes",
        )
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ParameterError(
            f"`groups` must be an int >= 1, got {groups!r}",
            param="groups",
            accepted="an int >= 1 dividing the input channels",
            suggestion={"groups": 1},
        )
    channels = xa.shape[0]
    if channels % groups:
        raise ShapeError(
            f"`groups` = {groups} must divide the input channels ({channels})",
            param="groups",
            accepted=f"a divisor of {channels}",
            suggestion={"groups": math.gcd(channels, groups)},
        )
    if wa.shape[0] != channels:
        raise ShapeError(
            f"a transposed-convolution kernel has one slice per input channel: the input has "
            f"{channels} channels but the kernel's first axis is {wa.shape[0]}",
            param="kernel",
            accepted=f"a kernel of shape ({channels}, F/groups, *K)",
        )
    if any(n < 1 for n in xa.shape[1:]) or any(k < 1 for k in wa.shape[1:]):
        raise ShapeError(
            f"every axis needs at least one element; got input {xa.shape}, kernel {wa.shape}",
            param="input" if any(n < 1 for n in xa.shape[1:]) else "kernel",
            accepted="non-empty arrays",
        )
    return xa, wa, squeeze


def conv_transpose_shape(
    spatial_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    *,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> tuple[int, ...]:
    """``(n - 1)*s - 2*p + d*(k - 1) + output_padding + 1`` per axis, validated.

    >>> conv_transpose_shape((3, 4), (3, 3), stride=2, padding=1, output_padding=1)
    (6, 8)
    """
    nd = len(spatial_shape)
    s = as_tuple(stride, nd, "stride")
    d = as_tuple(dilation, nd, "dilation")
    p = as_tuple(padding, nd, "padding", minimum=0)
    op = as_tuple(output_padding, nd, "output_padding", minimum=0)
    sizes = []
    for axis in range(nd):
        if op[axis] >= max(s[axis], d[axis]):
            limit = max(s[axis], d[axis]) - 1
            raise ParameterError(
                f"`output_padding` must be smaller than the stride or the dilation, got "
                f"{op[axis]} on axis {axis} with stride {s[axis]} and dilation {d[axis]}",
                param="output_padding",
                accepted=f"an int from 0 to {limit} on axis {axis}",
                suggestion={"output_padding": limit},
            )
        n, k = spatial_shape[axis], kernel_shape[axis]
        size = (n - 1) * s[axis] - 2 * p[axis] + d[axis] * (k - 1) + op[axis] + 1
        formula = (
            f"axis {axis}: ({n} - 1)*{s[axis]} - 2*{p[axis]} + {d[axis]}*({k} - 1) + "
            f"{op[axis]} + 1 = {size}"
        )
        if size < 1:
            best = ((n - 1) * s[axis] + d[axis] * (k - 1) + op[axis]) // 2
            raise OutputSizeError(
                f"the output would be empty: {formula}. Use padding <= {best} on axis {axis}.",
                param="padding",
                axis=axis,
                formula=formula,
                accepted=f"padding <= {best} on axis {axis}",
                suggestion={"padding": best},
            )
        sizes.append(size)
    return tuple(sizes)


def conv_transpose(
    x: Any,
    w: Any,
    *,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """Transposed convolution (the gradient of `conv` with respect to its input).

    Parameters
    ----------
    x : array_like, shape (C, *S) or (*S)
        Input with 1, 2 or 3 spatial axes (without a channel axis: one channel).
    w : array_like, shape (C, F/groups, *K) or (*K)
        PyTorch's layout for transposed kernels. With the same number of axes as ``x``, neither
        has a channel axis and the output has none either.
    bias : array_like, shape (F,) or scalar, optional
    stride, dilation : int >= 1 or one per spatial axis
    padding : int >= 0 or one per spatial axis
        As PyTorch: removes ``padding`` elements from both ends of every axis.
    output_padding : int >= 0 or one per spatial axis
        Extra size at the end, smaller than the stride or the dilation.
    groups : int
        Divides the input channels into independent groups.

    Returns
    -------
    ndarray, shape (F, *O) or (*O)
        ``O = (S - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1``; float32 for
        float32 inputs, else float64.

    Notes
    -----
    Cost: ``C * F/groups * prod(K) * prod(S)`` multiply-adds as one matrix product per tap;
    memory: the output plus one ``(F, *S)`` product.

    Examples
    --------
    >>> conv_transpose(np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0]), stride=2)
    array([  1.,  10., 102.,  20., 200.])
    >>> conv_transpose(np.ones((2, 3, 3)), np.ones((2, 4, 3, 3)), padding=1).shape
    (4, 3, 3)
    """
    xa, wa, squeeze = _operands(x, w, groups)
    nd = xa.ndim - 1
    kernel = tuple(int(k) for k in wa.shape[2:])
    out_shape = conv_transpose_shape(
        tuple(int(n) for n in xa.shape[1:]),
        kernel,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
    s = as_tuple(stride, nd, "stride")
    d = as_tuple(dilation, nd, "dilation")
    p = as_tuple(padding, nd, "padding", minimum=0)
    channels, fg = wa.shape[0], wa.shape[1]
    filters = fg * groups
    ba = None
    if bias is not None:
        ba = np.asarray(bias)
        if ba.dtype.kind not in "biuf" or ba.shape not in ((), (filters,)):
            raise ShapeError(
                f"`bias` must hold one value per filter ({filters}), got shape {ba.shape}",
                param="bias",
                accepted=f"a number or a list of {filters} numbers",
            )
    dtype = working_dtype(xa, wa, ba)
    cg = channels // groups
    spatial = xa.shape[1:]
    # the untrimmed result, long enough for the trimmed one with its output_padding
    full = tuple(
        max((n - 1) * si + di * (k - 1) + 1, pi + o)
        for n, si, di, k, pi, o in zip(spatial, s, d, kernel, p, out_shape, strict=True)
    )
    acc = np.zeros((filters, *full), dtype)
    xs = xa.astype(dtype, copy=False).reshape(groups, cg, -1)
    ws = wa.astype(dtype, copy=False)
    tmp = np.empty((fg, int(np.prod(spatial))), dtype)
    for tap in product(*(range(k) for k in kernel)):
        region = tuple(
            slice(t * di, t * di + (n - 1) * si + 1, si)
            for t, di, n, si in zip(tap, d, spatial, s, strict=True)
        )
        for g in range(groups):
            pick: tuple[Any, ...] = (slice(g * cg, (g + 1) * cg), slice(None), *tap)
            wt = ws[pick]  # (Cg, Fg)
            np.matmul(wt.T, xs[g], out=tmp)
            acc[(slice(g * fg, (g + 1) * fg), *region)] += tmp.reshape(fg, *spatial)
    out = acc[(slice(None), *(slice(pi, pi + o) for pi, o in zip(p, out_shape, strict=True)))]
    out = np.ascontiguousarray(out)
    if ba is not None:
        out += ba.astype(dtype).reshape((-1,) + (1,) * nd)
    return out[0] if squeeze else out
