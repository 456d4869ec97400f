"""Multi-channel convolution (cross-correlation, as in deep-learning libraries).

`conv` validates everything first, then hands a `ConvPlan` (the normalized operands and every
per-axis parameter as tuples) to one of the vectorized methods picked by `methods.choose`:
shift-and-add over taps (`methods.direct`: axpys straight over the input for a handful of
filters x channels, `methods.taps`; one GEMM per kernel row for few channels; one GEMM per tap
otherwise), tiled im2col + one matrix product per tile (`methods.im2col`), the FFT
(`methods.fft`), or Winograd F(4x4, 3x3) as batched matrix products for deep 3x3 layers
(`methods.winograd4`); Winograd F(2x2, 3x3) (`methods.winograd`) runs only when forced. All of
them work in row tiles or chunks of a bounded size (the input is never padded or copied as a
whole), so memory stays near the size of the output whatever the input. The tile buffers are
reused across calls (`methods.scratch`), and the products go through NumPy's own BLAS with
in-place accumulation when it can be reached (`methods.blas`), else through NumPy alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .methods import direct, fft, im2col, winograd, winograd4
from .methods.choose import METHODS, choose
from .methods.plan import ConvPlan, make_plan

__all__ = ["conv", "conv_method"]

_RUNNERS = {
    "direct": direct.run,
    "im2col": im2col.run,
    "fft": fft.run,
    "winograd": winograd.run,
    "winograd4": winograd4.run,
}


def conv(
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
    method: str = "auto",
    tile_bytes: int | None = None,
) -> np.ndarray:
    """Convolve a channel-first input with a bank of filters (DESIGN §2).

    ``out[f, o] = bias[f] + sum_{c, k} w[f, c, k] * xpad[c, o*stride + k*dilation]``: the
    cross-correlation of deep-learning libraries; ``flip=True`` gives mathematical convolution.

    Parameters
    ----------
    x : array_like, shape (C, *S) or (*S)
        The input, with 1, 2 or 3 spatial axes. Without a channel axis it is one channel.
    w : array_like, shape (F, C/groups, *K) or (*K)
        The filters. When ``x`` and ``w`` have the same number of axes neither has a channel axis
        (one channel, one filter) and the output has no filter axis either.
    bias : array_like, shape (F,) or scalar, optional
        Added to every output of a filter.
    stride, dilation : int or sequence of int, >= 1
        One value for every spatial axis, or one per axis.
    padding : int, sequence, or {"valid", "same", "full"}
        An int >= 0, one int per axis, one ``[before, after]`` pair per axis, or a word:
        ``"same"`` follows TensorFlow/Keras (``out = ceil(n/s)``, the odd pixel after),
        ``"full"`` pads ``dilation*(k-1)`` on both sides.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        PyTorch's meaning; reflect and circular need padding smaller than the side.
    groups : int
        Splits channels and filters into that many independent groups.
    flip : bool
        Flip the kernel on every spatial axis first (true convolution).
    method : {"auto", "direct", "im2col", "fft", "winograd", "winograd4"}
        Force one method; ``"auto"`` lets `conv_method` choose (the results agree to rounding).
        ``"winograd"`` (F(2x2, 3x3)) and ``"winograd4"`` (F(4x4, 3x3)) need 2 spatial axes, a
        3x3 kernel, stride 1, dilation 1.
    tile_bytes : int, optional
        Working-memory budget per tile (``methods.plan.TILE_BYTES`` by default, 32 MiB).

    Returns
    -------
    ndarray, shape (F, *O) or (*O) for the shorthand
        A new C-contiguous array: float32 when the inputs are float32 (or narrower integers),
        else float64.

    Raises
    ------
    ShapeError, ParameterError, PaddingError, OutputSizeError
        Before any work, naming the argument and the values received.

    Notes
    -----
    Cost: ``F * C/groups * prod(K) * prod(O)`` multiply-adds for the direct and im2col methods
    (FFT: about ``(C + F) * N log N`` over the padded input, chosen for kernels of about 13x13
    and more). Memory: the output, plus at most about ``tile_bytes`` of tiles (padded input rows,
    column matrices), kept per thread for the next call. `conv_method` tells which method runs.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> conv(x, np.ones((2, 2)))
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> conv(x, np.ones((1, 1, 3, 3)), padding="same", stride=2).shape
    (1, 2, 2)
    >>> conv([1.0, 2.0, 3.0], [1.0, 0.0], flip=True, padding="full")
    array([1., 2., 3., 0.])
    """
    plan = make_plan(
        x,
        w,
        bias=bias,
        stride=stride,
        padding=padding,
        padding_mode=padding_mode,
        dilation=dilation,
        groups=groups,
        flip=flip,
        tile_bytes=tile_bytes,
    )
    name = _method_name(plan, method)
    out = _RUNNERS[name](plan)
    if plan.bias is not None:
        out += plan.bias.reshape((-1,) + (1,) * plan.ndim)
    return out[0] if plan.squeeze else out


def conv_method(
    x: Any,
    w: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    padding_mode: str = "zeros",
    dilation: Any = 1,
    groups: int = 1,
) -> str:
    """The method ``conv`` would pick: "direct", "im2col", "fft" or "winograd4" ("winograd" only
    when forced).

    Validates like `conv` (and raises the same errors) but computes nothing.

    >>> conv_method(np.zeros((3, 64, 64), np.float32), np.zeros((1, 3, 3, 3), np.float32))
    'direct'
    >>> conv_method(np.zeros((256, 256)), np.zeros((31, 31)), padding=15)
    'fft'
    """
    plan = make_plan(
        x,
        w,
        bias=None,
        stride=stride,
        padding=padding,
        padding_mode=padding_mode,
        dilation=dilation,
        groups=groups,
        flip=False,
        tile_bytes=None,
    )
    return choose(plan)


def _method_name(plan: ConvPlan, method: str) -> str:
    if method == "auto":
        return choose(plan)
    if method not in METHODS:
        from .errors import ParameterError

        accepted = ", ".join(f'"{m}"' for m in ("auto", *METHODS))
        raise ParameterError(
            f"`method` must be one of {accepted}, got {method!r}",
            param="method",
            accepted=accepted,
            suggestion={"method": "auto"},
        )
    if method in ("winograd", "winograd4"):
        reason = winograd.unsupported(plan)
        if reason is not None:
            from .errors import ParameterError

            raise ParameterError(
                f'`method` "{method}" cannot run this convolution: {reason}',
                param="method",
                accepted=f"{method}: 2 spatial axes, a 3x3 kernel, stride 1, dilation 1",
                suggestion={"method": "auto"},
            )
    return method
