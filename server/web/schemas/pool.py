"""Schemas of /api/pool and /api/pool/render."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import (
    POOL_PADDING_DESCRIPTION,
    DisplaySpec,
    InputSource,
    IntOrPerAxis,
    Padding,
    StrictModel,
)


class PoolRequest(InputSource):
    """Max or average pooling, as `torch.nn.functional.max_poolNd` / `avg_poolNd`."""

    mode: Literal["max", "avg"] = Field(description="Max or average pooling.")
    kernel_size: IntOrPerAxis | None = Field(
        default=None, description="Window size, an int or one per spatial axis (required "
        "unless `global_pool`).", examples=[2])
    stride: IntOrPerAxis | None = Field(default=None, description="Step; default: "
                                        "`kernel_size`.")
    padding: Padding = Field(default=0, description=POOL_PADDING_DESCRIPTION,
                             examples=[0, "same"])
    dilation: IntOrPerAxis = Field(default=1, description="Spacing between taps (max).")
    ceil_mode: bool = Field(default=False, description="Round the output size up: a last "
                            "partial window is kept if it starts inside the input.")
    count_include_pad: bool = Field(default=True, description="avg: divide by the whole "
                                    "window including padded zeros (PyTorch's default).")
    global_pool: bool = Field(default=False, description="Pool each channel to one number "
                              "(global max/avg pooling); output `(C,)`.")

    model_config = {"json_schema_extra": {"examples": [
        {"input": [[[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 2], [2, 2, 0, 3]]], "mode": "max",
         "kernel_size": 2},
    ]}}


class PoolRenderRequest(PoolRequest):
    """A pooling result rendered as a PNG."""

    display: DisplaySpec = Field(default_factory=DisplaySpec)


class PoolFramesRequest(PoolRequest):
    """Pooling windows one by one: the taps each output reads and how they reduce."""

    offset: int = Field(default=0, ge=0, description="First frame index (channel-major, then "
                        "output positions row-major).")
    limit: int = Field(default=100, ge=1, description="Frames in this page (capped by "
                       "`SVERTKA_MAX_FRAMES_PER_PAGE`).")
    positions: list[list[int] | int] | None = Field(
        default=None, description="Instead of offset/limit: these output coordinates, for "
        "every channel (or `channels`).", examples=[[[0, 0]]])
    channels: list[int] | None = Field(default=None, description="Only these channels.")


class PoolFramesResponse(StrictModel):
    """A page of pooling frames."""

    total: int = Field(description="`C * prod(O)`: frames in the whole pooling.")
    offset: int
    limit: int = Field(description="The page size actually used (after the cap).")
    next_offset: int | None = Field(description="`offset` of the next page; null at the end.")
    frames: list[dict[str, Any]] = Field(description="`{index, channel, position, origin, "
                                         "window, in_input, counted, winner (max), sum and "
                                         "divisor (avg), value}`; padding taps of max pooling "
                                         "are null (-inf).")
    shape: list[int]
    padding: list[list[int]]
    explain: list[str]


class PoolResponse(StrictModel):
    """The pooled array."""

    shape: list[int] = Field(examples=[[1, 2, 2]])
    output: list[Any] = Field(examples=[[[[4, 2], [2, 5]]]])
    padding: list[list[int]] = Field(description="`[before, after]` per spatial axis.")
    explain: list[str] = Field(description="The output-size formula per axis.")
    input_shape: list[int]
    range: list[float]
    elapsed_ms: float
