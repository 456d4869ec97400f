"""Layer stacks: what Keras's ``model.summary()`` reports, without Keras.

A stack is an input shape in Keras's order (channels last, e.g. ``[H, W, C]``) and a list of
layers in Keras's vocabulary: ``{"type": "Conv2D", "filters": 6, "kernel_size": 5}``, with
Keras's argument names and defaults. `summarize` gives every layer its Keras name (``conv2d``,
``conv2d_1``, ...), output shape and parameter count, with the arithmetic written out, and the
totals. The spatial arithmetic is `server.core.shapes.output_shape` (``"same"`` there is already
Keras's), so the sizes shown here are the sizes the convolution endpoints compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from . import _keras_args as args
from .model import Sequential, keras_name

__all__ = ["ACCEPTED", "ACTIVATION_NAMES", "LAYER_TYPES", "LayerSummary", "NetworkSummary",
           "keras_name", "summarize", "summary_of"]

LAYER_TYPES = tuple(args.LAYER_ARGS)
ACTIVATION_NAMES = args.ACTIVATION_NAMES
ACCEPTED = args.ACCEPTED  # what each Keras argument accepts, for the web layer's messages
Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerSummary:
    """One row of the summary; ``formula`` is the parameter count with its numbers."""

    type: str
    name: str
    output_shape: Shape
    params: int
    trainable_params: int
    non_trainable_params: int
    formula: str
    macs: int = 0  # multiply-adds for one example
    explain: list[str] = field(default_factory=list)  # the output-size formula per axis
    note: str = ""


@dataclass(frozen=True)
class NetworkSummary:
    """The whole summary, as ``model.summary()`` ends it: total, trainable, non-trainable."""

    input_shape: Shape
    layers: list[LayerSummary]

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: shapes as lists, the totals included."""
        layers = [{**asdict(layer), "output_shape": list(layer.output_shape)}
                  for layer in self.layers]
        return {"input_shape": list(self.input_shape), "layers": layers,
                "total_params": self.total_params, "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params,
                "total_macs": self.total_macs}


def summary_of(model: Sequential) -> NetworkSummary:
    """The summary of a built model."""
    rows = []
    for layer in model.layers:
        s = layer.summary
        rows.append(LayerSummary(
            type=layer.type, name=layer.name, output_shape=s.output_shape,
            params=s.trainable + s.non_trainable, trainable_params=s.trainable,
            non_trainable_params=s.non_trainable, formula=s.formula, macs=s.macs,
            explain=s.explain, note=s.note))
    return NetworkSummary(input_shape=model.input_shape, layers=rows)


def summarize(input_shape: Sequence[int], layers: Sequence[Any]) -> NetworkSummary:
    """What Keras's ``model.summary()`` reports for a ``Sequential`` stack.

    Parameters
    ----------
    input_shape : sequence of int
        Keras's order without the batch axis: ``[H, W, C]`` as ``keras.Input(shape=(H, W, C))``,
        ``[steps, C]`` for 1-D layers, ``[D, H, W, C]`` for 3-D ones, ``[n]`` for a vector.
    layers : sequence of dict
        Each ``{"type": <Keras class name>, <Keras argument>: value, ...}``; missing arguments
        take Keras's defaults (``strides=1``, ``padding="valid"``, ``use_bias=True``, ...).

    Returns
    -------
    NetworkSummary
        Per layer its Keras name, output shape (without the batch axis), parameters with the
        formula, multiply-adds, and the totals.

    Raises
    ------
    CoreError
        A subclass whose ``param`` is the exact field, e.g. ``layers[2].kernel_size``.

    Notes
    -----
    Arithmetic on shapes only: time and memory grow with the number of layers, not with the
    image size; no weights are made.

    Examples
    --------
    >>> s = summarize([32, 32, 3], [{"type": "Conv2D", "filters": 6, "kernel_size": 5},
    ...                             {"type": "MaxPooling2D"}, {"type": "Flatten"},
    ...                             {"type": "Dense", "units": 10}])
    >>> [(r.name, r.output_shape, r.params) for r in s.layers]  # doctest: +NORMALIZE_WHITESPACE
    [('conv2d', (28, 28, 6), 456), ('max_pooling2d', (14, 14, 6), 0),
     ('flatten', (1176,), 0), ('dense', (10,), 11770)]
    >>> s.layers[0].formula, s.total_params, s.layers[0].macs
    ('(5*5*3 + 1) * 6 = 456', 12226, 352800)
    """
    return summary_of(Sequential(input_shape, layers))
