"""Schemas of /api/conv_transpose/frames and /api/conv_transpose/animation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import FramePage, StrictModel
from .misc import ConvTransposeRequest

_EXAMPLE = {"input": [[1, 2], [3, 4]], "kernel": [[1, 0, -1], [2, 1, 0], [0, 1, 1]],
            "stride": 2, "padding": 1, "output_padding": 1}


class ConvTransposeFramesRequest(ConvTransposeRequest, FramePage):
    """Frames of a transposed convolution: every output cell with the stamps that reach it."""

    model_config = {"json_schema_extra": {"examples": [{**_EXAMPLE, "offset": 0, "limit": 4}]}}


class TransposeTap(StrictModel):
    """One stamp reaching an output cell: input cell `input` (of `channel`) times weight
    `kernel`."""

    channel: int = Field(description="Input channel (0 without a channel axis).")
    input: list[int] = Field(description="Input coordinates (spatial): `input * stride + "
                             "kernel * dilation - padding` is the output position.")
    kernel: list[int] = Field(description="Kernel coordinates (spatial) of the weight.")
    x: float = Field(description="The input value.")
    w: float = Field(description="The weight `kernel[channel, filter % (F/groups), *kernel]`.")
    product: float = Field(description="`x * w`.")


class TransposeFrame(StrictModel):
    """One output cell of one filter (DESIGN §3)."""

    index: int
    filter: int
    position: list[int] = Field(description="Output coordinates.")
    taps: list[TransposeTap] = Field(description="Every stamp that reaches the cell, by input "
                                     "channel, then input coordinates (row-major).")
    bias: float
    value: float = Field(description="`bias + sum(products)`: the output at `position`.")


class ConvTransposeFramesResponse(StrictModel):
    """A page of transposed-convolution frames."""

    total: int = Field(description="`F * prod(O)`: frames in the whole transposed convolution.")
    offset: int
    limit: int = Field(description="The page size actually used (after the cap).")
    next_offset: int | None = Field(description="`offset` of the next page; null at the end.")
    frames: list[TransposeFrame]
    shape: list[int] = Field(description="Shape of the output (as /api/conv_transpose).")
    padding: list[list[int]] = Field(description="`[before, after]` removed per spatial axis.")
    explain: list[str] = Field(description="`(n - 1)*s - 2p + d*(k - 1) + output_padding + 1` "
                               "per axis, numbers substituted.")
    gather: list[dict[str, int]] = Field(description="The equivalent direct convolution per "
                                         "axis: `upsampled` = `(n - 1)*stride + 1` cells after "
                                         "inserting zeros, padding `before` = `d*(k - 1) - p` "
                                         "and `after` = `before + output_padding` (negative: "
                                         "cropped), then the flipped kernel at stride 1; "
                                         "`size` is the output length.")


class ConvTransposeAnimationRequest(ConvTransposeRequest):
    """A transposed convolution drawn step by step as an animated GIF or WebP."""

    view: Literal["scatter", "gather"] = Field(
        default="scatter", description='`"scatter"`: each input cell stamps the kernel, scaled '
        'by its value, onto the output (one frame per input cell). `"gather"`: the equivalent '
        "direct convolution over the input with zeros inserted and padding, with the flipped "
        "kernel (one frame per output cell).")
    offset: int = Field(default=0, ge=0, description="First frame to draw.")
    limit: int | None = Field(default=None, ge=1, description="Frames to draw (at most 400).")
    format: Literal["gif", "webp"] = Field(default="gif", description="Animated GIF or WebP.")
    fps: float = Field(default=2.0, gt=0, le=30, description="Frames per second.")

    model_config = {"json_schema_extra": {"examples": [
        {**_EXAMPLE, "view": "scatter", "format": "gif"},
        {**_EXAMPLE, "view": "gather", "format": "webp", "fps": 4}]}}
