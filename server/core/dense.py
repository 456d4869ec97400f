"""Fully connected (dense) layers and flattening, in Keras's vocabulary.

The "/dense" lesson compares a dense layer on a flattened image with a convolution: `flatten`
can lay the values out in PyTorch's order (channel-major, the array's own order) or in Keras's
(channels last), so both frameworks' parameter counts and weights line up with the lesson.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError
from .shapes import real_array

__all__ = ["dense", "flatten"]


def _float_dtype(*arrays: np.ndarray) -> type[np.floating[Any]]:
    return np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64


def dense(x: Any, w: Any, bias: Any = None) -> np.ndarray:
    """A dense layer: ``x @ w + bias`` with a Keras-shaped kernel ``(in, units)``.

    Parameters
    ----------
    x : array_like, shape (..., in)
        Like Keras's ``Dense``, the layer acts on the last axis; leading axes (a batch, or the
        spatial axes of a channels-last map) are kept.
    w : array_like, shape (in, units)
        The kernel, Keras's layout (PyTorch's ``nn.Linear.weight`` is its transpose).
    bias : array_like, shape (units,) or scalar, optional

    Returns
    -------
    ndarray, shape (..., units)
        float32 when every operand is float32, else float64.

    Raises
    ------
    ShapeError
        ``w`` not two-dimensional, ``x`` whose last axis is not ``in``, or a bias of the wrong
        length.

    Notes
    -----
    Cost: one matrix product, ``prod(x.shape) * units`` multiply-adds; memory: the output.

    Examples
    --------
    >>> dense([1.0, 2.0], [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], bias=[0.5, 0.0, -3.0])
    array([1.5, 2. , 0. ])
    """
    xa, wa = real_array(x, "input"), real_array(w, "weights")
    if wa.ndim != 2:
        raise ShapeError(
            f"the dense weights must have shape (in, units), got {wa.shape}",
            param="weights",
            accepted="a 2-D array (in, units)",
        )
    if xa.ndim < 1 or xa.shape[-1] != wa.shape[0]:
        raise ShapeError(
            f"the input's last axis must have {wa.shape[0]} values to match weights of shape "
            f"{wa.shape}, got an input of shape {xa.shape}",
            param="input",
            accepted=f"an array of shape (..., {wa.shape[0]}) (flatten it first)",
        )
    arrays = [xa, wa]
    if bias is not None:
        ba = real_array(bias, "bias")
        if ba.ndim > 1 or (ba.ndim == 1 and ba.shape[0] != wa.shape[1]):
            raise ShapeError(
                f"`bias` must be a number or have {wa.shape[1]} values (one per unit), got "
                f"shape {ba.shape}",
                param="bias",
                accepted=f"a number or a list of {wa.shape[1]} numbers",
            )
        arrays.append(ba)
    dtype = _float_dtype(*arrays)
    out: np.ndarray = np.matmul(xa.astype(dtype, copy=False), wa.astype(dtype, copy=False))
    if bias is not None:
        out += arrays[2].astype(dtype, copy=False)
    return out


def flatten(x: Any, *, channels_last: bool = False) -> np.ndarray:
    """Flatten a channel-first map ``(C, *S)`` into one vector.

    Parameters
    ----------
    x : array_like, shape (C, *S)
    channels_last : bool
        False (default): channel-major order, as PyTorch's ``nn.Flatten`` (and ``x.ravel()``).
        True: Keras's order, as if the map were stored ``(*S, C)``: all channels of a pixel are
        adjacent.

    Returns
    -------
    ndarray, shape (prod(x.shape),)
        A copy (or a view when nothing moves), dtype of ``x``.

    Notes
    -----
    Cost: one copy of ``x`` at most.

    Examples
    --------
    >>> m = np.arange(8).reshape(2, 2, 2)
    >>> flatten(m)
    array([0, 1, 2, 3, 4, 5, 6, 7])
    >>> flatten(m, channels_last=True)
    array([0, 4, 1, 5, 2, 6, 3, 7])
    """
    xa = real_array(x, "input")
    if channels_last and xa.ndim > 1:
        xa = np.moveaxis(xa, 0, -1)
    return xa.reshape(-1)
