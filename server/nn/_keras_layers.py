"""One layer of a saved config in Svertka's vocabulary, its output shape and its weights' shapes.

A saved layer is ``{"class_name", "config", "module"?, "registered_name"?}``. Its config is read
strictly: every key is either kept (Keras 3's argument names, Keras 2's ``alpha`` renamed),
known to change nothing at inference (initializers, regularizers, constraints, ``trainable``,
``dtype``...), or a refusal that names the layer and the argument. A key we have never seen is a
refusal too: a newer Keras may have given it a meaning we would silently ignore.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._keras_args import ACTIVATION_NAMES
from ._keras_errors import layer_error

Shape = tuple[int, ...]

_SPATIAL = {"1D": 1, "2D": 2, "3D": 3}
SUPPORTED = (
    [f"Conv{r}" for r in _SPATIAL] + ["Dense"]
    + [f"{k}Pooling{r}" for k in ("Max", "Average") for r in _SPATIAL]
    + [f"Global{k}Pooling{r}" for k in ("Max", "Average") for r in _SPATIAL]
    + ["Flatten", "Dropout", "Activation", "ReLU", "LeakyReLU", "Softmax", "BatchNormalization"]
    + [f"ZeroPadding{r}" for r in _SPATIAL]
)
ACCEPTED_LAYERS = "layers of the classes " + ", ".join(SUPPORTED) + " (and one InputLayer)"
_CODE = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
_MODELS = {"Sequential", "Functional", "Model"}

# Keys that change nothing when a trained model runs forward.
_IGNORED = {"name", "trainable", "dtype", "autocast", "batch_input_shape", "batch_shape",
            "input_shape", "input_dim", "seed", "synchronized", "renorm_clipping",
            "renorm_momentum", "fused", "activity_regularizer"}
_IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
# Keys harmless at these values only; any other value changes the computation.
_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "data_format": ("channels_last", None), "noise_shape": (None,), "renorm": (False,),
    "virtual_batch_size": (None,), "adjustment": (None,), "lora_rank": (None,),
    "quantization_config": (None,), "sparse": (False, None), "ragged": (False, None),
}
_QUANTIZED = ("int8", "int4", "float8", "quantized", "gptq")


@dataclass(frozen=True)
class Translated:
    """A layer as Svertka takes it, the shapes of its weights in Keras's order, its output."""

    layer: dict[str, Any]
    weights: list[tuple[str, Shape]]
    output_shape: Shape


class _Reader:
    """Takes one layer's config apart, raising errors that name the layer."""

    def __init__(self, index: int, name: str, kind: str, config: dict[str, Any]) -> None:
        self.index, self.name, self.kind, self.config = index, name, kind, config
        self.used: set[str] = set()

    def fail(self, message: str, accepted: str, code: str = "unsupported_layer") -> Exception:
        return layer_error(self.index, self.name, self.kind, message, accepted=accepted,
                           code=code)

    def get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        return self.config.get(key, default)

    def ints(self, key: str, rank: int, default: Any, *, low: int = 1) -> list[int]:
        value = self.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value] * rank
        if (not isinstance(value, list | tuple) or len(value) != rank
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= low
                           for v in value)):
            raise self.fail(f"`{key}` is {value!r}", f"{rank} int(s) >= {low}", "model_file")
        return [int(v) for v in value]

    def number(self, key: str, default: Any, *, low: float | None = None,
               optional: bool = False) -> float | None:
        value = self.get(key, default)
        if value is None and optional:
            return None
        if (not isinstance(value, int | float) or isinstance(value, bool)
                or not math.isfinite(value) or (low is not None and value < low)):
            raise self.fail(f"`{key}` is {value!r}", "a finite number"
                            + (f" >= {low}" if low is not None else ""), "model_file")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"`{key}` is {value!r}", "true or false", "model_file")
        return value

    def activation(self, key: str = "activation") -> str:
        value = self.get(key, None)
        if isinstance(value, dict) and str(value.get("module", "")).startswith("keras"):
            value = value.get("config")  # a built-in serialized as {"class_name": "function"}
        if value is None:
            return "linear"
        if isinstance(value, str) and value in ACTIVATION_NAMES:
            return value
        shown = value.get("config", value) if isinstance(value, dict) else value
        raise self.fail(f"activation {shown!r} is not one Svertka computes (a custom function "
                        "would be code, which is never run from a file)",
                        "one of " + ", ".join(ACTIVATION_NAMES))

    def leftovers(self) -> None:
        for key, value in self.config.items():
            if key in self.used or key in _IGNORED or key.endswith(_IGNORED_SUFFIXES):
                continue
            if key in _NEUTRAL and any(value is v or value == v for v in _NEUTRAL[key]):
                continue
            if key in _NEUTRAL:
                raise self.fail(f"`{key}` = {value!r} is not supported",
                                f"`{key}` = {_NEUTRAL[key][0]!r}")
            raise self.fail(f"has the argument `{key}` ({value!r}), which Svertka does not know; "
                            "it cannot tell whether it would change the result",
                            f"the arguments Keras gives {self.kind} by default")


def _window_out(r: _Reader, shape: Shape, kernel: list[int], strides: list[int],
                dilation: list[int], padding: str) -> Shape:
    out = []
    for axis, (n, k, s, d) in enumerate(zip(shape[:-1], kernel, strides, dilation, strict=True)):
        o = -(-n // s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        if o < 1:
            raise r.fail(f"spatial axis {axis} of size {n} is smaller than its window "
                         f"{d * (k - 1) + 1}: the output would be empty",
                         "a model whose windows fit its input", "model_file")
        out.append(o)
    return tuple(out)


def _rank(r: _Reader, shape: Shape, spatial: int) -> None:
    if len(shape) != spatial + 1:
        raise r.fail(f"takes inputs with {spatial} spatial axis(es) and channels, but receives "
                     f"shape {list(shape)}", "a model whose layers fit together", "model_file")


def _padding(r: _Reader) -> str:
    value = r.get("padding", "valid")
    if value not in ("valid", "same"):
        raise r.fail(f'padding {value!r} is not supported', '"valid" or "same"')
    return str(value)


def _conv(r: _Reader, shape: Shape, rank: int) -> Translated:
    _rank(r, shape, rank)
    filters = r.ints("filters", 1, None)[0]
    kernel = r.ints("kernel_size", rank, None)
    strides = r.ints("strides", rank, 1)
    dilation = r.ints("dilation_rate", rank, 1)
    groups = r.ints("groups", 1, 1)[0]
    padding = _padding(r)
    activation, bias = r.activation(), r.flag("use_bias", True)
    cin = shape[-1]
    if cin % groups or filters % groups:
        raise r.fail(f"groups {groups} must divide the input channels {cin} and the filters "
                     f"{filters}", "groups dividing both", "model_file")
    if max(strides) > 1 and max(dilation) > 1:
        raise r.fail("strides > 1 together with dilation_rate > 1 is refused by Keras itself",
                     "strides 1 or dilation_rate 1", "model_file")
    out = _window_out(r, shape, kernel, strides, dilation, padding)
    layer = {"filters": filters, "kernel_size": kernel, "strides": strides, "padding": padding,
             "dilation_rate": dilation, "groups": groups, "activation": activation,
             "use_bias": bias}
    weights = [("kernel", (*kernel, cin // groups, filters))] + ([("bias", (filters,))] * bias)
    return Translated(layer, weights, (*out, filters))


def _pool(r: _Reader, shape: Shape, rank: int) -> Translated:
    _rank(r, shape, rank)
    pool = r.ints("pool_size", rank, 2)
    strides = pool if r.config.get("strides") is None else r.ints("strides", rank, None)
    r.used.add("strides")
    padding = _padding(r)
    out = _window_out(r, shape, pool, strides, [1] * rank, padding)
    return Translated({"pool_size": pool, "strides": strides, "padding": padding}, [],
                      (*out, shape[-1]))


def _global(r: _Reader, shape: Shape, rank: int) -> Translated:
    _rank(r, shape, rank)
    keep = r.flag("keepdims", False)
    out = (*[1] * rank, shape[-1]) if keep else (shape[-1],)
    return Translated({"keepdims": keep}, [], out)


def _zero_padding(r: _Reader, shape: Shape, rank: int) -> Translated:
    _rank(r, shape, rank)
    value = r.get("padding", 1)
    pairs: list[list[int]] = []
    if isinstance(value, int) and not isinstance(value, bool):
        pairs = [[value, value]] * rank
    elif rank == 1 and isinstance(value, list | tuple) and len(value) == 2:
        pairs = [list(value)]
    elif isinstance(value, list | tuple) and len(value) == rank:
        pairs = [[v, v] if isinstance(v, int) else list(v) if isinstance(v, list | tuple) else []
                 for v in value]
    if not pairs or not all(len(p) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                and v >= 0 for v in p) for p in pairs):
        raise r.fail(f"`padding` is {value!r}", f"{rank} pair(s) of ints >= 0", "model_file")
    out = tuple(n + a + b for n, (a, b) in zip(shape[:-1], pairs, strict=True))
    padding: Any = pairs[0] if rank == 1 else pairs
    return Translated({"padding": padding}, [], (*out, shape[-1]))


def _axis(r: _Reader, key: str, shape: Shape) -> int:
    value = r.get(key, -1)
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]  # Keras 2 stores BatchNormalization's axis as a list
    if (not isinstance(value, int) or isinstance(value, bool)
            or not -len(shape) <= value <= len(shape) or value == 0):
        raise r.fail(f"`{key}` is {value!r} for inputs of shape {list(shape)}",
                     "one axis of the input other than the batch axis")
    # Keras counts the batch axis in a positive axis; counted from the end the number is the
    # same with or without it (Keras 2 writes BatchNormalization's axis as [3] for images)
    return int(value) - len(shape) - 1 if value > 0 else int(value)


def _batch_norm(r: _Reader, shape: Shape) -> Translated:
    axis = _axis(r, "axis", shape)
    channels = shape[axis]
    center, scale = r.flag("center", True), r.flag("scale", True)
    layer = {"axis": axis, "momentum": r.number("momentum", 0.99),
             "epsilon": r.number("epsilon", 1e-3, low=0.0), "center": center, "scale": scale}
    names = ["gamma"] * scale + ["beta"] * center + ["moving_mean", "moving_variance"]
    return Translated(layer, [(n, (channels,)) for n in names], shape)


def _dense(r: _Reader, shape: Shape) -> Translated:
    units = r.ints("units", 1, None)[0]
    activation, bias = r.activation(), r.flag("use_bias", True)
    weights = [("kernel", (shape[-1], units))] + ([("bias", (units,))] * bias)
    return Translated({"units": units, "activation": activation, "use_bias": bias}, weights,
                      (*shape[:-1], units))


def _simple(r: _Reader, shape: Shape) -> Translated:
    kind = r.kind
    if kind == "Flatten":
        return Translated({}, [], (math.prod(shape),))
    if kind == "Dropout":
        rate = r.number("rate", None, low=0.0)
        if rate is None or rate >= 1:
            raise r.fail(f"`rate` is {rate!r}", "a number in [0, 1)", "model_file")
        return Translated({"rate": rate}, [], shape)
    if kind == "Activation":
        return Translated({"activation": r.activation()}, [], shape)
    if kind == "ReLU":
        layer = {"max_value": r.number("max_value", None, low=0.0, optional=True),
                 "negative_slope": r.number("negative_slope", 0.0, low=0.0),
                 "threshold": r.number("threshold", 0.0)}
        return Translated(layer, [], shape)
    if kind == "LeakyReLU":
        key = "alpha" if "alpha" in r.config and "negative_slope" not in r.config else \
            "negative_slope"
        return Translated({"negative_slope": r.number(key, 0.3, low=0.0)}, [], shape)
    if kind == "Softmax":
        return Translated({"axis": _axis(r, "axis", shape)}, [], shape)
    if kind == "BatchNormalization":
        return _batch_norm(r, shape)
    return _dense(r, shape)


def _builder(kind: str) -> Callable[[_Reader, Shape], Translated]:
    rank = _SPATIAL.get(kind[-2:], 0)
    if kind.startswith("Conv"):
        return lambda r, s: _conv(r, s, rank)
    if kind.startswith("Global"):
        return lambda r, s: _global(r, s, rank)
    if kind.startswith(("MaxPooling", "AveragePooling")):
        return lambda r, s: _pool(r, s, rank)
    if kind.startswith("ZeroPadding"):
        return lambda r, s: _zero_padding(r, s, rank)
    return _simple


def _check_class(index: int, name: str, kind: str, entry: dict[str, Any]) -> None:
    module = entry.get("module")
    registered = entry.get("registered_name")
    custom = ((module is not None and not str(module).startswith("keras"))
              or (registered is not None and registered != kind))
    if kind in _CODE:
        raise layer_error(index, name, kind, "a Lambda layer holds Python code, and Svertka "
                          "never runs code from a file; rebuild the model with built-in layers",
                          accepted=ACCEPTED_LAYERS)
    if custom:
        origin = ", ".join(f"{k} {v!r}" for k, v in (("module", module),
                                                      ("registered as", registered)) if v)
        raise layer_error(index, name, kind, f"is a custom class ({origin}): its code is not in "
                          "the file and would not be run", accepted=ACCEPTED_LAYERS)
    if kind in _MODELS:
        raise layer_error(index, name, kind, "is a model nested inside the model; save the "
                          "layers as one flat Sequential model", accepted=ACCEPTED_LAYERS)
    if kind not in SUPPORTED:
        raise layer_error(index, name, kind, "is not a layer Svertka can compute",
                          accepted=ACCEPTED_LAYERS)


def _check_dtype(r: _Reader) -> None:
    dtype = r.config.get("dtype")
    text = str(dtype.get("config", {}).get("name") if isinstance(dtype, dict)
               and isinstance(dtype.get("config"), dict) else dtype).lower()
    klass = str(dtype.get("class_name", "")).lower() if isinstance(dtype, dict) else ""
    if any(q in text or q in klass for q in _QUANTIZED):
        raise r.fail(f"is quantized (dtype {text!r}); Svertka reads float weights only",
                     "a model saved before quantization")


def translate(index: int, name: str, entry: dict[str, Any], shape: Shape) -> Translated:
    """Layer ``index`` of the chain, receiving ``shape`` (no batch axis)."""
    kind = str(entry.get("class_name"))
    _check_class(index, name, kind, entry)
    config = entry.get("config")
    if not isinstance(config, dict):
        raise layer_error(index, name, kind, "has no config object", accepted=ACCEPTED_LAYERS,
                          code="model_file")
    r = _Reader(index, name, kind, config)
    _check_dtype(r)
    translated = _builder(kind)(r, shape)
    r.leftovers()
    layer = {"type": kind, "name": name, **translated.layer}
    return Translated(layer, translated.weights, translated.output_shape)
