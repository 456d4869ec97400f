"""Keras's layers as objects over the core: one class per concept, one Keras name per class.

`make_layer` turns one entry of a stack (``{"type": "Conv2D", "filters": 8, ...}``) into a layer,
with Keras's defaults for the arguments not given, and every argument checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.errors import ParameterError
from .. import _keras_args as args
from .base import Layer, Shape, Summary, to_internal, to_keras
from .conv import Conv, ZeroPadding
from .dense import Dense, Flatten
from .elementwise import Activation, BatchNormalization, Dropout, LeakyReLU, ReLU, Softmax
from .pooling import GlobalPooling, Pooling

__all__ = ["LAYER_CLASSES", "Layer", "Shape", "Summary", "make_layer", "to_internal",
           "to_keras"]


def _per_axes(base: type[Layer], name: str, **attrs: Any) -> dict[str, type[Layer]]:
    """``{Conv1D: ..., Conv2D: ..., Conv3D: ...}``: one subclass per number of spatial axes."""
    return {name.format(d=d): type(name.format(d=d), (base,),
                                   {"type": name.format(d=d), "nd": d, **attrs})
            for d in (1, 2, 3)}


LAYER_CLASSES: dict[str, type[Layer]] = {
    **_per_axes(Conv, "Conv{d}D"),
    **_per_axes(Pooling, "MaxPooling{d}D", mode="max"),
    **_per_axes(Pooling, "AveragePooling{d}D", mode="avg"),
    **_per_axes(GlobalPooling, "GlobalMaxPooling{d}D", mode="max"),
    **_per_axes(GlobalPooling, "GlobalAveragePooling{d}D", mode="avg"),
    **_per_axes(ZeroPadding, "ZeroPadding{d}D"),
    **{cls.type: cls for cls in (Dense, Flatten, Activation, ReLU, LeakyReLU, Softmax, Dropout,
                                 BatchNormalization)},
}
assert set(LAYER_CLASSES) == set(args.LAYER_ARGS), "every Keras layer name has one class"


def make_layer(index: int, spec: Any, name: str) -> Layer:
    """The layer described by ``spec`` (position ``index`` in the stack), named ``name``."""
    if not isinstance(spec, Mapping):
        raise ParameterError(f"`layers[{index}]` must be an object with a `type`, got {spec!r}",
                             param=f"layers[{index}]", accepted='{"type": "Conv2D", ...}')
    kind = args.layer_type(index, spec)
    arguments = args.arguments(index, kind, {k: v for k, v in spec.items() if k != "name"})
    return LAYER_CLASSES[kind](index, name, arguments)
