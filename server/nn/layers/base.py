"""What every layer is: Keras's name and arguments, the shapes it maps, its weights, its forward.

A layer is made from one entry of a stack (``{"type": "Conv2D", "filters": 8, ...}``) and built
for the shape it receives. Shapes at the edges are Keras's (channels last, no batch axis, e.g.
``(28, 28, 1)``); arrays inside are channel-first with a batch axis in front (``(N, C, *S)``, or
``(N, units)`` for a vector), which is what the core computes on. Weights are kept in Keras's own
layouts (a Conv2D kernel is ``(kh, kw, C_in, filters)``) so they can be given, saved and compared
as Keras has them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ...core.errors import OutputSizeError, ParameterError, ShapeError
from ...core.shapes import explain_output_shape, output_shape, resolve_padding
from .. import _keras_args as args

__all__ = ["Layer", "Shape", "Summary", "glorot_uniform", "to_internal", "to_keras"]

Shape = tuple[int, ...]
AXIS_LABELS = {1: ("steps",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class Summary:
    """One row of ``model.summary()`` with the arithmetic behind it."""

    output_shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    formula: str = "0"
    note: str = ""
    explain: list[str] = field(default_factory=list)  # the output-size formula per axis
    macs: int = 0  # multiply-adds per input example


def to_internal(x: np.ndarray) -> np.ndarray:
    """Keras's ``(N, *S, C)`` to ``(N, C, *S)``; a batch of vectors ``(N, n)`` stays."""
    return x if x.ndim <= 2 else np.moveaxis(x, -1, 1)


def to_keras(x: np.ndarray) -> np.ndarray:
    """The inverse of `to_internal`."""
    return x if x.ndim <= 2 else np.moveaxis(x, 1, -1)


def glorot_uniform(rng: np.random.Generator, shape: Shape, fan_in: int,
                   fan_out: int) -> np.ndarray:
    """Keras's default kernel initializer: uniform in ``+-sqrt(6 / (fan_in + fan_out))``."""
    limit = np.float32(math.sqrt(6.0 / (fan_in + fan_out)))
    # drawn in float32 directly: a Dense layer after a big map has millions of weights, and
    # float64 draws plus a conversion cost several times as long
    out = rng.random(shape, dtype=np.float32)
    out *= 2 * limit
    out -= limit
    return out


class Layer:
    """Base class: the arguments are read (and checked) at construction, shapes at `build`."""

    type: ClassVar[str]
    #: the weights' names, in Keras's order (``kernel``, ``bias``; ``gamma``, ``beta``, ...)
    weight_names: tuple[str, ...] = ()

    def __init__(self, index: int, name: str, arguments: Mapping[str, Any]) -> None:
        self.index = index
        self.name = name
        self.args = dict(arguments)
        self.read_args()
        self.input_shape: Shape = ()
        self.summary = Summary(())
        self.weight_shapes: list[Shape] = []
        self.weights: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []

    # -- construction -----------------------------------------------------------------------
    def read_args(self) -> None:
        """Check the arguments (naming ``layers[i].<arg>``); the subclasses read theirs."""

    def field(self, name: str) -> str:
        return args.field(self.index, name)

    def build(self, input_shape: Shape) -> Shape:
        """Fix the input shape; set `summary` and `weight_shapes`; return the output shape."""
        self.input_shape = tuple(input_shape)
        self.summary = self.compute(self.input_shape)
        return self.summary.output_shape

    def compute(self, shape: Shape) -> Summary:
        """The output shape and the counts for an input of ``shape`` (Keras's order)."""
        raise NotImplementedError

    # -- weights ----------------------------------------------------------------------------
    def init_weights(self, rng: np.random.Generator) -> None:
        """Keras's initial weights: Glorot-uniform kernels, zero biases (see subclasses)."""
        self.weights = []

    def set_weights(self, arrays: Sequence[Any], where: str) -> None:
        """Take weights in Keras's layouts, checking their number and shapes against the build.

        ``where`` is the request field they came from, e.g. ``weights.conv2d``.
        """
        names = ", ".join(f"{n} {list(s)}" for n, s in zip(self.weight_names, self.weight_shapes,
                                                            strict=False))
        expected = f"{len(self.weight_shapes)} arrays ({names or 'none'})"
        if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence) or isinstance(
                arrays, str) or len(arrays) != len(self.weight_shapes):
            got = len(arrays) if isinstance(arrays, Sequence) else type(arrays).__name__
            raise ShapeError(f"`{where}` must hold {expected} for {self.type} layer "
                             f"'{self.name}', got {got}", param=where, accepted=expected)
        checked = []
        for i, (array, shape) in enumerate(zip(arrays, self.weight_shapes, strict=True)):
            a = np.asarray(array, dtype=np.float32)
            label = self.weight_names[i] if i < len(self.weight_names) else str(i)
            if a.shape != shape:
                raise ShapeError(
                    f"`{where}[{i}]` ({label} of {self.type} layer '{self.name}') must have "
                    f"shape {list(shape)}, got {list(a.shape)}", param=f"{where}[{i}]",
                    accepted=f"an array of shape {list(shape)}")
            if not np.isfinite(a).all():
                raise ShapeError(f"`{where}[{i}]` ({label} of layer '{self.name}') holds NaN "
                                 "or infinite values", param=f"{where}[{i}]",
                                 accepted="finite numbers")
            checked.append(a)
        self.weights = checked

    @property
    def params(self) -> int:
        return self.summary.trainable + self.summary.non_trainable

    # -- computing --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        """This layer on a batch, channel-first: ``(N, C, *S)`` or ``(N, n)``."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """``dL/d input`` from ``dL/d output`` of the last training forward; the weights'
        gradients go to `grads` (Keras's layouts, summed over the batch)."""
        raise ParameterError(
            f"{self.type} layer '{self.name}' cannot be trained here: training supports "
            "convolutions, pooling, Dense, Flatten, Dropout, ZeroPadding and the activations "
            "with a derivative", param=self.field("type"),
            accepted="a stack without this layer for training")

    def backward_weights(self, grad: np.ndarray) -> None:
        """The weights' gradients only (into `grads`), for the first layer of a model, whose
        input needs no gradient; layers that can skip computing ``dL/d input`` do."""
        self.backward(grad)

    # -- helpers for the subclasses ---------------------------------------------------------
    def needs_map(self, shape: Shape, nd: int) -> None:
        """A layer that slides over ``nd`` axes needs ``nd`` axes and the channels."""
        if len(shape) == nd + 1:
            return
        want = "[" + ", ".join((*AXIS_LABELS[nd], "channels")) + "]"
        if len(shape) == 1:
            why = "a vector has no axes to slide a window over"
            accepted = ("a layer that takes a vector here (Dense, Dropout, Activation, "
                        "BatchNormalization, Flatten), or this layer moved before the Flatten")
        else:
            why = f"it has {len(shape) - 1} spatial axes, this layer slides over {nd}"
            accepted = f"an input {want}, or the {len(shape) - 1}D version of this layer"
        raise ShapeError(
            f"`layers[{self.index}]` (type {self.type}) needs an input {want} but receives "
            f"{list(shape)}: {why}", param=self.field("type"), accepted=accepted)

    def window(self, shape: Shape, kernel: Shape, strides: Shape, padding: str,
               dilation: Shape, size_name: str) -> tuple[Shape, list[str]]:
        """Output sizes of a sliding window over ``shape[:-1]``, with the formula per axis."""
        nd = len(kernel)
        spatial = shape[:nd]
        pads = resolve_padding(padding, spatial_shape=spatial, kernel_shape=kernel,
                               stride=strides, dilation=dilation)
        labels = AXIS_LABELS[nd]
        lines = explain_output_shape(spatial, kernel, stride=strides, padding=pads,
                                     dilation=dilation)
        explain = [re.sub(r"^axis (\d):", lambda m: labels[int(m.group(1))] + ":", line)
                   for line in lines]
        try:
            out = output_shape(spatial, kernel, stride=strides, padding=pads, dilation=dilation)
        except OutputSizeError as err:
            axis = err.axis
            fits = [min(k, (n - 1) // d + 1) for k, n, d in zip(kernel, spatial, dilation,
                                                                 strict=True)]
            fit: int | list[int] = fits[0] if len(set(fits)) == 1 else fits
            raise OutputSizeError(
                f"`layers[{self.index}]` would output nothing: {explain[axis]}. Its window spans "
                f"{dilation[axis] * (kernel[axis] - 1) + 1} along {labels[axis]} but the input "
                f'has only {spatial[axis]}; use padding "same", or {size_name} {fit}',
                param=self.field("padding"), axis=axis, formula=explain[axis],
                accepted=f'padding "same", or a {size_name} that fits into {list(spatial)}',
                suggestion={self.field("padding"): "same"},
                alternatives=[{self.field(size_name): fit}],
            ) from err
        return out, explain
