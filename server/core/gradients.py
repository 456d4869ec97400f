"""Gradients of convolution and pooling, for training (DESIGN §2), equal to PyTorch autograd's.

A gradient of a convolution is again a sum over the kernel taps. For every tap, the windows it
reads (one slice of the padded input's stride phases, see `_backward`) pair with the output
gradient: their product summed over positions is that tap's column of ``grad_w``, and the
output gradient times the tap's weights, added back into the same windows, is ``grad_x`` (the
transposed convolution), the padding finally folded back onto the input elements it copied.
Pooling is the same walk over the taps: average pooling spreads ``grad_out / divisor`` over
every window, max pooling sends each window's gradient to its first maximum. No Python loop
runs over output positions.

Both take ``batch=True`` for mini-batches: a leading axis ``N`` on the input and on
``grad_out`` (the other axes follow the unbatched rules), with ``grad_w`` and ``grad_bias``
summed over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backward import conv_grads
from ._pool_backward import pool_grads
from .errors import ParameterError, ShapeError
from .methods.plan import make_plan, working_dtype
from .pooling import pool_geometry
from .shapes import real_array

__all__ = ["conv_backward", "pool_backward"]


def _sample(xa: np.ndarray, batch: Any) -> np.ndarray:
    """The first sample of a batch (what the unbatched rules check), or the input itself."""
    if not isinstance(batch, bool | np.bool_):
        raise ParameterError(
            f"`batch` must be true or false, got {batch!r}", param="batch", accepted="a boolean"
        )
    if not batch:
        return xa
    if xa.ndim < 2 or xa.shape[0] < 1:
        raise ShapeError(
            f"with batch=True the input needs a leading batch axis of at least one sample, "
            f"got shape {xa.shape}",
            param="input",
            accepted="an input (N, C, *S) or (N, *S) with N >= 1",
        )
    first: np.ndarray = xa[0]
    return first


def _check_grad_out(ga: np.ndarray, expected: tuple[int, ...], what: str) -> None:
    if ga.shape != expected:
        raise ShapeError(
            f"`grad_out` must have the shape of the {what} output, {expected}, got {ga.shape}",
            param="grad_out",
            accepted=f"an array of shape {expected}",
        )


def conv_backward(
    x: Any,
    w: Any,
    grad_out: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    padding_mode: str = "zeros",
    dilation: Any = 1,
    groups: int = 1,
    batch: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of `conv` with respect to its input, kernel and bias.

    Given ``grad_out = dL/d out`` for ``out = conv(x, w, bias=b, ...)``, returns ``dL/dx``,
    ``dL/dw`` and ``dL/db``, equal to PyTorch autograd's for the same convolution.

    Parameters
    ----------
    x : array_like, shape (C, *S) or (*S); (N, C, *S) or (N, *S) with ``batch=True``
        The input of the forward call, 1 to 3 spatial axes, same shorthand rules as `conv`.
    w : array_like, shape (F, C/groups, *K) or (*K)
        The kernel of the forward call.
    grad_out : array_like, shape of ``conv(x, w, ...)``
        ``(F, *O)``, or ``(*O)`` in the one-channel one-filter shorthand; with a leading ``N``
        when ``batch=True``.
    stride, padding, dilation, groups
        As in `conv` (every padding form: ints, per-axis pairs, "valid", "same", "full").
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        As in `conv`; the gradient of a padded copy is folded back onto the element it copied.
    batch : bool
        The first axis of ``x`` and ``grad_out`` is a batch; ``grad_w`` and ``grad_bias`` are
        summed over it.

    Returns
    -------
    grad_x : ndarray, shaped like ``x``
    grad_w : ndarray, shaped like ``w``
    grad_bias : ndarray, shape (F,)
        (``(1,)`` in the shorthand.) float32 when ``x``, ``w`` and ``grad_out`` are float32,
        else float64.

    Raises
    ------
    ShapeError, ParameterError, PaddingError, OutputSizeError
        Before any work, as `conv` does; a ``grad_out`` of another shape than the output names
        ``grad_out`` and the shape expected.

    Notes
    -----
    Cost: twice the multiply-adds of the forward pass, ``2 * N * F * C/groups * prod(K) *
    prod(O)``, as two matrix products per chunk of taps, plus one contiguous copy and one
    add of ``N * C * prod(O)`` values per tap. Memory: the padded input and its gradient (in
    stride phases), ``grad_out`` on the padded grid, and the stacked windows of as many taps as
    fit in 16 MiB (at least one). It computes every tap directly, so very large kernels (which
    `conv` sends to the FFT) cost in proportion.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(3, 3)
    >>> gx, gw, gb = conv_backward(x, np.ones((2, 2)), np.ones((2, 2)))
    >>> gx
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> gw, gb
    (array([[ 8., 12.],
           [20., 24.]]), array([4.]))
    >>> xs = np.zeros((32, 1, 8, 8))
    >>> [g.shape for g in conv_backward(xs, np.zeros((8, 1, 3, 3)), np.zeros((32, 8, 8, 8)),
    ...                                 padding="same", batch=True)]
    [(32, 1, 8, 8), (8, 1, 3, 3), (8,)]
    """
    xa = real_array(x, "input")
    wa = real_array(w, "kernel")
    ga = real_array(grad_out, "grad_out")
    plan = make_plan(
        _sample(xa, batch), wa, bias=None, stride=stride, padding=padding,
        padding_mode=padding_mode, dilation=dilation, groups=groups, flip=False, tile_bytes=None,
    )
    lead = (xa.shape[0],) if batch else ()
    per_sample = plan.out_shape if plan.squeeze else (plan.w.shape[0], *plan.out_shape)
    _check_grad_out(ga, lead + per_sample, "convolution's")
    dtype = working_dtype(xa, wa, ga)
    n = xa.shape[0] if batch else 1
    grad_x, grad_w, grad_bias = conv_grads(
        xa.reshape(n, *plan.x.shape),
        plan.w.astype(dtype, copy=False),
        ga.reshape(n, plan.w.shape[0], *plan.out_shape),
        stride=plan.stride,
        dilation=plan.dilation,
        pads=plan.pads,
        padding_mode=plan.padding_mode,
        groups=plan.groups,
    )
    return grad_x.reshape(xa.shape), grad_w.reshape(wa.shape), grad_bias


def pool_backward(
    x: Any,
    grad_out: Any,
    *,
    mode: str,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    batch: bool = False,
) -> np.ndarray:
    """Gradient of `pool` with respect to its input, equal to PyTorch autograd's.

    Max pooling sends each window's gradient to the first maximum of the window in row-major
    order (a value that wins several windows collects all their gradients); average pooling
    spreads it evenly over the window's taps inside the input, divided as the forward pass
    divided (``ceil_mode``, ``count_include_pad``). A max window whose values are all ``-inf``
    sends it to its first tap inside the input, one holding NaN to its last NaN (PyTorch's CPU
    rules); a window that reads no input element at all (dilation over padding; its output is
    ``-inf``) passes no gradient, where PyTorch writes it past the end of the plane.

    Parameters
    ----------
    x : array_like, shape (C, *S) or (*S); (N, C, *S) or (N, *S) with ``batch=True``
        The input of the forward call (the number of spatial axes is read as `pool` reads it).
    grad_out : array_like, shape of ``pool(x, ...)``
        With a leading ``N`` when ``batch=True``.
    mode, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad
        As in `pool`.
    batch : bool
        The first axis of ``x`` and ``grad_out`` is a batch.

    Returns
    -------
    ndarray, shaped like ``x``
        float32 when ``x`` and ``grad_out`` are float32, else float64.

    Raises
    ------
    ShapeError, ParameterError, PaddingError, OutputSizeError
        Before any work, as `pool` does; a ``grad_out`` of another shape than the output names
        ``grad_out`` and the shape expected.

    Notes
    -----
    Cost: one addition of the output per kernel tap (``prod(K) * C * prod(O)``); max pooling
    first finds the winners in as many comparisons. Memory: the padded input (max) and its
    gradient, plus a few arrays the size of the output. Windows that tile the input (stride =
    kernel, no padding) cost one pass: a reshaped view (avg), or one gather, ``argmax`` and
    scatter (max, up to 2**18 input elements, through a flat index cached per shape: at most
    16 shapes of 2 MiB each).

    Examples
    --------
    >>> x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 0.0, 1.0, 4.0]])
    >>> pool_backward(x, np.array([[10.0, 20.0]]), mode="max", kernel_size=[2, 2])
    array([[ 0., 10.,  0.,  0.],
           [ 0.,  0.,  0., 20.]])
    >>> pool_backward(x, np.array([[4.0, 8.0]]), mode="avg", kernel_size=[2, 2])
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    xa = real_array(x, "input")
    ga = real_array(grad_out, "grad_out")
    geo = pool_geometry(
        _sample(xa, batch), mode=mode, kernel_size=kernel_size, stride=stride, padding=padding,
        dilation=dilation, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    lead = (xa.shape[0],) if batch else ()
    channels = geo.x.shape[0]
    per_sample = geo.out_shape if geo.squeeze else (channels, *geo.out_shape)
    _check_grad_out(ga, lead + per_sample, "pooling's")
    dtype = working_dtype(geo.x, ga)
    planes = (xa.shape[0] if batch else 1) * channels
    xs = xa.reshape(planes, *geo.spatial_shape).astype(dtype, copy=False)
    grad = pool_grads(
        xs,
        ga.reshape(planes, *geo.out_shape).astype(dtype, copy=False),
        mode=geo.mode,
        kernel=geo.kernel,
        stride=geo.stride,
        dilation=geo.dilation,
        pads=geo.pads,
        extent=tuple(geo.extent(a) for a in range(geo.ndim)),
        divisor=geo.divisor() if geo.mode == "avg" else None,
    )
    return np.ascontiguousarray(grad).reshape(xa.shape)
