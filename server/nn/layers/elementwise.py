"""Layers that keep the shape: activations (Activation, ReLU, LeakyReLU, Softmax), Dropout and
BatchNormalization (inference: the moving mean and variance)."""

from __future__ import annotations

import numpy as np

from ...core.errors import ParameterError
from .. import _keras_args as args
from ..activations import TRAINABLE_ACTIVATIONS, activation_backward, apply_activation
from .base import Layer, Shape, Summary


class Activation(Layer):
    """``keras.layers.Activation``: a function applied to every value (softmax: per position)."""

    type = "Activation"

    def read_args(self) -> None:
        self.activation = args.activation(self.index, self.args["activation"], required=True)

    def compute(self, shape: Shape) -> Summary:
        return Summary(shape, note=f"{self.activation} applied to each value; the shape stays")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        y = apply_activation(x, self.activation, axis=1)
        if training:
            self._cache = (x, y)
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self.activation not in TRAINABLE_ACTIVATIONS:
            return super().backward(grad)
        x, y = self._cache
        return activation_backward(self.activation, x, y, grad, axis=1)


class ReLU(Layer):
    """``keras.layers.ReLU``: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``, as ``keras.activations.relu`` computes it."""

    type = "ReLU"

    def read_args(self) -> None:
        i, a = self.index, self.args
        self.max_value = (None if a["max_value"] is None
                          else args.number(i, "max_value", a["max_value"], low=0.0))
        self.negative_slope = args.number(i, "negative_slope", a["negative_slope"], low=0.0)
        self.threshold = args.number(i, "threshold", a["threshold"])

    def compute(self, shape: Shape) -> Summary:
        parts = [f"values below {self.threshold:g} become "
                 + (f"{self.negative_slope:g} * (x - {self.threshold:g})" if self.negative_slope
                    else "0")]
        if self.max_value is not None:
            parts.append(f"values above {self.max_value:g} are cut to {self.max_value:g}")
        return Summary(shape, note="; ".join(parts) + "; the shape stays")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        t = x.dtype.type(self.threshold)
        pos = np.where(x > t, x, x.dtype.type(0)) if self.threshold else np.maximum(x, 0)
        if self.max_value is not None:
            pos = np.minimum(pos, x.dtype.type(self.max_value))
        if self.negative_slope:
            pos = pos - x.dtype.type(self.negative_slope) * np.maximum(t - x, 0)
        if training:
            self._x = x
        return pos.astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x = self._x
        above = x > self.threshold
        if self.max_value is not None:
            above &= x < self.max_value
        slope = np.where(above, 1.0, np.where(x > self.threshold, 0.0, self.negative_slope))
        return (grad * slope).astype(np.float32)


class LeakyReLU(Layer):
    """``keras.layers.LeakyReLU``: ``x`` where positive, else ``negative_slope * x``."""

    type = "LeakyReLU"

    def read_args(self) -> None:
        self.negative_slope = args.number(self.index, "negative_slope",
                                          self.args["negative_slope"], low=0.0)

    def compute(self, shape: Shape) -> Summary:
        return Summary(shape, note=f"negative values multiplied by {self.negative_slope:g}, "
                       "positive ones kept; the shape stays")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        if training:
            self._x = x
        return np.where(x >= 0, x, x * x.dtype.type(self.negative_slope)).astype(x.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return np.where(self._x >= 0, grad, grad * np.float32(self.negative_slope))


class Softmax(Layer):
    """``keras.layers.Softmax`` over the channels: positive numbers that add up to 1."""

    type = "Softmax"

    def compute(self, shape: Shape) -> Summary:
        args.channel_axis(self.index, self.args["axis"], len(shape))
        return Summary(shape, note="exponentials divided by their sum: probabilities that add "
                       "up to 1 over the last axis")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        y = apply_activation(x, "softmax", axis=1)
        if training:
            self._cache = (x, y)
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, y = self._cache
        return activation_backward("softmax", x, y, grad, axis=1)


class Dropout(Layer):
    """``keras.layers.Dropout``: while training, inverted dropout (each value kept with
    probability ``1 - rate`` and scaled by ``1 / (1 - rate)``); at inference, the identity.

    The last training mask is kept in `mask` (True = kept) so a page can show it.
    """

    type = "Dropout"

    def read_args(self) -> None:
        self.rate = args.rate(self.index, self.args["rate"])
        seed = self.args["seed"]
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise ParameterError(f"`{self.field('seed')}` must be null or an int >= 0, "
                                      f"got {seed!r}", param=self.field("seed"),
                                      accepted=args.ACCEPTED["seed"])
        self.seed = seed
        self.mask: np.ndarray | None = None

    def compute(self, shape: Shape) -> Summary:
        p = self.rate
        return Summary(shape, note=f"while training, zeroes each value with probability {p:g} "
                       f"and scales the rest by 1/(1 - {p:g}); at inference it passes values "
                       "through")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        if not training:
            self.mask = None
            return x
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:
            rng = np.random.default_rng()
        self.mask = rng.random(x.shape) >= self.rate  # P(keep) = 1 - rate
        return (x * self.mask / x.dtype.type(1 - self.rate)).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self.mask is None:
            return grad
        return (grad * self.mask / np.float32(1 - self.rate)).astype(np.float32, copy=False)


class BatchNormalization(Layer):
    """``keras.layers.BatchNormalization`` at inference, per channel:
    ``gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta``."""

    type = "BatchNormalization"

    def read_args(self) -> None:
        i, a = self.index, self.args
        self.center = args.flag(i, "center", a["center"])
        self.scale = args.flag(i, "scale", a["scale"])
        self.epsilon = args.number(i, "epsilon", a["epsilon"], low=0.0, low_open=True)
        args.number(i, "momentum", a["momentum"], low=0.0, high=1.0)
        self.weight_names = (*(("gamma",) if self.scale else ()),
                             *(("beta",) if self.center else ()),
                             "moving_mean", "moving_variance")

    def compute(self, shape: Shape) -> Summary:
        args.channel_axis(self.index, self.args["axis"], len(shape))
        c = shape[-1]
        learned = int(self.center) + int(self.scale)
        self.weight_shapes = [(c,)] * (learned + 2)
        note = ("per channel: gamma (scale) and beta (center) are learned; the moving mean and "
                "variance are tracked, not learned, so they are non-trainable")
        return Summary(shape, learned * c, 2 * c, f"({learned} + 2) * {c} = {(learned + 2) * c}",
                       note, macs=int(np.prod(shape)))

    def init_weights(self, rng: np.random.Generator) -> None:
        ones, zeros = (np.ones(s, np.float32) for s in self.weight_shapes[:1] * 2)
        by_name = {"gamma": ones, "beta": zeros, "moving_mean": zeros, "moving_variance": ones}
        self.weights = [by_name[n].copy() for n in self.weight_names]

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        w = dict(zip(self.weight_names, self.weights, strict=True))
        c = x.shape[1]
        gamma = w.get("gamma", np.ones(c, np.float32))
        beta = w.get("beta", np.zeros(c, np.float32))
        factor = gamma / np.sqrt(w["moving_variance"] + np.float32(self.epsilon))
        shift = beta - w["moving_mean"] * factor
        shape = (1, c, *(1,) * (x.ndim - 2))
        return (x * factor.reshape(shape) + shift.reshape(shape)).astype(x.dtype, copy=False)
