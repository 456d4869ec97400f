"""Layer stacks: what Keras's ``model.summary()`` reports, without Keras.

A stack is an input shape ``[H, W, C]`` (Keras's order, channels last) and a list of layers in
Keras's vocabulary: ``{"type": "Conv2D", "filters": 6, "kernel_size": 5}``, with Keras's argument
names and defaults. `summarize` gives every layer its Keras name (``conv2d``, ``conv2d_1``, ...),
output shape and parameter count, with the arithmetic written out, and the totals. The spatial
arithmetic is `shapes.output_shape` (``"same"`` there is already Keras's), so the sizes shown here
are the sizes the convolution endpoints compute.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.errors import OutputSizeError, ParameterError, ShapeError
from ..core.shapes import explain_output_shape, output_shape, resolve_padding
from . import _keras_args as args

__all__ = ["ACCEPTED", "ACTIVATION_NAMES", "LAYER_TYPES", "LayerSummary", "NetworkSummary",
           "keras_name", "summarize"]

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: shapes as lists, the totals included."""
        layers = [{**asdict(layer), "output_shape": list(layer.output_shape)}
                  for layer in self.layers]
        return {"input_shape": list(self.input_shape), "layers": layers,
                "total_params": self.total_params, "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params}


def keras_name(class_name: str) -> str:
    """Keras's ``to_snake_case``: the prefix of a layer's automatic name.

    >>> keras_name("MaxPooling2D"), keras_name("GlobalAveragePooling2D")
    ('max_pooling2d', 'global_average_pooling2d')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _input_shape(value: Any) -> Shape:
    accepted = "three ints >= 1: [height, width, channels]"
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 3:
        raise ShapeError(f"`input_shape` must be {accepted} (channels last, as in Keras), "
                         f"got {value!r}", param="input_shape", accepted=accepted)
    for axis, n in enumerate(value):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            fix = {f"input_shape[{axis}]": 1} if isinstance(n, int) else None
            raise ShapeError(f"`input_shape[{axis}]` must be an int >= 1, got {n!r}",
                             param=f"input_shape[{axis}]", accepted=accepted, suggestion=fix)
    return tuple(int(n) for n in value)


def _needs_map(i: int, kind: str, shape: Shape) -> None:
    """Spatial layers take ``[H, W, C]``; Keras refuses them after Flatten/Dense/global pooling."""
    if len(shape) != 3:
        raise ShapeError(
            f"`layers[{i}]` (type {kind}) needs a 3-D input [height, width, channels] but "
            f"receives {list(shape)}: a vector has no height and width to slide a window over",
            param=args.field(i, "type"),
            accepted="a layer that takes a vector here (Dense, Dropout, Activation, "
            "BatchNormalization, Flatten), or this layer moved before the Flatten")


def _window(i: int, shape: Shape, kernel: tuple[int, int], strides: tuple[int, int],
            padding: str, dilation: tuple[int, int], size_name: str) -> tuple[Shape, list[str]]:
    """Output ``[H', W']`` of a sliding window, with the formula per axis (H, W)."""
    spatial = shape[:2]
    pads = resolve_padding(padding, spatial_shape=spatial, kernel_shape=kernel, stride=strides,
                           dilation=dilation)
    lines = explain_output_shape(spatial, kernel, stride=strides, padding=pads, dilation=dilation)
    explain = [_label(line) for line in lines]
    try:
        out = output_shape(spatial, kernel, stride=strides, padding=pads, dilation=dilation)
    except OutputSizeError as err:
        axis = err.axis
        # the largest window that still fits, per axis, keeping the window the user chose elsewhere
        fits = [min(k, (n - 1) // d + 1) for k, n, d in zip(kernel, spatial, dilation, strict=True)]
        fit: int | list[int] = fits[0] if fits[0] == fits[1] else fits
        side, lines_ = ("height", "rows") if axis == 0 else ("width", "columns")
        raise OutputSizeError(
            f"`layers[{i}]` would output nothing: {explain[axis]}. Its window spans "
            f"{dilation[axis] * (kernel[axis] - 1) + 1} {lines_} but the input's {side} is "
            f'only {spatial[axis]}; use padding "same", or {size_name} {fit}',
            param=args.field(i, "padding"), axis=axis, formula=explain[axis],
            accepted=f'padding "same", or a {size_name} that fits into {list(spatial)}',
            suggestion={args.field(i, "padding"): "same"},
            alternatives=[{args.field(i, size_name): fit}],
        ) from err
    return out, explain


def _label(line: str) -> str:
    # shapes.py numbers axes; in Keras's [H, W, C] order they are the height and the width
    return re.sub(r"^axis 0:", "H:", re.sub(r"^axis 1:", "W:", line))


@dataclass(frozen=True)
class _Step:
    shape: Shape
    trainable: int
    formula: str
    note: str
    explain: list[str] = field(default_factory=list)
    non_trainable: int = 0


def _conv2d(i: int, a: dict[str, Any], shape: Shape) -> _Step:
    _needs_map(i, "Conv2D", shape)
    filters = args.positive(i, "filters", a["filters"])
    kernel = args.pair(i, "kernel_size", a["kernel_size"])
    strides = args.pair(i, "strides", a["strides"])
    dilation = args.pair(i, "dilation_rate", a["dilation_rate"])
    padding = args.padding(i, a["padding"])
    act = args.activation(i, a["activation"])
    bias = args.flag(i, "use_bias", a["use_bias"])
    if max(strides) > 1 and max(dilation) > 1:
        raise ParameterError(
            f"`{args.field(i, 'dilation_rate')}` = {a['dilation_rate']!r} cannot be combined with "
            f"strides {a['strides']!r}: Keras refuses strides > 1 together with dilation_rate > 1",
            param=args.field(i, "dilation_rate"), accepted="dilation_rate 1 when strides > 1",
            suggestion={args.field(i, "dilation_rate"): 1},
            alternatives=[{args.field(i, "strides"): 1}])
    (h, w), explain = _window(i, shape, kernel, strides, padding, dilation, "kernel_size")
    cin = shape[2]
    taps = f"{kernel[0]}*{kernel[1]}*{cin}"
    weights = kernel[0] * kernel[1] * cin * filters
    params = weights + (filters if bias else 0)
    formula = f"({taps} + 1) * {filters} = {params}" if bias else f"{taps} * {filters} = {params}"
    note = (f"{filters} filters of {kernel[0]}x{kernel[1]}x{cin}, each with "
            f"{'one bias' if bias else 'no bias'}; the same weights at every position"
            + (f"; then {act}" if act != "linear" else ""))
    return _Step((h, w, filters), params, formula, note, explain)


def _pooling(i: int, kind: str, a: dict[str, Any], shape: Shape) -> _Step:
    _needs_map(i, kind, shape)
    pool = args.pair(i, "pool_size", a["pool_size"])
    # Keras: strides=None means "as large as the window", so windows do not overlap
    strides = pool if a["strides"] is None else args.pair(i, "strides", a["strides"])
    padding = args.padding(i, a["padding"])
    (h, w), explain = _window(i, shape, pool, strides, padding, (1, 1), "pool_size")
    how = "largest value" if kind == "MaxPooling2D" else "mean"
    note = (f"the {how} of each {pool[0]}x{pool[1]} window, step {strides[0]}x{strides[1]}, "
            "channel by channel: nothing to learn")
    return _Step((h, w, shape[2]), 0, "0", note, explain)


def _global(i: int, kind: str, shape: Shape) -> _Step:
    _needs_map(i, kind, shape)
    how = "largest value" if kind == "GlobalMaxPooling2D" else "mean"
    note = f"the {how} of each whole {shape[0]}x{shape[1]} map: one number per channel"
    return _Step((shape[2],), 0, "0", note)


def _batch_norm(i: int, a: dict[str, Any], shape: Shape) -> _Step:
    learned = int(args.flag(i, "center", a["center"])) + int(args.flag(i, "scale", a["scale"]))
    c = shape[-1]
    total = (learned + 2) * c
    note = ("per channel: gamma (scale) and beta (center) are learned; the moving mean and "
            "variance are tracked, not learned, so they are non-trainable")
    return _Step(shape, learned * c, f"({learned} + 2) * {c} = {total}", note,
                 non_trainable=2 * c)


def _dense(i: int, a: dict[str, Any], shape: Shape) -> _Step:
    units = args.positive(i, "units", a["units"])
    act = args.activation(i, a["activation"])
    bias = args.flag(i, "use_bias", a["use_bias"])
    cin = shape[-1]
    params = cin * units + (units if bias else 0)
    formula = f"({cin} + 1) * {units} = {params}" if bias else f"{cin} * {units} = {params}"
    note = f"every one of the {cin} inputs joins every one of the {units} units"
    if len(shape) > 1:
        # what Keras does with a map, and what surprises people who expected a flattening
        where = "x".join(map(str, shape[:-1]))
        note = (f"Dense acts on the last axis only, as in Keras: the same {cin}x{units} weights "
                f"at each of the {where} positions (add Flatten first to join every value)")
    if act != "linear":
        note += f"; then {act}"
    return _Step((*shape[:-1], units), params, formula, note)


def _layer(i: int, layer: Any, shape: Shape) -> tuple[str, _Step]:
    if not isinstance(layer, Mapping):
        raise ParameterError(f"`layers[{i}]` must be an object with a `type`, got {layer!r}",
                             param=f"layers[{i}]", accepted='{"type": "Conv2D", ...}')
    kind = args.layer_type(i, layer)
    a = args.arguments(i, kind, layer)
    if kind == "Conv2D":
        return kind, _conv2d(i, a, shape)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return kind, _pooling(i, kind, a, shape)
    if kind in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        return kind, _global(i, kind, shape)
    if kind == "BatchNormalization":
        return kind, _batch_norm(i, a, shape)
    if kind == "Dense":
        return kind, _dense(i, a, shape)
    if kind == "Flatten":
        n = math.prod(shape)
        return kind, _Step((n,), 0, f"{'*'.join(map(str, shape))} = {n}",
                           "the values lined up into one vector: nothing to learn")
    if kind == "Dropout":
        p = args.rate(i, a["rate"])
        return kind, _Step(shape, 0, "0", f"while training, zeroes each value with probability "
                           f"{p:g} and scales the rest by 1/(1 - {p:g}); at inference it passes "
                           "values through")
    act = args.activation(i, a["activation"], required=True)
    return kind, _Step(shape, 0, "0", f"{act} applied to each value; the shape stays")


def summarize(input_shape: Sequence[int], layers: Sequence[Any]) -> NetworkSummary:
    """What Keras's ``model.summary()`` reports for a ``Sequential`` stack.

    Parameters
    ----------
    input_shape : sequence of 3 ints
        ``[H, W, C]``, channels last, as ``keras.Input(shape=(H, W, C))``.
    layers : sequence of dict
        Each ``{"type": <Keras class name>, <Keras argument>: value, ...}``; missing arguments
        take Keras's defaults (``strides=1``, ``padding="valid"``, ``use_bias=True``, ...).

    Returns
    -------
    NetworkSummary
        Per layer its Keras name, output shape (without the batch axis), parameters with the
        formula, and the totals.

    Raises
    ------
    CoreError
        A subclass whose ``param`` is the exact field, e.g. ``layers[2].kernel_size``.

    Notes
    -----
    Arithmetic on shapes only: time and memory grow with the number of layers, not with the
    image size.

    Examples
    --------
    >>> s = summarize([32, 32, 3], [{"type": "Conv2D", "filters": 6, "kernel_size": 5},
    ...                             {"type": "MaxPooling2D"}, {"type": "Flatten"},
    ...                             {"type": "Dense", "units": 10}])
    >>> [(r.name, r.output_shape, r.params) for r in s.layers]  # doctest: +NORMALIZE_WHITESPACE
    [('conv2d', (28, 28, 6), 456), ('max_pooling2d', (14, 14, 6), 0),
     ('flatten', (1176,), 0), ('dense', (10,), 11770)]
    >>> s.layers[0].formula, s.total_params
    ('(5*5*3 + 1) * 6 = 456', 12226)
    """
    shape = _input_shape(input_shape)
    if not isinstance(layers, Sequence) or isinstance(layers, str):
        raise ParameterError(f"`layers` must be a list of layer objects, got {layers!r}",
                             param="layers", accepted="a list of layer objects")
    start = shape
    counts: dict[str, int] = {}
    rows = []
    for i, layer in enumerate(layers):
        kind, step = _layer(i, layer, shape)
        prefix = keras_name(kind)
        # Keras numbers repeated names from the second on: dense, dense_1, dense_2
        seen = counts.get(prefix, 0)
        counts[prefix] = seen + 1
        rows.append(LayerSummary(
            type=kind, name=prefix if seen == 0 else f"{prefix}_{seen}",
            output_shape=step.shape, params=step.trainable + step.non_trainable,
            trainable_params=step.trainable, non_trainable_params=step.non_trainable,
            formula=step.formula, explain=step.explain, note=step.note))
        shape = step.shape
    return NetworkSummary(input_shape=start, layers=rows)
