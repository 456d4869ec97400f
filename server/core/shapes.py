"""Shapes: per-axis parameters, padding resolution and the output-size formula.

Everything here is arithmetic on shapes (no array data), shared by convolution, pooling, frames
and the web layer, so that the size a request will produce can be checked before any work is done.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import OutputSizeError, ParameterError, ShapeError

Pads = tuple[tuple[int, int], ...]

PADDING_WORDS = ("valid", "same", "full")
PADDING_ACCEPTED = (
    'an int >= 0, one int per spatial axis, one [before, after] pair per axis, '
    'or one of "valid", "same", "full"'
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def real_array(value: Any, name: str) -> np.ndarray:
    """``value`` as an array of real numbers (booleans and ints included), or a
    `ParameterError` naming ``name`` and the dtype received (text, objects, complex)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ParameterError(
            f"`{name}` must hold real numbers, got an array of dtype {arr.dtype}",
            param=name,
            accepted="a nested list or array of real numbers",
        )
    return arr


def as_tuple(value: Any, ndim: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """Turn an int or a sequence of ``ndim`` ints into a tuple, checking ``value >= minimum``.

    >>> as_tuple(2, 3, "stride")
    (2, 2, 2)
    >>> as_tuple([1, 2], 2, "dilation")
    (1, 2)
    """
    # the common, valid forms first: this runs several times per call of every core function,
    # so a training step on small batches spends real time here (`type(v) is int` excludes bool)
    if type(value) is int and value >= minimum:
        return (value,) * ndim
    if (type(value) is tuple and len(value) == ndim
            and all(type(v) is int and v >= minimum for v in value)):
        return value
    ints = "such ints" if ndim != 1 else "such int"
    accepted = f"an int >= {minimum} or a list of {ndim} {ints} (one per spatial axis)"
    if _is_int(value):
        values: tuple[int, ...] = (int(value),) * ndim
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != ndim or not all(_is_int(v) for v in value):
            raise ParameterError(
                f"`{name}` must be {accepted}, got {list(value)!r}", param=name, accepted=accepted
            )
        values = tuple(int(v) for v in value)
    else:
        raise ParameterError(
            f"`{name}` must be {accepted}, got {value!r}", param=name, accepted=accepted
        )
    for axis, v in enumerate(values):
        if v < minimum:
            # per-axis values keep their form: only the axes out of range change
            fixed: int | list[int] = (
                minimum if _is_int(value) else [max(u, minimum) for u in values]
            )
            raise ParameterError(
                f"`{name}` must be >= {minimum}, got {v} on axis {axis}",
                param=name,
                accepted=accepted,
                suggestion={name: fixed},
            )
    return values


def resolve_padding(
    padding: Any,
    *,
    spatial_shape: Sequence[int],
    kernel_shape: Sequence[int],
    stride: Any = 1,
    dilation: Any = 1,
) -> Pads:
    """Resolve any padding form into one ``(before, after)`` pair per spatial axis.

    ``"same"`` follows TensorFlow/Keras: ``out = ceil(n / s)`` and the odd pixel goes after.

    >>> resolve_padding("same", spatial_shape=(6, 7), kernel_shape=(4, 4), stride=2)
    ((1, 1), (1, 2))
    >>> resolve_padding("full", spatial_shape=(9,), kernel_shape=(3,), dilation=2)
    ((4, 4),)
    >>> resolve_padding([[1, 0], [2, 1]], spatial_shape=(4, 5), kernel_shape=(2, 3))
    ((1, 0), (2, 1))
    """
    ndim = len(spatial_shape)
    strides = as_tuple(stride, ndim, "stride")
    dilations = as_tuple(dilation, ndim, "dilation")
    if type(padding) is tuple and len(padding) == ndim and all(
            type(p) is tuple and len(p) == 2 and type(p[0]) is int and type(p[1]) is int
            and p[0] >= 0 and p[1] >= 0 for p in padding):
        return padding  # already resolved (what `resolve_padding` returns): nothing to check
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return ((0, 0),) * ndim
        if word == "full":
            return tuple((d * (k - 1),) * 2 for k, d in zip(kernel_shape, dilations, strict=True))
        if word == "same":
            pads = []
            for n, k, s, d in zip(spatial_shape, kernel_shape, strides, dilations, strict=True):
                out = -(-n // s)
                total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ParameterError(
            f"`padding` must be {PADDING_ACCEPTED}, got {padding!r}",
            param="padding",
            accepted=PADDING_ACCEPTED,
        )
    if _is_int(padding):
        pairs: list[tuple[int, int]] = [(int(padding), int(padding))] * ndim
    elif isinstance(padding, Sequence) and len(padding) == ndim:
        pairs = []
        for item in padding:
            if _is_int(item):
                pairs.append((int(item), int(item)))
            elif (
                isinstance(item, Sequence)
                and not isinstance(item, str)
                and len(item) == 2
                and all(_is_int(v) for v in item)
            ):
                pairs.append((int(item[0]), int(item[1])))
            else:
                raise ParameterError(
                    f"`padding` must be {PADDING_ACCEPTED}; got {list(padding)!r} "
                    f"for {ndim} spatial axes",
                    param="padding",
                    accepted=PADDING_ACCEPTED,
                )
    else:
        got = list(padding) if isinstance(padding, Sequence) else padding
        raise ParameterError(
            f"`padding` must be {PADDING_ACCEPTED}; got {got!r} for {ndim} spatial axes",
            param="padding",
            accepted=PADDING_ACCEPTED,
        )
    for axis, (before, after) in enumerate(pairs):
        if before < 0 or after < 0:
            raise ParameterError(
                f"`padding` must be >= 0, got [{before}, {after}] on axis {axis}",
                param="padding",
                accepted=PADDING_ACCEPTED,
                suggestion={"padding": 0},
            )
    return tuple(pairs)


@dataclass(frozen=True)
class _Axis:
    n: int
    before: int
    after: int
    k: int
    s: int
    d: int
    ceil_mode: bool

    @property
    def size(self) -> int:
        span = self.n + self.before + self.after - self.d * (self.k - 1) - 1
        if not self.ceil_mode:
            return span // self.s + 1
        out = -(-span // self.s) + 1
        # PyTorch: the last window must start inside the input or its left padding
        if span >= 0 and (out - 1) * self.s >= self.n + self.before:
            out -= 1
        return out

    def formula(self, axis: int) -> str:
        rounding = "ceil" if self.ceil_mode else "floor"
        return (
            f"axis {axis}: {rounding}(({self.n} + {self.before} + {self.after} - "
            f"{self.d}*({self.k}-1) - 1) / {self.s}) + 1 = {self.size}"
        )


def _axes(
    spatial_shape: Sequence[int],
    kernel_shape: Sequence[int],
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[list[_Axis], Pads]:
    ndim = len(spatial_shape)
    if len(kernel_shape) != ndim:
        raise ShapeError(
            f"the kernel has {len(kernel_shape)} spatial axes {tuple(kernel_shape)} but the input "
            f"has {ndim} {tuple(spatial_shape)}",
            param="kernel",
            accepted=f"a kernel with {ndim} spatial axes",
        )
    strides = as_tuple(stride, ndim, "stride")
    dilations = as_tuple(dilation, ndim, "dilation")
    as_tuple(tuple(kernel_shape), ndim, "kernel_size")
    pads = resolve_padding(
        padding, spatial_shape=spatial_shape, kernel_shape=kernel_shape, stride=strides,
        dilation=dilations,
    )
    axes = [
        _Axis(int(n), b, a, int(k), s, d, ceil_mode)
        for n, (b, a), k, s, d in zip(
            spatial_shape, pads, kernel_shape, strides, dilations, strict=True
        )
    ]
    return axes, pads


def explain_output_shape(
    spatial_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> list[str]:
    """The output-size formula of every axis with the numbers substituted.

    Never raises for an empty output: the text is what explains it.

    >>> explain_output_shape((5, 4), (3, 3), stride=2, padding=1)
    ['axis 0: floor((5 + 1 + 1 - 1*(3-1) - 1) / 2) + 1 = 3', \
'axis 1: floor((4 + 1 + 1 - 1*(3-1) - 1) / 2) + 1 = 2']
    """
    axes, _ = _axes(spatial_shape, kernel_shape, stride, padding, dilation, ceil_mode)
    return [a.formula(i) for i, a in enumerate(axes)]


def output_shape(
    spatial_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """Spatial output shape: ``floor((n + before + after - d*(k-1) - 1) / s) + 1`` per axis.

    Raises `OutputSizeError` naming the axis, the formula with numbers, and the smallest padding
    (or largest dilation) that gives at least one output.

    >>> output_shape((5, 5), (3, 3))
    (3, 3)
    >>> output_shape((7,), (3,), stride=2, padding="same")
    (4,)
    """
    axes, _ = _axes(spatial_shape, kernel_shape, stride, padding, dilation, ceil_mode)
    for i, a in enumerate(axes):
        if a.size < 1:
            raise _empty_axis_error(i, a)
    return tuple(a.size for a in axes)


def _empty_axis_error(axis: int, a: _Axis) -> OutputSizeError:
    window = a.d * (a.k - 1) + 1
    padded = a.n + a.before + a.after
    # the window must fit into the padded input; stride cannot help once it does not
    need = window - a.n
    min_pad = -(-need // 2)
    hints = [f'padding >= {min_pad} on axis {axis} (or padding "same")']
    alternatives: list[dict[str, Any]] = []
    if a.k > 1 and a.d > 1:
        max_dilation = max((padded - 1) // (a.k - 1), 1)
        hints.append(f"dilation <= {max_dilation}")
        alternatives.append({"dilation": max_dilation})
    hints.append(f"a kernel of at most {padded} taps on axis {axis}")
    formula = a.formula(axis)
    return OutputSizeError(
        f"the output would be empty: {formula}. The window spans {window} "
        f"(kernel {a.k}, dilation {a.d}) but the padded input is only {padded} long "
        f"({a.n} + {a.before} + {a.after}). Use " + ", or ".join(hints) + ".",
        param="padding",
        axis=axis,
        formula=formula,
        accepted=", or ".join(hints),
        suggestion={"padding": min_pad},
        alternatives=alternatives,
    )


@dataclass(frozen=True)
class Operands:
    """Input and kernel brought to the full ``(C, *S)`` / ``(F, C/groups, *K)`` form."""

    x: np.ndarray
    w: np.ndarray
    squeeze: bool  # shorthand: the caller gets the output without the filter axis

    @property
    def spatial_ndim(self) -> int:
        return self.x.ndim - 1


def normalize_operands(x: np.ndarray, w: np.ndarray, *, groups: int = 1) -> Operands:
    """Apply DESIGN §2's shorthand rules and check that channels and groups agree.

    >>> op = normalize_operands(np.zeros((5, 5)), np.zeros((3, 3)))
    >>> op.x.shape, op.w.shape, op.squeeze
    ((1, 5, 5), (1, 1, 3, 3), True)
    """
    x = np.asarray(x)
    w = np.asarray(w)
    squeeze = False
    if x.ndim == w.ndim and 1 <= x.ndim <= 3:
        x, w, squeeze = x[None], w[None, None], True
    elif w.ndim == x.ndim + 2 and 1 <= x.ndim <= 3:
        x = x[None]
    elif not (w.ndim == x.ndim + 1 and 2 <= x.ndim <= 4):
        raise ShapeError(
            f"cannot pair an input of shape {x.shape} with a kernel of shape {w.shape}",
            param="kernel",
            accepted="input (C, *S) with kernel (F, C/groups, *K); or input and kernel with the "
            "same number of axes (one channel, one filter); or input (*S) with kernel "
            "(F, 1, *K); 1 to 3 spatial axes",
        )
    if not _is_int(groups) or groups < 1:
        raise ParameterError(
            f"`groups` must be an int >= 1, got {groups!r}", param="groups",
            accepted="an int >= 1 dividing both the input channels and the filters",
            suggestion={"groups": 1},
        )
    channels, filters, per_group = x.shape[0], w.shape[0], w.shape[1]
    if channels % groups or filters % groups:
        raise ShapeError(
            f"`groups` = {groups} must divide the input channels ({channels}) and the filters "
            f"({filters})",
            param="groups",
            accepted=f"a common divisor of {channels} and {filters}",
            suggestion={"groups": math.gcd(channels, filters)},
        )
    if per_group * groups != channels:
        raise ShapeError(
            f"the kernel has {per_group} channels per filter but the input has {channels} "
            f"channels in {groups} group(s), so each filter must have {channels // groups}",
            param="kernel",
            accepted=f"a kernel of shape (F, {channels // groups}, *K)",
        )
    if any(k < 1 for k in w.shape[2:]) or any(n < 1 for n in x.shape[1:]):
        raise ShapeError(
            f"every spatial axis needs at least one element; got input {x.shape}, kernel "
            f"{w.shape}",
            param="input" if any(n < 1 for n in x.shape[1:]) else "kernel",
            accepted="non-empty arrays",
        )
    return Operands(x, w, squeeze)
