"""Schemas of the digits endpoints: predict, train (streamed), learn a kernel (streamed)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import StrictModel


class DigitsPredictRequest(StrictModel):
    """An 8x8 UCI grid or a drawing; optionally the weights of a training run."""

    pixels: list[list[float]] | None = Field(
        default=None, description="8x8 grid of 0..16 (the UCI / scikit-learn digits format).",
        examples=[[[0] * 8] * 8])
    drawing: list[list[float]] | None = Field(
        default=None, description="A larger grid (8 to 512 per side) of ink 0..1; reduced the "
        "UCI way: the ink's bounding box scaled to 32 rows and at most 20 columns, centred in "
        "32x32, the strokes thickened or thinned until about 310 of the 1024 pixels are ink (the "
        "median UCI digit's ink), ink counted per 4x4 block.")
    weights: dict[str, list[Any]] | None = Field(
        default=None, description="Weights of a run of POST /api/digits/train (Keras's "
        "layouts, by layer name) instead of the shipped ones.")


class DigitsPrediction(StrictModel):
    """The predicted digit, the ten probabilities, and every layer."""

    label: int
    probabilities: list[float]
    pixels: list[list[float]]
    reduction: dict[str, Any] | None = Field(description="For a drawing: `box` [top, left, "
                                             "bottom, right], `scaled` 32x32, `pixels` 8x8.")
    layers: list[dict[str, Any]]


class DigitsTrainRequest(StrictModel):
    """A training run from scratch, streamed as Server-Sent Events."""

    epochs: int = Field(default=8, ge=1, le=30)
    optimizer: Literal["adam", "sgd"] = "adam"
    learning_rate: float | None = Field(default=None, gt=0.0, le=1.0, description="Default: "
                                        "0.01 for Adam, 0.05 for SGD (momentum 0.9).")
    batch_size: int = Field(default=32, ge=8, le=256)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    client: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                        description="An id the page makes once per tab: one run at a time each.")


class LearnKernelRequest(StrictModel):
    """Recover a hidden kernel by gradient descent, streamed as Server-Sent Events."""

    image_id: str | None = Field(default=None, max_length=64, description="Default: a sample.")
    target: str | list[list[float]] = Field(default="sobel_x", description="A 3x3 preset name "
                                            "from GET /api/kernels, or a 3x3 grid.")
    steps: int = Field(default=150, ge=1, le=500)
    max_side: int = Field(default=64, ge=16, le=256)
