"""Schemas of /api/conv, /api/conv/render and /api/frames."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import (
    PADDING_DESCRIPTION,
    ActivationName,
    ActivationSpec,
    DisplaySpec,
    FramePage,
    InputSource,
    IntOrPerAxis,
    NestedNumbers,
    Padding,
    PoolSpec,
    StrictModel,
)

_EXAMPLE = {
    "input": [[-3, 1, 1, -3, 3], [-2, -2, -2, -1, -2], [-1, 2, 0, 3, 0], [-2, 2, 2, 3, 3],
              [-3, 0, -2, -2, -2]],
    "kernel": [[2, 2, -2], [-1, 2, -2], [1, 0, 3]],
}
_IMAGE_EXAMPLE = {"image_id": "3f2a9c0d1e7b64a5c8f0", "color": "gray", "max_side": 256,
                  "preset": "sobel_x", "padding": "same", "activation": "relu"}


class ConvParams(StrictModel):
    """The convolution's kernel and parameters (DESIGN §2)."""

    kernel: NestedNumbers | None = Field(
        default=None,
        description="Weights `(F, C/groups, *K)`. Shorthand: with the same number of axes as "
        "the input, neither has a channel axis (one channel, one filter, output `O` with no "
        "axis added); with two axes more than the input, the input is one channel. Give this "
        "or `preset`.",
        examples=[[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]],
    )
    preset: str | None = Field(
        default=None, max_length=64,
        description="A 2D kernel by name (`GET /api/kernels`), e.g. `sobel_x`.",
        examples=["sobel_x"],
    )
    kernel_mode: Literal["per_channel_same", "depthwise"] | None = Field(
        default=None,
        description="How a 2D kernel (or `preset`) meets a multi-channel input `(C, H, W)`: "
        '`"per_channel_same"` makes one filter `(1, C, kh, kw)` whose C slices are the kernel '
        '(channels are summed: one output map); `"depthwise"` makes C filters `(C, 1, kh, kw)` '
        "with `groups = C` (each channel filtered on its own: C maps, e.g. a colour result). "
        'Default: `"per_channel_same"` for an RGB `image_id`; for inline `input` the shape '
        "rules of DESIGN §2 apply unchanged. Ignored when the kernel has its channel axes.",
    )
    bias: float | list[float] | None = Field(
        default=None, description="Added to each filter's sum: one number, or one per filter.",
        examples=[[0.5]],
    )
    stride: IntOrPerAxis = Field(default=1, description="Step of the window, an int >= 1 or one "
                                 "per spatial axis.", examples=[1])
    padding: Padding = Field(
        default=0, description=PADDING_DESCRIPTION, examples=["same"],
    )
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = Field(
        default="zeros",
        description="What the padding holds (PyTorch's meaning): zeros, a mirror without the "
        "edge, the edge repeated, or the opposite side.",
    )
    dilation: IntOrPerAxis = Field(default=1, description="Spacing between kernel taps, >= 1.")
    groups: int = Field(default=1, description="Split channels and filters into this many "
                        "independent groups (`C` for depthwise).")
    flip: bool = Field(default=False, description="Flip the kernel on every spatial axis: "
                       "mathematical convolution instead of cross-correlation.")
    activation: ActivationName | ActivationSpec | None = Field(
        default=None, description='Applied after the bias: a name (`"relu"`) or '
        '`{"name": "leaky_relu", "negative_slope": 0.1}`.', examples=["relu"],
    )


class ConvRequest(InputSource, ConvParams):
    """Convolve an input with a kernel; optionally activate and pool."""

    pool: PoolSpec | None = Field(default=None, description="Pooling after the activation.")

    model_config = {"json_schema_extra": {"examples": [_EXAMPLE, _IMAGE_EXAMPLE]}}


class ConvRenderRequest(ConvRequest):
    """A convolution rendered as a PNG."""

    display: DisplaySpec = Field(default_factory=DisplaySpec,
                                 description="How values become pixels.")

    model_config = {"json_schema_extra": {"examples": [
        {**_IMAGE_EXAMPLE, "display": {"mode": "signed", "layout": "auto"}}]}}


class ConvResponse(StrictModel):
    """The result with everything needed to explain its size."""

    shape: list[int] = Field(description="Shape of `output`: `(F, *O)`, or `O` in shorthand.",
                             examples=[[3, 3]])
    output: list[Any] = Field(description="The result as nested lists (after activation and "
                              "pooling).", examples=[[[-5, 21, -6], [5, -3, 15], [-5, -12, -4]]])
    padding: list[list[int]] = Field(description="Resolved `[before, after]` per spatial axis.",
                                     examples=[[[0, 0], [0, 0]]])
    explain: list[str] = Field(description="The output-size formula per axis, numbers "
                               "substituted.", examples=[[
                                   "axis 0: floor((5 + 0 + 0 - 1*(3-1) - 1) / 1) + 1 = 3"]])
    pool_padding: list[list[int]] | None = Field(default=None, description="Resolved padding "
                                                 "of `pool`, if any.")
    pool_explain: list[str] | None = Field(default=None, description="The same for `pool`.")
    input_shape: list[int] = Field(description="Shape of the input as received (or decoded).")
    kernel_shape: list[int] = Field(description="Shape of the kernel actually applied (after "
                                    "`preset`/`kernel_mode`).")
    groups: int = Field(description="Groups actually used (`C` for depthwise).")
    method: str = Field(description="The algorithm the core chose (direct, im2col, fft, "
                        "winograd4).")
    range: list[float] = Field(description="`[min, max]` of `output`.")
    elapsed_ms: float = Field(description="Server time to compute, in milliseconds.")


class FramesRequest(InputSource, ConvParams, FramePage):
    """Sliding-window frames: every placement of every filter, paged."""

    model_config = {"json_schema_extra": {"examples": [{**_EXAMPLE, "offset": 0, "limit": 2}]}}


class Frame(StrictModel):
    """One placement of one filter's window (DESIGN §3)."""

    index: int
    filter: int
    position: list[int] = Field(description="Output coordinates.")
    origin: list[int] = Field(description="First tap in padded-input coordinates = position * "
                              "stride.")
    patch: list[Any] = Field(description="Input values under the taps, `(C/groups, *K)`.")
    products: list[Any] = Field(description="`patch * kernel`.")
    channel_sums: list[float] = Field(description="Sum of products per input channel.")
    bias: float
    value: float = Field(description="`bias + sum(products)`.")
    output: float = Field(description="`value` after the activation.")


class FramesResponse(StrictModel):
    """A page of frames."""

    total: int = Field(description="`F * prod(O)`: frames in the whole convolution.")
    offset: int
    limit: int = Field(description="The page size actually used (after the cap).")
    next_offset: int | None = Field(description="`offset` of the next page (offset paging); "
                                    "null at the end.")
    frames: list[Frame]
    shape: list[int] = Field(description="Shape of the convolution's output.")
    padding: list[list[int]]
    explain: list[str]
