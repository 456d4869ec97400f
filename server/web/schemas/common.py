"""Schema parts shared by several endpoints: where the input comes from, activation, display."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NestedNumbers = list[Any]
IntOrPerAxis = int | list[int]
# a padding word is short; a bound keeps a megabyte of text out of the error message
Padding = int | Annotated[str, Field(max_length=16)] | list[int | list[int]]

PADDING_DESCRIPTION = (
    'An int >= 0 (every side), one int per spatial axis, one `[before, after]` pair per axis, '
    'or `"valid"` (none), `"same"` (TensorFlow/Keras: `out = ceil(n / stride)`, the odd pixel '
    'after) or `"full"` (`dilation * (k - 1)` on both sides).'
)

POOL_PADDING_DESCRIPTION = (
    'Implicit padding, in the same forms as convolution: an int >= 0, one int per spatial axis, '
    'one `[before, after]` pair per axis, or `"valid"`, `"same"`, `"full"`. Each side at most '
    "half the window, as in PyTorch (max pads with -inf, avg with zeros)."
)


class StrictModel(BaseModel):
    """Unknown fields are errors (a typo must not be silently ignored); no NaN/Infinity.

    Strict types: `true` is not a stride and `"2"` is not a bias. Lax validation would read
    them as 1 and 2.0 and answer 200 for a request that almost certainly has a bug.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class InputSource(StrictModel):
    """Exactly one of `input` (numbers inline) or `image_id` (a stored photo)."""

    input: NestedNumbers | None = Field(
        default=None,
        description="The input array as nested lists of finite numbers, channel-first: "
        "`(C, *S)` with 1 to 3 spatial axes, or just `(*S)` (see `kernel`). "
        "Give this or `image_id`, not both.",
        examples=[[[1, 2, 0], [0, 1, 3], [2, 2, 1]]],
    )
    image_id: str | None = Field(
        default=None, max_length=64,
        description="Id of an uploaded image (`POST /api/images`) or of a sample "
        "(`GET /api/samples`). Pixel values 0..255 become the input: `(3, H, W)` for "
        '`color: "rgb"`, `(H, W)` for `"gray"`.',
        examples=["3f2a9c0d1e7b64a5c8f0"],
    )
    color: Literal["rgb", "gray"] = Field(
        default="rgb",
        description='With `image_id` only: `"rgb"` gives channels R, G, B; `"gray"` is '
        'Pillow\'s `convert("L")` with no channel axis. Set next to an inline `input` it is a '
        "422 (an inline input is used as given).",
    )
    max_side: int | None = Field(
        default=None, ge=1, le=16384,
        description="With `image_id` only: downscale the photo first so its longer side is at "
        "most this many pixels (keeps big photos interactive). Never enlarges. Set next to an "
        "inline `input` it is a 422 (an inline input is used as given).",
        examples=[256],
    )


class FramePage(StrictModel):
    """Which frames one answer holds: a page (`offset`, `limit`) or chosen output cells."""

    offset: int = Field(default=0, ge=0, description="First frame index (filter-major, then "
                        "output positions row-major).")
    limit: int = Field(default=100, ge=1, description="Frames in this page (capped by "
                       "`SVERTKA_MAX_FRAMES_PER_PAGE`).")
    positions: list[list[int] | int] | None = Field(
        default=None, description="Instead of offset/limit: these output coordinates (one int "
        "per spatial axis each), for every filter (or `filters`).", examples=[[[0, 0], [1, 2]]],
    )
    filters: list[int] | None = Field(default=None, description="With `positions`: only "
                                      "these filters.")


class ActivationSpec(StrictModel):
    """An activation with its parameters."""

    name: Literal["relu", "leaky_relu", "sigmoid", "tanh", "identity"] = Field(
        description="Activation applied after the bias."
    )
    negative_slope: float | None = Field(
        default=None, description="Slope for negative inputs of `leaky_relu` (default 0.01)."
    )


ActivationName = Literal["relu", "leaky_relu", "sigmoid", "tanh", "identity"]


class PoolSpec(StrictModel):
    """Pooling applied to the convolution's output after the activation."""

    mode: Literal["max", "avg"] = Field(description="Max or average pooling.")
    kernel_size: IntOrPerAxis = Field(description="Window size, an int or one per axis.",
                                      examples=[2])
    stride: IntOrPerAxis | None = Field(default=None,
                                        description="Step; default: `kernel_size`.")
    padding: Padding = Field(default=0, description=POOL_PADDING_DESCRIPTION)
    dilation: IntOrPerAxis = Field(default=1, description="Spacing of taps (max only).")
    ceil_mode: bool = Field(default=False, description="Round the output size up, keeping a "
                            "last partial window.")
    count_include_pad: bool = Field(default=True, description="avg: count padded zeros in "
                                    "the divisor.")


class DisplaySpec(StrictModel):
    """How values become pixels in a rendered PNG."""

    mode: Literal["clip", "stretch", "abs", "signed"] = Field(
        default="stretch",
        description='`"clip"`: values are intensities, clipped to 0..255. `"stretch"`: min-max '
        'to black..white. `"abs"`: |x| from 0 (black) to max|x| (white). `"signed"`: a '
        "colour-blind-safe diverging map (purple negative, white zero, orange positive) over "
        "the symmetric range +-max|x|. The range used is in the `X-Svertka-Range` header.",
    )
    layout: Literal["auto", "grid", "single", "rgb"] = Field(
        default="auto",
        description='`"single"`: map `filter` only. `"grid"`: every map in a grid (shared '
        'range; geometry in `X-Svertka-Grid`). `"rgb"`: exactly three maps read as red, '
        'green, blue. `"auto"`: single for one map, rgb for three maps (unless signed), grid '
        "otherwise.",
    )
    filter: int = Field(default=0, ge=0, description="The map drawn by `single` and by "
                        "`per_channel`.")
    per_channel: bool = Field(
        default=False,
        description="Draw filter `filter`'s partial sum over each input channel of its "
        "group (before bias), then the total (bias and activation included), as a grid: for "
        "an RGB photo the R, G and B contributions and their sum.",
    )


def activation_parts(activation: ActivationName | ActivationSpec | None,
                     ) -> tuple[str | None, dict[str, float]]:
    """``(name, params)`` from either form of `activation`."""
    if activation is None:
        return None, {}
    if isinstance(activation, str):
        return activation, {}
    params = {} if activation.negative_slope is None else {
        "negative_slope": activation.negative_slope}
    return activation.name, params
