"""Schemas of the small endpoints: health, images, samples, kernels, transpose, dropout."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .common import InputSource, IntOrPerAxis, NestedNumbers, StrictModel


class HealthResponse(BaseModel):
    status: str = Field(examples=["ok"])
    version: str = Field(examples=["0.1.0"])


class ImageResponse(BaseModel):
    """A stored image."""

    id: str = Field(description="Content address: the start of the SHA-256 of the bytes, so "
                    "the same file always gets the same id.", examples=["3f2a9c0d1e7b64a5c8f0"])
    width: int = Field(description="Width after EXIF orientation.", examples=[640])
    height: int = Field(description="Height after EXIF orientation.", examples=[480])
    mode: str = Field(description='Decoded mode: "RGB" or "L" (alpha composited on white).',
                      examples=["RGB"])
    source_mode: str = Field(description="Pillow's mode of the file (RGBA, P, I;16, ...).",
                             examples=["RGBA"])
    format: str = Field(description="Pillow's format name.", examples=["PNG"])
    bytes: int = Field(description="Size of the uploaded file.", examples=[123456])
    url: str = Field(description="Where the original is served.")
    preview_url: str = Field(description="A PNG preview (`?max_side=`).")


class SampleResponse(BaseModel):
    """A sample photo shipped with the app (already in the image store)."""

    name: str = Field(examples=["chelsea"])
    id: str = Field(description="Use as `image_id`.")
    title_en: str
    title_ru: str
    width: int
    height: int
    license: str = Field(examples=["CC0"])
    credit: str
    url: str


class KernelResponse(BaseModel):
    """A kernel preset."""

    name: str = Field(examples=["sobel_x"])
    kernel: list[list[float]]
    title: str
    title_ru: str
    description: str
    description_ru: str


class ConvTransposeRequest(InputSource):
    """Transposed convolution, as `torch.nn.functional.conv_transposeNd`."""

    kernel: NestedNumbers = Field(description="Weights `(C, F/groups, *K)`; the same shorthand "
                                  "rules as /api/conv.", examples=[[[1, 0], [0, 1]]])
    bias: float | list[float] | None = Field(default=None, description="One number or one "
                                             "per output channel.")
    stride: IntOrPerAxis = Field(default=1, description="Upsampling factor, >= 1.")
    padding: IntOrPerAxis = Field(default=0, description="Removed from both sides of the "
                                  "output: `dilation * (k - 1) - padding` zero padding.")
    output_padding: IntOrPerAxis = Field(default=0, description="Extra size added on one side "
                                         "(smaller than stride or dilation).")
    dilation: IntOrPerAxis = Field(default=1, description="Spacing of kernel taps.")
    groups: int = Field(default=1, description="Channel groups.")

    model_config = {"json_schema_extra": {"examples": [
        {"input": [[1, 2], [3, 4]], "kernel": [[1, 1], [1, 1]], "stride": 2}]}}


class ConvTransposeResponse(StrictModel):
    shape: list[int]
    output: list[Any]
    padding: list[list[int]] = Field(description="`[before, after]` removed per spatial axis.")
    explain: list[str] = Field(description="`(n - 1)*s - 2p + d*(k - 1) + output_padding + 1` "
                               "per axis, numbers substituted.")
    input_shape: list[int]
    kernel_shape: list[int]
    range: list[float]
    elapsed_ms: float


class DropoutRequest(InputSource):
    """Inverted dropout with a seeded mask."""

    p: float = Field(ge=0.0, lt=1.0, description="Probability of dropping each element.",
                     examples=[0.5])
    seed: int = Field(default=0, ge=0, description="Seed of the mask: same seed, same mask.")
    training: bool = Field(default=True, description="False: identity (evaluation mode).")

    model_config = {"json_schema_extra": {"examples": [
        {"input": [[1, 2, 3], [4, 5, 6]], "p": 0.5, "seed": 42}]}}


class DropoutResponse(StrictModel):
    shape: list[int]
    output: list[Any] = Field(description="`x * mask / (1 - p)` when training.")
    mask: list[Any] = Field(description="Kept elements (true) as nested booleans.")
    kept: int = Field(description="How many elements were kept.")
    p: float
    seed: int
    training: bool
