"""Schemas of /api/network: a layer stack in Keras's vocabulary, and its summary.

Argument names and defaults are Keras's own, so a stack copied from a Keras script validates
as it is. The bounds keep every answer an exact integer in a browser (below 2**53).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ...nn.summary import ACTIVATION_NAMES
from .common import StrictModel

MAX_LAYERS = 64
MAX_SIDE = 8192      # every axis of the input, channels included
MAX_WIDTH = 8192     # filters of a convolution
MAX_UNITS = 1 << 20  # units of a Dense
MAX_WINDOW = 1024    # kernel_size, pool_size, strides, dilation_rate, zero padding

Side = Annotated[int, Field(ge=1, le=MAX_WINDOW)]
Window = Side | Annotated[list[Side], Field(min_length=1, max_length=3)]
WINDOW_TEXT = "an int, or one int per spatial axis (`[height, width]` in 2-D)"
KerasPadding = Literal["valid", "same"]
KerasActivation = Literal[ACTIVATION_NAMES]  # type: ignore[valid-type]
PADDING_TEXT = ('`"valid"` (no padding: the map shrinks) or `"same"` (zeros around so that the '
                "output is `ceil(n / strides)`)")
LayerName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$",
                                 description="The layer's name; default: Keras's automatic "
                                 "one (`conv2d`, `conv2d_1`, ...).")]


class NamedLayer(StrictModel):
    """Every layer may carry its own name, as in Keras."""

    name: LayerName | None = None


class ConvLayer(NamedLayer):
    """`keras.layers.Conv1D/2D/3D`: `filters` kernels of `kernel_size` x input channels."""

    type: Literal["Conv1D", "Conv2D", "Conv3D"]
    filters: int = Field(ge=1, le=MAX_WIDTH, description="Number of filters = output channels.",
                         examples=[6])
    kernel_size: Window = Field(description=f"Window size: {WINDOW_TEXT}.", examples=[5])
    strides: Window = Field(default=1, description=f"Step of the window: {WINDOW_TEXT}.")
    padding: KerasPadding = Field(default="valid", description=PADDING_TEXT)
    dilation_rate: Window = Field(default=1, description=f"Spacing of the taps: {WINDOW_TEXT};"
                                  " Keras refuses dilation_rate > 1 together with strides > 1.")
    groups: int = Field(default=1, ge=1, le=MAX_WIDTH, description="Channel groups: each filter "
                        "sees `C / groups` input channels.")
    activation: KerasActivation | None = Field(default=None, description="Applied after the "
                                               "bias; null is linear (none).")
    use_bias: bool = Field(default=True, description="One bias per filter.")


class PoolingLayer(NamedLayer):
    """`keras.layers.MaxPoolingND` / `AveragePoolingND`: one value per window, per channel."""

    type: Literal["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
                  "AveragePooling2D", "AveragePooling3D"]
    pool_size: Window = Field(default=2, description=f"Window size: {WINDOW_TEXT}.")
    strides: Window | None = Field(default=None, description="Step; null: `pool_size`.")
    padding: KerasPadding = Field(default="valid", description=PADDING_TEXT)


class GlobalPoolingLayer(NamedLayer):
    """`keras.layers.Global{Max,Average}PoolingND`: the largest value or the mean per map."""

    type: Literal["GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
                  "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"]
    keepdims: bool = Field(default=False, description="Keep the spatial axes (each of size 1).")


class ZeroPaddingLayer(NamedLayer):
    """`keras.layers.ZeroPaddingND`: zeros around every map."""

    type: Literal["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]
    padding: (Annotated[int, Field(ge=0, le=MAX_WINDOW)]
              | Annotated[list[Annotated[int, Field(ge=0, le=MAX_WINDOW)]
                               | Annotated[list[Annotated[int, Field(ge=0, le=MAX_WINDOW)]],
                                           Field(min_length=2, max_length=2)]],
                          Field(min_length=1, max_length=3)]) = Field(
        default=1, description="An int, one int per axis, or a `[before, after]` pair per axis.")


class BatchNormalizationLayer(NamedLayer):
    """`keras.layers.BatchNormalization` over the last axis: 4 numbers per channel, 2 learned."""

    type: Literal["BatchNormalization"]
    axis: int = Field(default=-1, description="The channels: -1 (last, as Keras).")
    momentum: float = Field(default=0.99, ge=0.0, le=1.0, description="Of the moving averages "
                            "(training only).")
    epsilon: float = Field(default=0.001, gt=0.0, description="Added to the variance.")
    center: bool = Field(default=True, description="Learn an offset `beta` per channel.")
    scale: bool = Field(default=True, description="Learn a factor `gamma` per channel.")


class ActivationLayer(NamedLayer):
    """`keras.layers.Activation`: a function applied to every value."""

    type: Literal["Activation"]
    activation: KerasActivation = Field(description="The function's Keras name.",
                                        examples=["relu"])


class ReLULayer(NamedLayer):
    """`keras.layers.ReLU`: `x` above `threshold`, capped at `max_value`; a slope below."""

    type: Literal["ReLU"]
    max_value: float | None = Field(default=None, ge=0.0, description="Upper cap; null: none.")
    negative_slope: float = Field(default=0.0, ge=0.0, description="Slope below `threshold`.")
    threshold: float = Field(default=0.0, description="Where the slope changes.")


class LeakyReLULayer(NamedLayer):
    """`keras.layers.LeakyReLU`: negative values times `negative_slope`."""

    type: Literal["LeakyReLU"]
    negative_slope: float = Field(default=0.3, ge=0.0, description="Slope for negative inputs.")


class SoftmaxLayer(NamedLayer):
    """`keras.layers.Softmax`: probabilities over the last axis."""

    type: Literal["Softmax"]
    axis: int = Field(default=-1, description="The channels: -1 (last, as Keras).")


class DropoutLayer(NamedLayer):
    """`keras.layers.Dropout`: zeroes values at random while training."""

    type: Literal["Dropout"]
    rate: float = Field(ge=0.0, lt=1.0, description="Probability of dropping each value.",
                        examples=[0.5])
    seed: int | None = Field(default=None, ge=0, description="Seed of this layer's masks.")


class FlattenLayer(NamedLayer):
    """`keras.layers.Flatten`: every value in one vector (channels last, as Keras orders)."""

    type: Literal["Flatten"]


class DenseLayer(NamedLayer):
    """`keras.layers.Dense`: every input joined to every unit (on the last axis, as in Keras)."""

    type: Literal["Dense"]
    units: int = Field(ge=1, le=MAX_UNITS, description="Number of outputs.", examples=[10])
    activation: KerasActivation | None = Field(default=None, description="Null is linear.")
    use_bias: bool = Field(default=True, description="One bias per unit.")


Layer = Annotated[
    ConvLayer | PoolingLayer | GlobalPoolingLayer | ZeroPaddingLayer | BatchNormalizationLayer
    | ActivationLayer | ReLULayer | LeakyReLULayer | SoftmaxLayer | DropoutLayer | FlattenLayer
    | DenseLayer,
    Field(discriminator="type"),
]

_EXAMPLE = {"input_shape": [32, 32, 3], "layers": [
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "strides": 1, "padding": "valid",
     "activation": "relu", "use_bias": True},
    {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10},
]}


InputShape = Annotated[list[Annotated[int, Field(ge=1, le=MAX_SIDE)]],
                       Field(min_length=1, max_length=4)]


class NetworkRequest(StrictModel):
    """A `keras.Sequential` stack: the input's shape and the layers in order."""

    input_shape: InputShape = Field(
        description="Channels last as in `keras.Input(shape=...)`: `[height, width, channels]`"
        " for 2-D layers, `[steps, channels]` for 1-D, `[depth, height, width, channels]` for "
        "3-D, `[units]` for a vector.", examples=[[28, 28, 1]])
    layers: list[Layer] = Field(max_length=MAX_LAYERS, description="The layers, first to "
                                f"last (at most {MAX_LAYERS}); each names its Keras class in "
                                "`type`.")

    model_config = {"json_schema_extra": {"examples": [_EXAMPLE]}}


class NetworkLayerSummary(StrictModel):
    """One row of `model.summary()`, with the arithmetic behind it."""

    type: str = Field(examples=["Conv2D"])
    name: str = Field(description="Keras's automatic name: conv2d, conv2d_1, ...",
                      examples=["conv2d"])
    output_shape: list[int] = Field(description="Without the batch axis: `[H, W, C]` or "
                                    "`[units]`.", examples=[[28, 28, 6]])
    params: int = Field(examples=[456])
    trainable_params: int
    non_trainable_params: int
    formula: str = Field(description="The parameter count with its numbers.",
                         examples=["(5*5*3 + 1) * 6 = 456"])
    macs: int = Field(description="Multiply-adds for one input.", examples=[352800])
    explain: list[str] = Field(description="Output size per axis, numbers substituted; "
                               "empty for layers without a window.")
    note: str = Field(description="What the layer does, in a sentence (English).")


class NetworkResponse(StrictModel):
    """What Keras's `model.summary()` prints, as data."""

    input_shape: list[int]
    layers: list[NetworkLayerSummary]
    total_params: int = Field(examples=[12226])
    trainable_params: int = Field(examples=[12226])
    non_trainable_params: int = Field(examples=[0])
    total_macs: int = Field(description="Multiply-adds for one input, all layers.",
                            examples=[365370])


THUMB_SIDE = 96  # a thumbnail 44 CSS px tall (60 on the projector) has 88 pixels on a 2x screen


class RenderSpec(StrictModel):
    """Feature maps drawn as one PNG grid per layer (a data URL), for pages and thumbnails."""

    mode: Literal["stretch", "abs", "signed", "clip"] = Field(
        default="stretch", description="As `display.mode` of /api/conv/render; each layer's "
        "maps share one range.")
    max_maps: int = Field(default=64, ge=1, le=1024, description="Draw at most this many "
                          "channels of a layer (the first ones); they set the layer's scale.")
    max_side: int | None = Field(
        default=THUMB_SIDE, ge=1, le=MAX_SIDE, description="Shrink every map whose longer side "
        "is larger than this by the smallest whole factor `f` that brings it within: a tile "
        "pixel is the mean of the `f` x `f` output cells it covers (fewer on the last row and "
        "column; of their magnitudes in `abs` mode), drawn on the full map's scale; "
        "`grid.factor` is `f`. `null`: full size. "
        f"Default {THUMB_SIDE}: thumbnails stay sharp on a 2x screen.")
    layers: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=MAX_LAYERS, description="Draw only these layers (by name); "
        "null: every layer whose output is maps (2-D or 1-D, with channels).")
    channel: int | None = Field(
        default=None, ge=0, le=MAX_WIDTH, description="Draw only this channel of each layer "
        "drawn (one tile: a map opened large, with `max_side: null`), on the scale of the "
        "layer's whole grid, so that its colours are its thumbnail's. Every layer drawn must "
        "have it.")


class NetworkRunRequest(StrictModel):
    """A stack (or an uploaded model), an input, weights: every layer's output."""

    input_shape: InputShape | None = Field(
        default=None, description="As in /api/network. With `image_id` it may be left out: "
        "the photo's own `[height, width, 3]` (or `1` with `color` gray); given, the photo is "
        "resized to its height and width (and made grey for one channel).")
    layers: list[Layer] | None = Field(default=None, max_length=MAX_LAYERS,
                                       description="As in /api/network; or `model_id`.")
    model_id: str | None = Field(default=None, max_length=64, description="An uploaded model "
                                 "(`POST /api/models`) instead of `input_shape` and `layers`; "
                                 "its own weights are used.")
    input: list[Any] | None = Field(default=None, description="One input in Keras's order "
                                    "(`[H, W, C]`, or `[H, W]` for one channel), nested lists.")
    image_id: str | None = Field(default=None, max_length=64, description="A stored photo "
                                 "instead of `input`: pixel values 0..255 (times `pixel_scale`)")
    color: Literal["rgb", "gray"] | None = Field(default=None, description="With `image_id` "
                                                 "and no `input_shape`: the channels.")
    max_side: int | None = Field(default=None, ge=1, le=16384, description="With `image_id` "
                                 "and no `input_shape`: downscale the photo first.")
    pixel_scale: float = Field(default=1.0, gt=0.0, le=1.0, description="Multiplies the "
                               "photo's pixel values (1/255 for models trained on 0..1).")
    weights: dict[str, list[Any]] | None = Field(
        default=None, description="`{layer name: [array, ...]}` in Keras's order and layouts "
        "(Conv2D: kernel `[kh, kw, C_in, filters]`, then bias; Dense: `[in, units]`, then "
        "bias). Layers not named here start from `seed`.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Glorot-uniform kernels and "
                      "zero biases from this seed, as Keras initializes; also Dropout's masks.")
    training: bool = Field(default=False, description="Run Dropout in training mode (masks "
                           "returned).")
    outputs: list[str] | None = Field(default=None, max_length=MAX_LAYERS, description="The "
                                      "layers whose numbers to return; null: all (while the "
                                      "answer stays within the JSON limit).")
    render: RenderSpec | None = Field(default=None, description="Also draw each layer's maps "
                                      "as a PNG grid (`png`, a data URL, with `grid`).")
    return_weights: bool | Annotated[list[str], Field(max_length=MAX_LAYERS)] = Field(
        default=False, description="Also answer layers' weights "
        "(`weights`, Keras's layouts): `true` for every layer, or a list of layer names; while "
        "the answer stays within the JSON limit (outputs are counted first). Seeded weights are "
        "otherwise known only to the server.")
    return_input: bool = Field(default=False, description="Also answer the input as the stack "
                               "received it (`input`, Keras's order): a photo after resizing, "
                               "colour conversion and `pixel_scale`.")


class NetworkRunGrid(StrictModel):
    """Where a layer's maps are in its PNG: `rows` x `columns` tiles, `gap` white pixels
    between them, filled row by row from channel `first`."""

    count: int = Field(description="Tiles: channels drawn.")
    rows: int
    columns: int
    height: int = Field(description="Tile height in pixels.")
    width: int = Field(description="Tile width in pixels.")
    gap: int
    factor: int = Field(description="Each tile pixel is the mean of `factor` x `factor` output "
                        "cells (fewer on the last row and column); 1: one pixel per cell.")
    first: int = Field(description="The channel of the first tile: `render.channel`, else 0.")
    range: list[float] = Field(description="The values at the ends of the picture's scale "
                               "(black and white; for `signed` the two ends of the diverging "
                               "map), shared by the layer's maps.")


class NetworkRunLayer(StrictModel):
    """One layer's result for the input."""

    name: str
    type: str
    output_shape: list[int]
    params: int
    macs: int
    output: list[Any] | None = Field(description="Keras's order; null when not asked for or "
                                     "beyond the JSON limit (`?format=npz` has every layer).")
    range: list[float] = Field(description="`[min, max]` of the output.")
    mask: list[Any] | None = Field(default=None, description="Dropout in training: true = kept.")
    png: str | None = Field(default=None, description="With `render`: the maps as a PNG data "
                            "URL.")
    grid: NetworkRunGrid | None = Field(default=None, description="With `render`: where the "
                                        "maps are in the PNG.")
    weights: list[Any] | None = Field(default=None, description="With `return_weights`: the "
                                      "layer's arrays in Keras's order and layouts (`[]` for a "
                                      "layer without weights; null beyond the JSON limit).")


class NetworkRunResponse(StrictModel):
    """Every layer's output for one input."""

    input_shape: list[int]
    input_source: dict[str, Any] = Field(description="Where the input came from and how it "
                                         "was converted (photo size, resize, colour).")
    input: list[Any] | None = Field(default=None, description="With `return_input`: the input "
                                    "in Keras's order (null beyond the JSON limit).")
    layers: list[NetworkRunLayer]
    total_params: int
    total_macs: int
    elapsed_ms: float = Field(description="Time of the forward pass alone.")


class ModelLayerSummary(NetworkLayerSummary):
    """A layer of an uploaded model: the summary row, its own name, and its arguments."""

    config: dict[str, Any] = Field(description="The layer's Keras arguments, as read from "
                                   "the file.")


class ModelResponse(StrictModel):
    """An uploaded model: its id (for `model_id`), the file's format, its summary."""

    id: str = Field(description="Content address of the file: the same bytes, the same id.")
    format: Literal["keras", "h5"]
    keras_version: str | None
    input_shape: list[int]
    layers: list[ModelLayerSummary]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_macs: int
