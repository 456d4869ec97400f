"""Schemas of /api/network: a layer stack in Keras's vocabulary, and its summary.

Argument names and defaults are Keras's own, so a stack copied from a Keras script validates
as it is. The bounds keep every answer an exact integer in a browser (below 2**53).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...nn.summary import ACTIVATION_NAMES
from .common import StrictModel

MAX_LAYERS = 64
MAX_SIDE = 8192      # height, width and channels of the input
MAX_WIDTH = 8192     # filters of a Conv2D
MAX_UNITS = 1 << 20  # units of a Dense
MAX_WINDOW = 1024    # kernel_size, pool_size, strides, dilation_rate

Side = Annotated[int, Field(ge=1, le=MAX_WINDOW)]
Pair = Side | Annotated[list[Side], Field(min_length=2, max_length=2)]
PAIR_TEXT = "an int, or a pair `[height, width]`"
KerasPadding = Literal["valid", "same"]
KerasActivation = Literal[ACTIVATION_NAMES]  # type: ignore[valid-type]
PADDING_TEXT = ('`"valid"` (no padding: the map shrinks) or `"same"` (zeros around so that the '
                "output is `ceil(n / strides)`)")


class Conv2DLayer(StrictModel):
    """`keras.layers.Conv2D`: `filters` kernels of `kernel_size` x input channels."""

    type: Literal["Conv2D"]
    filters: int = Field(ge=1, le=MAX_WIDTH, description="Number of filters = output channels.",
                         examples=[6])
    kernel_size: Pair = Field(description=f"Window size: {PAIR_TEXT}.", examples=[5])
    strides: Pair = Field(default=1, description=f"Step of the window: {PAIR_TEXT}.")
    padding: KerasPadding = Field(default="valid", description=PADDING_TEXT)
    dilation_rate: Pair = Field(default=1, description=f"Spacing of the taps: {PAIR_TEXT}; "
                                "Keras refuses dilation_rate > 1 together with strides > 1.")
    activation: KerasActivation | None = Field(default=None, description="Applied after the "
                                               "bias; null is linear (none).")
    use_bias: bool = Field(default=True, description="One bias per filter.")


class MaxPooling2DLayer(StrictModel):
    """`keras.layers.MaxPooling2D`: the largest value of each window, channel by channel."""

    type: Literal["MaxPooling2D"]
    pool_size: Pair = Field(default=2, description=f"Window size: {PAIR_TEXT}.")
    strides: Pair | None = Field(default=None, description="Step; null: `pool_size`.")
    padding: KerasPadding = Field(default="valid", description=PADDING_TEXT)


class AveragePooling2DLayer(MaxPooling2DLayer):
    """`keras.layers.AveragePooling2D`: the mean of each window, channel by channel."""

    type: Literal["AveragePooling2D"]  # type: ignore[assignment]


class GlobalMaxPooling2DLayer(StrictModel):
    """`keras.layers.GlobalMaxPooling2D`: `[H, W, C]` to `[C]`, the largest value per map."""

    type: Literal["GlobalMaxPooling2D"]


class GlobalAveragePooling2DLayer(StrictModel):
    """`keras.layers.GlobalAveragePooling2D`: `[H, W, C]` to `[C]`, the mean per map."""

    type: Literal["GlobalAveragePooling2D"]


class BatchNormalizationLayer(StrictModel):
    """`keras.layers.BatchNormalization` over the last axis: 4 numbers per channel, 2 learned."""

    type: Literal["BatchNormalization"]
    center: bool = Field(default=True, description="Learn an offset `beta` per channel.")
    scale: bool = Field(default=True, description="Learn a factor `gamma` per channel.")


class ActivationLayer(StrictModel):
    """`keras.layers.Activation`: a function applied to every value."""

    type: Literal["Activation"]
    activation: KerasActivation = Field(description="The function's Keras name.",
                                        examples=["relu"])


class DropoutLayer(StrictModel):
    """`keras.layers.Dropout`: zeroes values at random while training."""

    type: Literal["Dropout"]
    rate: float = Field(ge=0.0, lt=1.0, description="Probability of dropping each value.",
                        examples=[0.5])


class FlattenLayer(StrictModel):
    """`keras.layers.Flatten`: every value in one vector."""

    type: Literal["Flatten"]


class DenseLayer(StrictModel):
    """`keras.layers.Dense`: every input joined to every unit (on the last axis, as in Keras)."""

    type: Literal["Dense"]
    units: int = Field(ge=1, le=MAX_UNITS, description="Number of outputs.", examples=[10])
    activation: KerasActivation | None = Field(default=None, description="Null is linear.")
    use_bias: bool = Field(default=True, description="One bias per unit.")


Layer = Annotated[
    Conv2DLayer | MaxPooling2DLayer | AveragePooling2DLayer | GlobalMaxPooling2DLayer
    | GlobalAveragePooling2DLayer | BatchNormalizationLayer | ActivationLayer | DropoutLayer
    | FlattenLayer | DenseLayer,
    Field(discriminator="type"),
]

_EXAMPLE = {"input_shape": [32, 32, 3], "layers": [
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "strides": 1, "padding": "valid",
     "activation": "relu", "use_bias": True},
    {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10},
]}


class NetworkRequest(StrictModel):
    """A `keras.Sequential` stack: the input's shape and the layers in order."""

    input_shape: Annotated[list[Annotated[int, Field(ge=1, le=MAX_SIDE)]],
                           Field(min_length=3, max_length=3)] = Field(
        description="`[height, width, channels]`, channels last as in `keras.Input(shape=...)`.",
        examples=[[28, 28, 1]])
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
    explain: list[str] = Field(description="Output size per axis (H, W), numbers substituted; "
                               "empty for layers without a window.")
    note: str = Field(description="What the layer does, in a sentence (English).")


class NetworkResponse(StrictModel):
    """What Keras's `model.summary()` prints, as data."""

    input_shape: list[int]
    layers: list[NetworkLayerSummary]
    total_params: int = Field(examples=[12226])
    trainable_params: int = Field(examples=[12226])
    non_trainable_params: int = Field(examples=[0])
