"""Reading one Keras layer's arguments: names, defaults and the checks Keras itself makes.

Every reader takes the layer's position so an error can name the exact request field
(``layers[2].kernel_size``); the web layer shows that field next to the control it came from.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from ..core.errors import ParameterError

# Keras's own vocabulary: argument names and defaults (``None`` in a default means optional).
_CONV = {"filters": None, "kernel_size": None, "strides": 1, "padding": "valid",
         "dilation_rate": 1, "groups": 1, "activation": None, "use_bias": True}
_POOL = {"pool_size": 2, "strides": None, "padding": "valid"}
LAYER_ARGS: dict[str, dict[str, Any]] = {
    **{f"Conv{d}D": dict(_CONV) for d in (1, 2, 3)},
    **{f"{kind}Pooling{d}D": dict(_POOL) for kind in ("Max", "Average") for d in (1, 2, 3)},
    **{f"Global{kind}Pooling{d}D": {"keepdims": False}
       for kind in ("Max", "Average") for d in (1, 2, 3)},
    **{f"ZeroPadding{d}D": {"padding": 1} for d in (1, 2, 3)},
    "BatchNormalization": {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True,
                           "scale": True},
    "Activation": {"activation": None},
    "ReLU": {"max_value": None, "negative_slope": 0.0, "threshold": 0.0},
    "LeakyReLU": {"negative_slope": 0.3},
    "Softmax": {"axis": -1},
    "Dropout": {"rate": None, "seed": None},
    "Flatten": {},
    "Dense": {"units": None, "activation": None, "use_bias": True},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    **{f"Conv{d}D": ("filters", "kernel_size") for d in (1, 2, 3)},
    "Activation": ("activation",), "Dropout": ("rate",), "Dense": ("units",),
}
# The spatial axes a layer slides over (its name ends in 1D/2D/3D); 0 for the others.
SPATIAL_AXES = {kind: int(kind[-2]) for kind in LAYER_ARGS if kind.endswith("D")
                and kind[-2].isdigit()}
# The activation names Keras accepts as strings (keras.activations.get), all computed by
# server.nn.activations.
ACTIVATION_NAMES = (
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hard_sigmoid", "hard_silu", "tanh", "softmax", "log_softmax", "softplus",
    "softsign", "exponential",
)
PADDINGS = ("valid", "same")
ACCEPTED = {
    "filters": "an int >= 1", "units": "an int >= 1",
    "kernel_size": "an int >= 1 or one int per spatial axis",
    "pool_size": "an int >= 1 or one int per spatial axis",
    "strides": "an int >= 1 or one int per spatial axis",
    "dilation_rate": "an int >= 1 or one int per spatial axis",
    "groups": "an int >= 1 dividing the input channels and the filters",
    "keepdims": "true or false", "axis": "-1 (the channels, last in Keras's order)",
    "momentum": "a number in [0, 1]", "epsilon": "a number > 0",
    "max_value": "null or a number >= 0", "negative_slope": "a number >= 0",
    "threshold": "a number", "seed": "null or an int >= 0",
    "padding": '"valid" or "same"', "rate": "a number in [0, 1)",
    "activation": "null or one of " + ", ".join(ACTIVATION_NAMES),
    "use_bias": "true or false", "center": "true or false", "scale": "true or false",
}
ACCEPTED_PADDING = {
    1: "an int >= 0 or a pair [left, right]",
    2: "an int >= 0, a pair [rows, columns], or [[top, bottom], [left, right]]",
    3: "an int >= 0, three ints, or three [before, after] pairs",
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


def ints(index: int, name: str, value: Any, nd: int) -> tuple[int, ...]:
    """An int or ``nd`` ints, each >= 1, as Keras's ``kernel_size``/``strides`` take them."""
    if _is_int(value):
        values = [int(value)] * nd
    elif isinstance(value, list | tuple) and len(value) == nd and all(map(_is_int, value)):
        values = [int(v) for v in value]
    else:
        raise ParameterError(f"`{field(index, name)}` must be {ACCEPTED[name]} ({nd} here), "
                             f"got {value!r}", param=field(index, name), accepted=ACCEPTED[name])
    if min(values) < 1:
        fixed: int | list[int] = 1 if _is_int(value) else [max(v, 1) for v in values]
        raise ParameterError(
            f"`{field(index, name)}` must be >= 1 on every axis, got {value!r}",
            param=field(index, name), accepted=ACCEPTED[name],
            suggestion={field(index, name): fixed})
    return tuple(values)


def pair(index: int, name: str, value: Any) -> tuple[int, int]:
    """`ints` for two axes (height, width)."""
    h, w = ints(index, name, value, 2)
    return h, w


def zero_padding(index: int, value: Any, nd: int) -> tuple[tuple[int, int], ...]:
    """``ZeroPaddingND``'s ``padding``: an int, one int per axis, or a pair per axis."""
    def bad() -> ParameterError:
        return ParameterError(
            f"`{field(index, 'padding')}` must be {ACCEPTED_PADDING[nd]}, got {value!r}",
            param=field(index, "padding"), accepted=ACCEPTED_PADDING[nd])

    if _is_int(value):
        pads = [(int(value), int(value))] * nd
    elif isinstance(value, list | tuple) and len(value) == nd and all(map(_is_int, value)):
        pads = [(int(v), int(v)) for v in value]
    elif (nd == 1 and isinstance(value, list | tuple) and len(value) == 2
          and all(map(_is_int, value))):
        pads = [(int(value[0]), int(value[1]))]
    elif isinstance(value, list | tuple) and len(value) == nd and all(
            isinstance(p, list | tuple) and len(p) == 2 and all(map(_is_int, p)) for p in value):
        pads = [(int(a), int(b)) for a, b in value]
    else:
        raise bad()
    if min(min(p) for p in pads) < 0:
        raise bad()
    return tuple(pads)


def number(index: int, name: str, value: Any, *, low: float | None = None,
           low_open: bool = False, high: float | None = None) -> float:
    """A JSON number within bounds (``epsilon``, ``momentum``, ``negative_slope``...)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok or not math.isfinite(float(value)):
        raise ParameterError(f"`{field(index, name)}` must be {ACCEPTED[name]}, got {value!r}",
                             param=field(index, name), accepted=ACCEPTED[name])
    return float(value)


def channel_axis(index: int, value: Any, ndim: int) -> None:
    """``axis`` of Softmax and BatchNormalization: only the channels (-1, or its index)."""
    if _is_int(value) and value in (-1, ndim - 1):
        return
    raise ParameterError(
        f"`{field(index, 'axis')}` must be -1 (the channels), got {value!r}: Svertka normalizes "
        "and takes the softmax over the channels only", param=field(index, "axis"),
        accepted=ACCEPTED["axis"], suggestion={field(index, "axis"): -1})


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
