"""Keras's activation functions by name, on arrays whose channels are on ``axis`` (softmax).

Each matches ``keras.activations.<name>`` (Keras 3) in float32; the shapes never change. The core
has the five the single-convolution pages teach (`server.core.activate`); a network from a Keras
file may use any of these.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["ACTIVATIONS", "apply_activation", "softmax"]

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only, so large |x| never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, x.dtype.type(0))


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26: error below 1.5e-7, under float32's own rounding of erf
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                       + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    # Keras's default is the exact form x * Phi(x), not the tanh approximation
    wide = x.astype(np.float64)
    return (0.5 * wide * (1.0 + _erf(wide / math.sqrt(2.0)))).astype(x.dtype, copy=False)


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``: the probabilities of each position.

    >>> softmax(np.array([0.0, np.log(3.0)])).round(3)
    array([0.25, 0.75])
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


_ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x >= 0, x, x * x.dtype.type(0.2)),  # Keras's slope 0.2
    "elu": _elu,
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "gelu": _gelu,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "tanh": np.tanh,
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "exponential": np.exp,
}
ACTIVATIONS = (*_ELEMENTWISE, "softmax", "log_softmax")


def apply_activation(x: np.ndarray, name: str, *, axis: int = -1) -> np.ndarray:
    """Keras's activation ``name`` on ``x``; ``softmax``/``log_softmax`` along ``axis``.

    Parameters
    ----------
    x : ndarray
        Any shape; the result has its shape and (floating) dtype.
    name : str
        One of `ACTIVATIONS` (the caller validates it, naming its own field).
    axis : int
        The channel axis, for the two softmaxes.

    Notes
    -----
    One or two passes over ``x`` and a temporary of its size (``gelu``: a few, in float64).

    Examples
    --------
    >>> apply_activation(np.array([-1.0, 0.5, 8.0], np.float32), "relu6")
    array([0. , 0.5, 6. ], dtype=float32)
    """
    if name == "softmax":
        out = softmax(x, axis)
    elif name == "log_softmax":
        out = _log_softmax(x, axis)
    else:
        out = _ELEMENTWISE[name](x)
    return np.asarray(out, dtype=x.dtype)


def _sigmoid_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return y * (1 - y)


def _swish_grad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = _sigmoid(x)
    return s * (1 + x * (1 - s))


# d activation / d x from the input x and the output y (whichever is cheaper to use)
_DERIVATIVES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "linear": lambda x, y: np.ones_like(x),
    "relu": lambda x, y: (x > 0).astype(x.dtype),
    "relu6": lambda x, y: ((x > 0) & (x < 6)).astype(x.dtype),
    "leaky_relu": lambda x, y: np.where(x >= 0, 1, 0.2).astype(x.dtype),
    "elu": lambda x, y: np.where(x > 0, 1, y + 1).astype(x.dtype),
    "sigmoid": _sigmoid_grad,
    "tanh": lambda x, y: 1 - y * y,
    "softplus": lambda x, y: _sigmoid(x),
    "softsign": lambda x, y: 1 / (1 + np.abs(x)) ** 2,
    "silu": _swish_grad,
    "swish": _swish_grad,
    "exponential": lambda x, y: y,
}
TRAINABLE_ACTIVATIONS = (*_DERIVATIVES, "softmax")


def activation_backward(name: str, x: np.ndarray, y: np.ndarray, grad: np.ndarray, *,
                        axis: int = -1) -> np.ndarray:
    """``dL/dx`` from ``dL/dy`` for ``y = apply_activation(x, name)``.

    Softmax couples the values of a position: ``dL/dx = y * (g - sum(g * y))`` along ``axis``.

    >>> x = np.array([-1.0, 2.0]); y = apply_activation(x, "relu")
    >>> activation_backward("relu", x, y, np.array([5.0, 5.0]))
    array([0., 5.])
    """
    if name == "softmax":
        return y * (grad - (grad * y).sum(axis=axis, keepdims=True))
    return (grad * _DERIVATIVES[name](x, y)).astype(grad.dtype, copy=False)
