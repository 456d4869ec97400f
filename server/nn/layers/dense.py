"""The fully connected layer (Dense) and the reshaping that usually precedes it (Flatten)."""

from __future__ import annotations

import math

import numpy as np

from .. import _keras_args as args
from ..activations import activation_backward, apply_activation
from .base import Layer, Shape, Summary, glorot_uniform


class Dense(Layer):
    """``keras.layers.Dense``: every input joined to every unit, on the last axis (as in Keras).

    On a map (no Flatten before it) Keras applies the same ``(C, units)`` matrix at every
    position, which is a 1x1 convolution; channel-first inside, that is the channel axis.
    """

    type = "Dense"
    weight_names = ("kernel", "bias")

    def read_args(self) -> None:
        i, a = self.index, self.args
        self.units = args.positive(i, "units", a["units"])
        self.activation = args.activation(i, a["activation"])
        self.use_bias = args.flag(i, "use_bias", a["use_bias"])

    def compute(self, shape: Shape) -> Summary:
        cin, units = shape[-1], self.units
        self.weight_shapes = [(cin, units)] + ([(units,)] if self.use_bias else [])
        params = cin * units + (units if self.use_bias else 0)
        formula = (f"({cin} + 1) * {units} = {params}" if self.use_bias
                   else f"{cin} * {units} = {params}")
        note = f"every one of the {cin} inputs joins every one of the {units} units"
        if len(shape) > 1:
            # what Keras does with a map, and what surprises people who expected a flattening
            where = "x".join(map(str, shape[:-1]))
            note = (f"Dense acts on the last axis only, as in Keras: the same {cin}x{units} "
                    f"weights at each of the {where} positions (add Flatten first to join every "
                    "value)")
        if self.activation != "linear":
            note += f"; then {self.activation}"
        positions = math.prod(shape[:-1])
        return Summary((*shape[:-1], units), params, 0, formula, note,
                       macs=positions * cin * units)

    def init_weights(self, rng: np.random.Generator) -> None:
        cin = self.weight_shapes[0][0]
        self.weights = [glorot_uniform(rng, (cin, self.units), cin, self.units)]
        if self.use_bias:
            self.weights.append(np.zeros(self.units, np.float32))

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        kernel = self.weights[0]
        if x.ndim == 2 and x.dtype == kernel.dtype == np.float32:
            z = x @ kernel  # a batch of vectors: one product, the bias added in place
            if self.use_bias:
                z += self.weights[1]
        else:
            # the channel axis is 1 inside (last in Keras's order): contract it, keep it at 1
            z = np.moveaxis(np.tensordot(np.moveaxis(x, 1, -1), kernel, axes=1), -1, 1)
            if self.use_bias:
                z = z + self.weights[1].reshape(-1, *(1,) * (x.ndim - 2))
            z = np.ascontiguousarray(z, dtype=np.float32)
        y = apply_activation(z, self.activation, axis=1)
        if training:
            self._cache = (x, z, y)
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, z, y = self._cache
        g = activation_backward(self.activation, z, y, grad, axis=1)
        if x.ndim == 2:
            rows_x, rows_g = x, g
        else:
            rows_x = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])  # a row per position
            rows_g = np.moveaxis(g, 1, -1).reshape(-1, g.shape[1])
        self.grads = [(rows_x.T @ rows_g).astype(np.float32, copy=False)]
        if self.use_bias:
            self.grads.append(rows_g.sum(axis=0).astype(np.float32, copy=False))
        grad_x = rows_g @ self.weights[0].T
        if x.ndim == 2:
            return grad_x.astype(np.float32, copy=False)
        shape = (x.shape[0], *x.shape[2:], x.shape[1])
        return np.moveaxis(grad_x.reshape(shape), -1, 1).astype(np.float32, copy=False)


class Flatten(Layer):
    """``keras.layers.Flatten``: every value of an example in one vector, in Keras's order.

    Keras flattens ``(H, W, C)`` channels last, so the vector runs over the channels first at
    each position; a Dense kernel saved by Keras expects exactly that order.
    """

    type = "Flatten"

    def compute(self, shape: Shape) -> Summary:
        n = math.prod(shape)
        return Summary((n,), formula=f"{'*'.join(map(str, shape))} = {n}",
                       note="the values lined up into one vector: nothing to learn")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        channels_last = x if x.ndim <= 2 else np.moveaxis(x, 1, -1)
        if training:
            self._shape = x.shape
        return np.ascontiguousarray(channels_last).reshape(x.shape[0], -1)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        shape = self._shape
        if len(shape) <= 2:
            return grad.reshape(shape)
        channels_last = grad.reshape(shape[0], *shape[2:], shape[1])
        return np.moveaxis(channels_last, -1, 1)  # a view: the layer before lays it out
