"""Schemas of /api/conv/matrix: a convolution written out as a fully connected layer's matrix."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import PADDING_DESCRIPTION, NestedNumbers, Padding, StrictModel

MAX_SIDE = 8192
MAX_WINDOW = 1024
"""Largest kernel size, stride, dilation and padding (per side) on an axis."""
Small = Annotated[int, Field(le=MAX_WINDOW)]  # >= 1 (or 0) is the core's check, with its words
IntOrPerAxis = Small | Annotated[list[Small], Field(max_length=3)]
MAX_MATRIX_ENTRIES = 1 << 20
"""Most entries (rows x columns) of a matrix that is answered: beyond it only the counts."""

_EXAMPLES = [
    {"input_shape": [3, 3], "kernel": [[1, 2], [3, 4]]},
    {"input_shape": [5, 5], "kernel_size": 3},
    {"input_shape": [224, 224], "channels": 3, "filters": 32, "kernel_size": 3,
     "padding": "same"},
]


class ConvMatrixRequest(StrictModel):
    """A convolution's geometry: the input's spatial sizes, a kernel (or only its size)."""

    input_shape: list[Annotated[int, Field(ge=1, le=MAX_SIDE)]] = Field(
        min_length=1, max_length=3, description="The spatial sizes of the input, `[H, W]` (1 to "
        "3 axes), without the channels: they come from `kernel` or `channels`.",
        examples=[[3, 3]])
    kernel: NestedNumbers | None = Field(
        default=None, description="The kernel as nested lists: `(F, C/groups, *K)`, or `(*K)` "
        "for one channel and one filter. Its values fill `matrix`. Give this or `kernel_size`.")
    kernel_size: IntOrPerAxis | None = Field(
        default=None, description="Only the kernel's size (an int, or one per axis), with "
        "`channels` and `filters`: the answer then has `index` (which weight each entry is) "
        "but no values.")
    channels: int | None = Field(default=None, ge=1, le=MAX_SIDE, description="Input channels "
                                 "with `kernel_size` (default 1); with `kernel` it follows from "
                                 "the kernel's shape and `groups`.")
    filters: int | None = Field(default=None, ge=1, le=MAX_SIDE, description="Filters with "
                                "`kernel_size` (default 1).")
    stride: IntOrPerAxis = Field(default=1, description="Step of the window, >= 1.")
    padding: Padding = Field(default=0, description=PADDING_DESCRIPTION + " Zeros only: the "
                             "padding is folded into the matrix (a tap on it has no column).")
    dilation: IntOrPerAxis = Field(default=1, description="Spacing of the taps, >= 1.")
    groups: int = Field(default=1, ge=1, le=MAX_SIDE, description="Channel groups.")
    include: Literal["auto", "always", "counts"] = Field(
        default="auto", description=f'`"auto"`: the matrix while it has at most '
        f'{MAX_MATRIX_ENTRIES} entries, else `null` with `limit` saying why (the counts always). '
        '`"always"`: a 422 `limit` instead of `null`. `"counts"`: the counts only.')

    model_config = {"json_schema_extra": {"examples": _EXAMPLES}}


class MatrixCountsModel(StrictModel):
    """The lesson's comparison of a fully connected layer with the convolution."""

    inputs: int = Field(description="Input values `C * prod(S)`: the columns.", examples=[9])
    outputs: int = Field(description="Output values `F * prod(O)`: the rows.", examples=[4])
    fully_connected: int = Field(description="`outputs * inputs`: the weights of a fully "
                                 "connected layer (every input to every output).",
                                 examples=[36])
    connections: int = Field(description="Entries that are a kernel weight: the sparse "
                             "connections the convolution keeps (taps on padding excluded).",
                             examples=[16])
    shared_weights: int = Field(description="The kernel's distinct weights `F * C/groups * "
                                "prod(K)` that the connections share (biases not included).",
                                examples=[4])


class MatrixLimit(StrictModel):
    """Why `matrix` and `index` are null."""

    message: str
    accepted: str


class ConvMatrixResponse(StrictModel):
    """The dense matrix (while small), which weight each entry is, and the counts."""

    input_shape: list[int] = Field(description="`[C, *S]`.")
    kernel_shape: list[int] = Field(description="`[F, C/groups, *K]`.")
    output_shape: list[int] = Field(description="`[F, *O]`.")
    padding: list[list[int]] = Field(description="`[before, after]` per axis, folded in.")
    rows: int = Field(description="Output values, filter-major then row-major.")
    columns: int = Field(description="Input values, channel-major then row-major.")
    counts: MatrixCountsModel
    index: list[list[int]] | None = Field(description="Per entry, the flat (row-major) index of "
                                          "its weight in the kernel `[F, C/groups, *K]`; -1 for "
                                          "a structural zero. Null beyond the size limit.")
    matrix: list[list[float]] | None = Field(description="The entries' values (with an inline "
                                             "`kernel`): `matrix @ x.ravel()` is the "
                                             "convolution. Null without a kernel or beyond the "
                                             "size limit.")
    limit: MatrixLimit | None = Field(description="Set when the matrix is left out for its "
                                      "size.")
