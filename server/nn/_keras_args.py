"""Reading one Keras layer's arguments: names, defaults and the checks Keras itself makes.

Every reader takes the layer's position so an error can name the exact request field
(``layers[2].kernel_size``); the web layer shows that field next to the control it came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ..core.errors import ParameterError

# Keras's own vocabulary: argument names and defaults (``None`` in a default means optional).
LAYER_ARGS: dict[str, dict[str, Any]] = {
    "Conv2D": {"filters": None, "kernel_size": None, "strides": 1, "padding": "valid",
               "dilation_rate": 1, "activation": None, "use_bias": True},
    "MaxPooling2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "AveragePooling2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "GlobalMaxPooling2D": {},
    "GlobalAveragePooling2D": {},
    "BatchNormalization": {"center": True, "scale": True},
    "Activation": {"activation": None},
    "Dropout": {"rate": None},
    "Flatten": {},
    "Dense": {"units": None, "activation": None, "use_bias": True},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "Conv2D": ("filters", "kernel_size"), "Activation": ("activation",), "Dropout": ("rate",),
    "Dense": ("units",),
}
# The activation names Keras accepts as strings (keras.activations.get); only shapes are computed
# here, so every one of them is as cheap to support as another.
ACTIVATION_NAMES = (
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hard_sigmoid", "hard_silu", "tanh", "softmax", "log_softmax", "softplus",
    "softsign", "exponential",
)
PADDINGS = ("valid", "same")
ACCEPTED = {
    "filters": "an int >= 1", "units": "an int >= 1",
    "kernel_size": "an int >= 1 or a pair [height, width]",
    "pool_size": "an int >= 1 or a pair [height, width]",
    "strides": "an int >= 1 or a pair [height, width]",
    "dilation_rate": "an int >= 1 or a pair [height, width]",
    "padding": '"valid" or "same"', "rate": "a number in [0, 1)",
    "activation": "null or one of " + ", ".join(ACTIVATION_NAMES),
    "use_bias": "true or false", "center": "true or false", "scale": "true or false",
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def field(index: int, name: str) -> str:
    """The request field of argument ``name`` of layer ``index``: ``layers[2].strides``."""
    return f"layers[{index}].{name}"


def layer_type(index: int, layer: Mapping[str, Any]) -> str:
    """The layer's ``type``, checked against the supported Keras class names."""
    kind = layer.get("type")
    if kind in LAYER_ARGS:
        return str(kind)
    accepted = ", ".join(LAYER_ARGS)
    close = difflib.get_close_matches(str(kind), list(LAYER_ARGS), n=1, cutoff=0.6)
    folded = {k.lower(): k for k in LAYER_ARGS}.get(str(kind).lower())
    guess = folded or (close[0] if close else None)
    raise ParameterError(
        f"`{field(index, 'type')}` must be one of {accepted} (Keras class names), got {kind!r}",
        param=field(index, "type"), accepted=accepted,
        suggestion={field(index, "type"): guess} if guess else None,
    )


def arguments(index: int, kind: str, layer: Mapping[str, Any]) -> dict[str, Any]:
    """Keras's defaults overlaid with the given arguments; unknown or missing ones are errors."""
    defaults = LAYER_ARGS[kind]
    for name in layer:
        if name != "type" and name not in defaults:
            known = ", ".join(defaults) or "no arguments"
            raise ParameterError(
                f"{kind} has no argument `{name}` (in `{field(index, name)}`); it takes {known}",
                param=field(index, name), accepted=f"{kind} arguments: {known}",
            )
    for name in REQUIRED.get(kind, ()):
        if layer.get(name) is None:
            raise ParameterError(
                f"`{field(index, name)}` is required by {kind}", param=field(index, name),
                accepted=ACCEPTED[name],
            )
    return {**defaults, **{k: v for k, v in layer.items() if k != "type"}}


def positive(index: int, name: str, value: Any) -> int:
    """An int >= 1 (``filters``, ``units``)."""
    if not _is_int(value) or value < 1:
        fix = {field(index, name): 1} if _is_int(value) else None
        raise ParameterError(f"`{field(index, name)}` must be an int >= 1, got {value!r}",
                             param=field(index, name), accepted=ACCEPTED[name], suggestion=fix)
    return int(value)


def pair(index: int, name: str, value: Any) -> tuple[int, int]:
    """An int or a pair of ints, each >= 1, as Keras's ``kernel_size``/``strides`` take them."""
    if _is_int(value):
        values = [int(value)] * 2
    elif isinstance(value, list | tuple) and len(value) == 2 and all(map(_is_int, value)):
        values = [int(v) for v in value]
    else:
        raise ParameterError(f"`{field(index, name)}` must be {ACCEPTED[name]}, got {value!r}",
                             param=field(index, name), accepted=ACCEPTED[name])
    if min(values) < 1:
        fixed: int | list[int] = 1 if _is_int(value) else [max(v, 1) for v in values]
        raise ParameterError(
            f"`{field(index, name)}` must be >= 1 on both axes, got {value!r}",
            param=field(index, name), accepted=ACCEPTED[name],
            suggestion={field(index, name): fixed})
    return values[0], values[1]


def padding(index: int, value: Any) -> str:
    """``"valid"`` or ``"same"``; Keras lower-cases the word, so we suggest that."""
    if value in PADDINGS:
        return str(value)
    guess = value.lower() if isinstance(value, str) and value.lower() in PADDINGS else "valid"
    raise ParameterError(
        f'`{field(index, "padding")}` must be "valid" or "same" (Keras has no numeric padding), '
        f"got {value!r}", param=field(index, "padding"), accepted=ACCEPTED["padding"],
        suggestion={field(index, "padding"): guess})


def activation(index: int, value: Any, *, required: bool = False) -> str:
    """An activation name; ``None`` is Keras's "linear" (no activation)."""
    if value is None and not required:
        return "linear"
    if value in ACTIVATION_NAMES:
        return str(value)
    close = difflib.get_close_matches(str(value).lower(), ACTIVATION_NAMES, n=1, cutoff=0.6)
    raise ParameterError(
        f"`{field(index, 'activation')}` must be {ACCEPTED['activation']}, got {value!r}",
        param=field(index, "activation"), accepted=ACCEPTED["activation"],
        suggestion={field(index, "activation"): close[0]} if close else None)


def flag(index: int, name: str, value: Any) -> bool:
    """A JSON boolean (``use_bias``, ``center``, ``scale``): 0 and "yes" are not booleans."""
    if not isinstance(value, bool):
        raise ParameterError(f"`{field(index, name)}` must be true or false, got {value!r}",
                             param=field(index, name), accepted=ACCEPTED[name])
    return value


def rate(index: int, value: Any) -> float:
    """Dropout's ``rate``, a probability in [0, 1): dropping everything trains nothing."""
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or not 0.0 <= float(value) < 1.0):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        fix = {field(index, "rate"): 0.5} if number else None
        raise ParameterError(f"`{field(index, 'rate')}` must be a number in [0, 1), got {value!r}",
                             param=field(index, "rate"), accepted=ACCEPTED["rate"],
                             suggestion=fix)
    return float(value)
