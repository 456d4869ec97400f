"""The Sequential model: a stack of layers built for one input shape, its weights, its forward.

``Sequential([28, 28, 1], [{"type": "Conv2D", ...}, ...])`` reads every layer's arguments,
gives each its Keras name (``conv2d``, ``conv2d_1``, ... unless the entry has a ``name``), and
builds them in order so each knows its input and output shapes. Weights come from a seed
(Glorot-uniform kernels, zero biases, as Keras initializes) or are given in Keras's layouts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import ParameterError, ShapeError
from .layers import Layer, Shape, make_layer, to_internal, to_keras

__all__ = ["LayerOutput", "Sequential", "keras_name"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
INPUT_ACCEPTED = ("1 to 4 ints >= 1 in Keras's order, channels last: [units], [steps, channels], "
                  "[height, width, channels] or [depth, height, width, channels]")


def keras_name(class_name: str) -> str:
    """Keras's ``to_snake_case``: the prefix of a layer's automatic name.

    >>> keras_name("MaxPooling2D"), keras_name("GlobalAveragePooling2D"), keras_name("ReLU")
    ('max_pooling2d', 'global_average_pooling2d', 're_lu')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def check_input_shape(value: Any) -> Shape:
    """``input_shape`` as a tuple of ints, or a `ShapeError` naming the axis at fault."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not 1 <= len(value) <= 4:
        raise ShapeError(f"`input_shape` must be {INPUT_ACCEPTED}, got {value!r}",
                         param="input_shape", accepted=INPUT_ACCEPTED)
    for axis, n in enumerate(value):
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
            fix = {f"input_shape[{axis}]": 1} if isinstance(n, int) else None
            raise ShapeError(f"`input_shape[{axis}]` must be an int >= 1, got {n!r}",
                             param=f"input_shape[{axis}]", accepted=INPUT_ACCEPTED,
                             suggestion=fix)
    return tuple(int(n) for n in value)


@dataclass(frozen=True)
class LayerOutput:
    """One layer's result for one example, in Keras's order (channels last, no batch axis)."""

    layer: Layer
    output: np.ndarray


class Sequential:
    """``keras.Sequential``: layers applied one after the other.

    Parameters
    ----------
    input_shape : sequence of int
        Keras's order without the batch axis, e.g. ``[28, 28, 1]``.
    layers : sequence of dict
        Each ``{"type": <Keras class name>, "name"?: str, <Keras argument>: value, ...}``.

    Raises
    ------
    CoreError
        A subclass whose ``param`` is the exact field (``layers[2].kernel_size``).

    Examples
    --------
    >>> model = Sequential([4, 4, 1], [{"type": "Conv2D", "filters": 2, "kernel_size": 3},
    ...                                {"type": "Flatten"}, {"type": "Dense", "units": 3}])
    >>> [(layer.name, layer.summary.output_shape) for layer in model.layers]
    [('conv2d', (2, 2, 2)), ('flatten', (8,)), ('dense', (3,))]
    >>> model.init_weights(seed=0)
    >>> [o.output.shape for o in model.run(np.ones((4, 4, 1)))]
    [(2, 2, 2), (8,), (3,)]
    """

    def __init__(self, input_shape: Sequence[int], layers: Sequence[Any]) -> None:
        self.input_shape = check_input_shape(input_shape)
        if not isinstance(layers, Sequence) or isinstance(layers, str):
            raise ParameterError(f"`layers` must be a list of layer objects, got {layers!r}",
                                 param="layers", accepted="a list of layer objects")
        self.layers: list[Layer] = []
        shape = self.input_shape
        for index, (spec, name) in enumerate(zip(layers, self._names(layers), strict=True)):
            layer = make_layer(index, spec, name)
            shape = layer.build(shape)
            self.layers.append(layer)

    @staticmethod
    def _names(layers: Sequence[Any]) -> list[str]:
        """Keras's names: the given ones, else the class's prefix numbered from the second on."""
        counts: dict[str, int] = {}
        names = []
        for i, spec in enumerate(layers):
            given = spec.get("name") if isinstance(spec, Mapping) else None
            if given is not None:
                if not isinstance(given, str) or not NAME_PATTERN.match(given):
                    raise ParameterError(
                        f"`layers[{i}].name` must be 1 to 64 letters, digits, '_', '.' or '-', "
                        f"got {given!r}", param=f"layers[{i}].name",
                        accepted="a name of letters, digits, '_', '.' or '-'")
                names.append(given)
                continue
            kind = spec.get("type") if isinstance(spec, Mapping) else None
            prefix = keras_name(kind) if isinstance(kind, str) else "layer"
            seen = counts.get(prefix, 0)
            counts[prefix] = seen + 1
            names.append(prefix if seen == 0 else f"{prefix}_{seen}")
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ParameterError(
                    f"`layers[{i}].name` {name!r} is already the name of layers"
                    f"[{names.index(name)}]; Keras needs every layer name to be unique",
                    param=f"layers[{i}].name", accepted="a name no other layer has",
                    suggestion={f"layers[{i}].name": f"{name}_{i}"})
        return names

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].summary.output_shape if self.layers else self.input_shape

    @property
    def macs(self) -> int:
        """Multiply-adds for one example, all layers together."""
        return sum(layer.summary.macs for layer in self.layers)

    def layer(self, name: str) -> Layer:
        return next(layer for layer in self.layers if layer.name == name)

    # -- weights --------------------------------------------------------------------------
    def init_weights(self, seed: int | None = 0) -> None:
        """Keras's initial weights from ``seed``: Glorot-uniform kernels, zero biases."""
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.init_weights(rng)

    def set_weights(self, weights: Mapping[str, Sequence[Any]], *, field: str = "weights",
                    seed: int | None = 0) -> None:
        """Weights by layer name in Keras's layouts; layers not named start from ``seed``."""
        names = {layer.name for layer in self.layers}
        for name in weights:
            if name not in names:
                with_weights = [la.name for la in self.layers if la.weight_shapes]
                raise ParameterError(
                    f"`{field}` names layer {name!r}, which the stack does not have; its layers "
                    f"with weights are {', '.join(with_weights) or 'none'}",
                    param=f"{field}.{name}",
                    accepted="names of layers with weights: " + (", ".join(with_weights)
                                                                  or "none"))
        self.init_weights(seed)
        for layer in self.layers:
            if layer.name in weights:
                layer.set_weights(weights[layer.name], f"{field}.{layer.name}")

    def get_weights(self) -> dict[str, list[np.ndarray]]:
        return {layer.name: list(layer.weights) for layer in self.layers if layer.weights}

    # -- computing ------------------------------------------------------------------------
    def as_batch(self, x: Any, *, field: str = "input") -> np.ndarray:
        """One example in Keras's order (or ``[H, W]`` for one channel) as a batch of one,
        or a batch ``(N, *input_shape)`` as it is; float32, channel-first inside."""
        a = np.asarray(x, dtype=np.float32)
        shape = self.input_shape
        if a.shape == shape[:-1] and shape[-1] == 1 and len(shape) > 1:
            a = a[..., None]
        if a.shape == shape:
            a = a[None]
        if a.shape[1:] != shape:
            raise ShapeError(
                f"`{field}` must have shape {list(shape)} (Keras's order, channels last)"
                + (f" or {list(shape[:-1])} for one channel" if shape[-1] == 1 else "")
                + f", got {list(a.shape)}", param=field, accepted=f"an array {list(shape)}")
        if not np.isfinite(a).all():
            raise ShapeError(f"`{field}` holds NaN or infinite values", param=field,
                             accepted="finite numbers")
        return to_internal(a)

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> list[np.ndarray]:
        """Every layer's output for a channel-first batch (what `as_batch` returns)."""
        outputs = []
        for layer in self.layers:
            x = layer.forward(x, training=training, rng=rng)
            outputs.append(x)
        return outputs

    def run(self, x: Any, *, training: bool = False, seed: int | None = None,
            field: str = "input") -> list[LayerOutput]:
        """Every layer's output for one example ``x`` in Keras's order, each in Keras's order."""
        batch = self.as_batch(x, field=field)
        rng = np.random.default_rng(seed)
        outputs = self.forward(batch, training=training, rng=rng)
        return [LayerOutput(layer, to_keras(out)[0]) for layer, out in
                zip(self.layers, outputs, strict=True)]

    def predict(self, x: Any) -> np.ndarray:
        """The last layer's output for a batch ``(N, *input_shape)``, Keras's order."""
        batch = to_internal(np.asarray(x, dtype=np.float32))
        return to_keras(self.forward(batch)[-1]) if self.layers else to_keras(batch)
