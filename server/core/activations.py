"""Activation functions and (inverted) dropout, element-wise on arrays of any shape.

`ACTIVATIONS` is the registry the web layer lists (name, parameters with their defaults, a one-line
description in English and Russian); `activate` applies one by name. `dropout` is seeded, so a
request can be repeated and the mask it returns shown next to the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = ["ACTIVATIONS", "Activation", "activate", "dropout"]


def _float_array(x: Any) -> np.ndarray:
    """``x`` as a float array: float32 stays float32, everything else becomes float64."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise ParameterError(
            f"`input` must hold real numbers, got an array of dtype {a.dtype}",
            param="input",
            accepted="an array of real numbers",
        )
    dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    return a.astype(dtype, copy=False)


def _relu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.maximum(x, x.dtype.type(0))
    return out


def _leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    out: np.ndarray = np.where(x >= 0, x, x * x.dtype.type(negative_slope))
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below
    e = np.exp(-np.abs(x))
    out: np.ndarray = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    return out


def _tanh(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.tanh(x)
    return out


def _identity(x: np.ndarray) -> np.ndarray:
    return x.copy()


@dataclass(frozen=True)
class Activation:
    """One activation function of the registry.

    Attributes
    ----------
    name : str
        The name requests use.
    function : callable
        ``function(x, **params)`` on a float array.
    params : mapping
        Keyword parameters and their defaults.
    description_en, description_ru : str
        One line each, for the interface.
    """

    name: str
    function: Callable[..., np.ndarray]
    description_en: str
    description_ru: str
    params: Mapping[str, float] = field(default_factory=dict)


ACTIVATIONS: Mapping[str, Activation] = MappingProxyType(
    {
        a.name: a
        for a in (
            Activation(
                "relu",
                _relu,
                "max(0, x): keeps positive values and turns negative ones into zero.",
                "max(0, x): оставляет положительные значения, отрицательные заменяет нулём.",
            ),
            Activation(
                "leaky_relu",
                _leaky_relu,
                "x for x >= 0, negative_slope * x below: like ReLU but lets a little of the "
                "negative part through.",
                "x при x >= 0, иначе negative_slope * x: как ReLU, но пропускает немного "
                "отрицательной части.",
                {"negative_slope": 0.01},
            ),
            Activation(
                "sigmoid",
                _sigmoid,
                "1 / (1 + e^-x): squashes any value into the range (0, 1).",
                "1 / (1 + e^-x): сжимает любое значение в интервал (0, 1).",
            ),
            Activation(
                "tanh",
                _tanh,
                "Hyperbolic tangent: squashes any value into (-1, 1), zero stays zero.",
                "Гиперболический тангенс: сжимает любое значение в интервал (-1, 1), ноль "
                "остаётся нулём.",
            ),
            Activation(
                "identity",
                _identity,
                "No activation: the value passes through unchanged.",
                "Без активации: значение проходит без изменений.",
            ),
        )
    }
)


def activate(x: Any, name: str, **params: Any) -> np.ndarray:
    """Apply the activation ``name`` element-wise.

    Parameters
    ----------
    x : array_like
        Any shape. float32 stays float32; anything else is computed in float64.
    name : {"relu", "leaky_relu", "sigmoid", "tanh", "identity"}
        See `ACTIVATIONS`.
    **params
        The activation's parameters: only ``negative_slope`` (default 0.01, a finite number) for
        ``leaky_relu``.

    Returns
    -------
    ndarray
        A new array of the shape of ``x``.

    Raises
    ------
    ParameterError
        An unknown name, a parameter the activation does not take, or a non-finite slope.

    Notes
    -----
    Cost: one or two passes over ``x`` and one output array (sigmoid: three temporaries).
    ``sigmoid`` never evaluates ``exp`` of a positive number, so it cannot overflow.

    Examples
    --------
    >>> activate([-2.0, 0.0, 3.0], "relu")
    array([0., 0., 3.])
    >>> activate([-2.0, 3.0], "leaky_relu", negative_slope=0.1)
    array([-0.2,  3. ])
    >>> activate([-1000.0, 0.0, 1000.0], "sigmoid")
    array([0. , 0.5, 1. ])
    """
    if name not in ACTIVATIONS:
        names = ", ".join(f'"{n}"' for n in ACTIVATIONS)
        raise ParameterError(
            f"`activation` must be one of {names}, got {name!r}",
            param="activation",
            accepted=names,
            suggestion={"activation": "relu"},
        )
    spec = ACTIVATIONS[name]
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        takes = ", ".join(spec.params) or "no parameters"
        raise ParameterError(
            f"activation {name!r} does not take {', '.join(unknown)}; it takes {takes}",
            param="activation_params",
            accepted=takes,
        )
    values: dict[str, float] = dict(spec.params)
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not (
            math.isfinite(float(value))
        ):
            raise ParameterError(
                f"`{key}` of {name!r} must be a finite number, got {value!r}",
                param="activation_params",
                accepted="a finite number",
                suggestion={key: spec.params[key]},
            )
        values[key] = float(value)
    return spec.function(_float_array(x), **values)


def dropout(
    x: Any, p: float, *, seed: int | None, training: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by ``1/(1-p)``.

    Parameters
    ----------
    x : array_like
        Any shape; float32 stays float32, anything else becomes float64.
    p : float
        The drop rate, ``0 <= p < 1``.
    seed : int or None
        Seeds ``np.random.default_rng``: the same seed, shape and ``p`` give the same mask.
        ``None`` draws fresh entropy (not reproducible).
    training : bool
        ``False`` is evaluation mode: the output is a copy of ``x`` and the mask all True.

    Returns
    -------
    output : ndarray
        ``x * mask / (1 - p)`` (training) or ``x`` (evaluation), as Keras and PyTorch do, so the
        expected value of every element is unchanged.
    mask : ndarray of bool
        True where the element was kept; each is True with probability ``1 - p``.

    Raises
    ------
    ParameterError
        ``p`` outside ``[0, 1)`` or not a number; a negative or non-integer ``seed``.

    Notes
    -----
    Cost: one uniform draw per element (8 bytes each, temporarily), the mask and the output.

    Examples
    --------
    >>> out, mask = dropout(np.ones(6), 0.5, seed=0)
    >>> set(out.tolist()) <= {0.0, 2.0}
    True
    >>> bool(np.array_equal(out, mask * 2.0))
    True
    >>> dropout([1.0, 2.0], 0.5, seed=0, training=False)
    (array([1., 2.]), array([ True,  True]))
    """
    if (
        isinstance(p, bool)
        or not isinstance(p, int | float | np.number)
        or not 0 <= float(p) < 1
    ):
        raise ParameterError(
            f"`p` (the dropout rate) must be a number with 0 <= p < 1, got {p!r}",
            param="p",
            accepted="a number in [0, 1)",
            suggestion={"p": 0.5},
        )
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
    ):
        raise ParameterError(
            f"`seed` must be an int >= 0, got {seed!r}",
            param="seed",
            accepted="an int >= 0",
            suggestion={"seed": 0},
        )
    a = _float_array(x)
    if not training:
        return a.copy(), np.ones(a.shape, dtype=bool)
    rng = np.random.default_rng(None if seed is None else int(seed))
    mask = rng.random(a.shape) >= float(p)  # P(keep) = 1 - p
    out: np.ndarray = a * mask / (1 - float(p))
    return out, mask
