"""Max and average pooling with PyTorch's semantics, and global pooling.

`pool` follows ``torch.nn.functional.max_poolNd`` / ``avg_poolNd`` for 1 to 3 spatial axes:
``kernel_size``, ``stride`` (default: the kernel size), ``padding`` (at most half the kernel),
``dilation`` (max only), ``ceil_mode`` and ``count_include_pad`` (avg). It reduces axis by axis
(separable taps): a running ``np.maximum`` / ``np.add`` over strided views of the padded input,
never a loop over output positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import PaddingError, ParameterError, ShapeError
from .shapes import Pads, as_tuple, output_shape, resolve_padding

__all__ = ["POOL_MODES", "PoolGeometry", "global_pool", "pool", "pool_geometry"]

POOL_MODES = ("max", "avg")


@dataclass(frozen=True)
class PoolGeometry:
    """Validated pooling arguments in per-axis form (shared by `pool` and ``pool_frames``)."""

    x: np.ndarray  # (C, *S) in the working dtype
    mode: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: Pads
    ceil_mode: bool
    count_include_pad: bool
    out_shape: tuple[int, ...]  # spatial output shape O
    squeeze: bool  # the input had no channel axis

    @property
    def ndim(self) -> int:
        return len(self.kernel)

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def extent(self, axis: int) -> int:
        """Padded-input length that the windows of ``axis`` read (ceil mode may overhang)."""
        return (self.out_shape[axis] - 1) * self.stride[axis] + self.dilation[axis] * (
            self.kernel[axis] - 1
        ) + 1

    def divisor(self) -> np.ndarray:
        """The number each window's sum is divided by (avg), shape O, as PyTorch counts it.

        With ``count_include_pad`` the taps inside the padded input count (not those a ceil-mode
        window hangs past the padding); without it only the taps inside the input.
        """
        counts = []
        for n, (before, after), k, s, o in zip(
            self.spatial_shape, self.pads, self.kernel, self.stride, self.out_shape, strict=True
        ):
            start = np.arange(o) * s - before
            stop = np.minimum(start + k, n + after)
            if not self.count_include_pad:
                start, stop = np.maximum(start, 0), np.minimum(stop, n)
            counts.append(stop - start)
        total = counts[0]
        for c in counts[1:]:
            total = np.multiply.outer(total, c)
        return np.asarray(total)


def _checked_input(x: Any, mode: str) -> np.ndarray:
    """The checks every pooling entry point starts with: a known mode and real numbers."""
    if mode not in POOL_MODES:
        raise ParameterError(
            f'`mode` must be "max" or "avg", got {mode!r}',
            param="mode",
            accepted='"max" or "avg"',
            suggestion={"mode": "max"},
        )
    xa = np.asarray(x)
    if xa.dtype.kind not in "biuf":
        raise ParameterError(
            f"`input` must hold real numbers, got an array of dtype {xa.dtype}",
            param="input",
            accepted="a nested list or array of real numbers",
        )
    return xa


def _kernel_ndim(x: np.ndarray, kernel_size: Any) -> int:
    if isinstance(kernel_size, Sequence) and not isinstance(kernel_size, str):
        return len(kernel_size)
    return max(x.ndim - 1, 1)


def pool_geometry(
    x: Any,
    *,
    mode: str,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> PoolGeometry:
    """Validate the arguments of `pool` (every check before any work); see `pool`."""
    xa = _checked_input(x, mode)
    for name, flag in (("ceil_mode", ceil_mode), ("count_include_pad", count_include_pad)):
        if not isinstance(flag, bool | np.bool_):
            raise ParameterError(
                f"`{name}` must be true or false, got {flag!r}", param=name, accepted="a boolean"
            )
    nd = _kernel_ndim(xa, kernel_size)
    if not 1 <= nd <= 3 or xa.ndim not in (nd, nd + 1):
        why = (
            f"{nd} spatial axes need an input of {nd} axes (no channel axis) or {nd + 1} "
            "(channels first)" if 1 <= nd <= 3 else "pooling takes 1 to 3 spatial axes"
        )
        raise ShapeError(
            f"cannot pool an input of shape {xa.shape} with kernel_size {kernel_size!r}: {why}",
            param="input",
            accepted="an input (C, *S) or (*S) with 1 to 3 spatial axes, and kernel_size an int "
            "or one int per spatial axis",
        )
    squeeze = xa.ndim == nd
    if squeeze:
        xa = xa[None]
    if any(n < 1 for n in xa.shape):
        raise ShapeError(
            f"every axis of the input needs at least one element, got shape {xa.shape}",
            param="input",
            accepted="a non-empty array",
        )
    kernel = as_tuple(kernel_size, nd, "kernel_size")
    strides = kernel if stride is None else as_tuple(stride, nd, "stride")
    dilations = as_tuple(dilation, nd, "dilation")
    if mode == "avg" and any(d != 1 for d in dilations):
        raise ParameterError(
            f"`dilation` is only defined for max pooling (as in PyTorch); average pooling needs "
            f"dilation 1, got {list(dilations)}",
            param="dilation",
            accepted='1 for mode "avg" (any int >= 1 for mode "max")',
            suggestion={"dilation": 1},
        )
    spatial = tuple(int(n) for n in xa.shape[1:])
    pads = resolve_padding(
        padding, spatial_shape=spatial, kernel_shape=kernel, stride=strides, dilation=dilations
    )
    for axis, ((before, after), k) in enumerate(zip(pads, kernel, strict=True)):
        if max(before, after) > k // 2:
            raise PaddingError(
                f"`padding` of [{before}, {after}] on axis {axis} is more than half the pooling "
                f"window (kernel_size {k}): at most {k // 2} is allowed, as in PyTorch, so that "
                "every window sees at least one input value",
                param="padding",
                accepted=f"at most {k // 2} on axis {axis} (half of kernel_size {k})",
                suggestion={"padding": k // 2},
            )
    out = output_shape(
        spatial, kernel, stride=strides, padding=pads, dilation=dilations,
        ceil_mode=bool(ceil_mode),
    )
    dtype = np.float32 if xa.dtype == np.float32 else np.float64
    return PoolGeometry(
        x=xa.astype(dtype, copy=False),
        mode=mode,
        kernel=kernel,
        stride=strides,
        dilation=dilations,
        pads=pads,
        ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
        out_shape=out,
        squeeze=squeeze,
    )


def pool(
    x: Any,
    *,
    mode: str,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Max or average pooling of every channel, as ``torch.nn.functional.max_poolNd/avg_poolNd``.

    Parameters
    ----------
    x : array_like, shape (C, *S) or (*S)
        1 to 3 spatial axes. How many: ``len(kernel_size)`` when ``kernel_size`` is a sequence
        (then an input with exactly that many axes has no channel axis); for an int
        ``kernel_size``, ``x.ndim - 1`` (the first axis is the channels), except that a 1-D
        input is one channel-less signal. So a grey image ``(H, W)`` needs ``kernel_size=[k, k]``:
        with an int it would be read as ``H`` channels of 1-D signals.
    mode : {"max", "avg"}
    kernel_size : int or sequence of int
    stride : int or sequence of int, optional
        Defaults to ``kernel_size``.
    padding : int, sequence, or "valid"/"same"
        Any form `resolve_padding` takes, each side at most ``kernel_size // 2`` (PyTorch's rule).
        Max pooling pads with ``-inf`` (padding never wins), average pooling with zeros.
        Keras's ``padding="same"`` average pooling does not count the padding: pass
        ``count_include_pad=False`` with it.
    dilation : int or sequence of int
        Gaps between the taps; max pooling only (as in PyTorch).
    ceil_mode : bool
        Round the output size up, keeping a last partial window, but only if it starts inside
        the input or its left padding.
    count_include_pad : bool
        Average pooling: count padded zeros in the divisor (PyTorch's default). Taps that a
        ceil-mode window hangs past the padding are never counted.

    Returns
    -------
    ndarray, shape (C, *O) or (*O) without a channel axis
        float32 for a float32 input, else float64.

    Raises
    ------
    ParameterError, ShapeError, PaddingError, OutputSizeError
        Before any work, naming the argument and the values received.

    Notes
    -----
    Cost: separable, axis by axis: about ``C * sum_a(k_a * prod(O_<=a) * prod(P_>a))`` maximums
    or additions (``P`` the padded sizes), e.g. ``k_0 * O_0 * P_1 + k_1 * O_0 * O_1`` in 2-D
    instead of ``k_0 * k_1 * O_0 * O_1``. Memory: one padded copy of the input (only when there
    is padding or a ceil-mode overhang), one partial result per axis and the output.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 5.0], [3.0, 4.0, 0.0], [6.0, 0.0, 1.0]])
    >>> pool(x, mode="max", kernel_size=[2, 2])
    array([[4.]])
    >>> pool(x, mode="max", kernel_size=[2, 2], ceil_mode=True)
    array([[4., 5.],
           [6., 1.]])
    >>> pool(x[None], mode="avg", kernel_size=2, stride=1)
    array([[[2.5 , 2.75],
            [3.25, 1.25]]])
    >>> pool(x, mode="avg", kernel_size=[3, 3], stride=2, padding=1, count_include_pad=False)
    array([[2.5 , 2.75],
           [3.25, 1.25]])
    """
    g = pool_geometry(
        x, mode=mode, kernel_size=kernel_size, stride=stride, padding=padding,
        dilation=dilation, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    fill = -np.inf if g.mode == "max" else 0.0
    xp = _pad_constant(g, fill)
    reduce = np.maximum if g.mode == "max" else np.add
    acc = xp
    for axis in range(g.ndim):
        acc = _reduce_axis(acc, axis + 1, g.kernel[axis], g.stride[axis], g.dilation[axis],
                           g.out_shape[axis], reduce)
    if g.mode == "avg":
        acc /= g.divisor().astype(acc.dtype)
    return acc[0] if g.squeeze else acc


def _pad_constant(g: PoolGeometry, fill: float) -> np.ndarray:
    """The input padded with ``fill`` far enough for every window (ceil mode may overhang)."""
    widths = [(0, 0)]
    for axis, (before, _) in enumerate(g.pads):
        widths.append((before, max(g.extent(axis) - before - g.spatial_shape[axis], 0)))
    if not any(b or a for b, a in widths):
        return g.x
    return np.pad(g.x, widths, mode="constant", constant_values=fill)


def _reduce_axis(
    a: np.ndarray, axis: int, k: int, s: int, d: int, o: int, reduce: np.ufunc
) -> np.ndarray:
    """Running ``reduce`` over the ``k`` taps of ``axis``: one strided view per tap."""

    def tap(t: int) -> np.ndarray:
        index = [slice(None)] * a.ndim
        index[axis] = slice(t * d, t * d + (o - 1) * s + 1, s)
        return a[tuple(index)]

    if k == 1:
        return tap(0).copy()
    acc: np.ndarray = reduce(tap(0), tap(1))
    for t in range(2, k):
        reduce(acc, tap(t), out=acc)
    return acc


def global_pool(x: Any, mode: str) -> np.ndarray:
    """Global max or average pooling: one value per channel.

    Parameters
    ----------
    x : array_like, shape (C, *S)
        A channel-first map with 1 to 3 spatial axes (like Keras's ``GlobalMaxPooling2D``
        without the batch axis).
    mode : {"max", "avg"}

    Returns
    -------
    ndarray, shape (C,)
        float32 for a float32 input, else float64.

    Notes
    -----
    Cost: one pass over ``x``; memory: the ``C`` results.

    Examples
    --------
    >>> global_pool(np.arange(8.0).reshape(2, 2, 2), "avg")
    array([1.5, 5.5])
    >>> global_pool(np.arange(8.0).reshape(2, 2, 2), "max")
    array([3., 7.])
    """
    xa = _checked_input(x, mode)
    if not 2 <= xa.ndim <= 4 or xa.size == 0:
        raise ShapeError(
            f"global pooling needs a non-empty input (C, *S) with 1 to 3 spatial axes, got "
            f"shape {xa.shape}",
            param="input",
            accepted="an array of shape (C, *S) with 1 to 3 spatial axes",
        )
    dtype = np.float32 if xa.dtype == np.float32 else np.float64
    flat = xa.astype(dtype, copy=False).reshape(xa.shape[0], -1)
    out: np.ndarray = flat.max(axis=1) if mode == "max" else flat.mean(axis=1, dtype=dtype)
    return out
