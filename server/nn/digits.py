"""The handwritten digits: UCI's 8x8 data (scikit-learn's bundled copy), a fixed split, the
small convolutional network trained on it, and the reduction of a drawing to the UCI format.

The shipped weights (``data/digits.npz``) come from `train` with `SEED`; `python -m
server.nn.train_digits` makes them again, identically. Nothing is trained at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

from ..core.errors import ShapeError
from .model import Sequential

__all__ = ["STACK", "Digits", "Reduction", "bundled_model", "load", "new_model",
           "reduce_drawing"]

SEED = 2026
TEST_FRACTION = 0.25
PIXEL_SCALE = 1 / 16  # the network sees 0..1; UCI counts are 0..16
INPUT_SHAPE = (8, 8, 1)
STACK: list[dict[str, Any]] = [
    {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same",
     "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
WEIGHTS_FILE = "digits.npz"


@dataclass(frozen=True)
class Digits:
    """The split: pixel counts 0..16 as ``(N, 8, 8)`` float32 and labels 0..9."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    def inputs(self, part: str) -> np.ndarray:
        """The network's inputs for ``"train"`` or ``"test"``: ``(N, 8, 8, 1)`` in 0..1."""
        x = self.train_x if part == "train" else self.test_x
        return (x * PIXEL_SCALE)[..., None].astype(np.float32)


@cache
def load() -> Digits:
    """UCI's 1797 digits split in a fixed, stratified way: a quarter of each class for testing.

    The split is ours (a seeded permutation per class), so it needs nothing but the data.
    """
    from sklearn.datasets import load_digits  # the data file ships inside scikit-learn

    data = load_digits()
    images = data.images.astype(np.float32)
    labels = data.target.astype(np.int64)
    rng = np.random.default_rng(SEED)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test[members[: round(len(members) * TEST_FRACTION)]] = True
    return Digits(images[~test], labels[~test], images[test], labels[test])


def new_model() -> Sequential:
    """The digit network, without weights."""
    return Sequential(INPUT_SHAPE, STACK)


@cache
def _bundled() -> tuple[dict[str, list[np.ndarray]], dict[str, Any]]:
    raw = resources.files("server.nn").joinpath("data", WEIGHTS_FILE).read_bytes()
    import io

    with np.load(io.BytesIO(raw)) as arrays:
        weights: dict[str, list[np.ndarray]] = {}
        facts: dict[str, Any] = {}
        for key in arrays.files:
            if key.startswith("meta/"):
                facts[key[5:]] = arrays[key].item()
            else:
                name, index = key.rsplit("/", 1)
                weights.setdefault(name, []).insert(int(index), arrays[key])
    return weights, facts


def bundled_model() -> tuple[Sequential, dict[str, Any]]:
    """The shipped, trained network and the facts of its training (seed, test accuracy...)."""
    weights, facts = _bundled()
    model = new_model()
    model.set_weights(weights)
    return model, dict(facts)


@dataclass(frozen=True)
class Reduction:
    """How a drawing became UCI pixels: the ink's box, the 32x32 bitmap, the 8x8 counts."""

    box: tuple[int, int, int, int]  # top, left, bottom, right (exclusive) in the drawing
    scaled: np.ndarray  # (32, 32) of 0/1
    pixels: np.ndarray  # (8, 8) of 0..16


def reduce_drawing(drawing: np.ndarray, *, field: str = "drawing") -> Reduction:
    """A drawing's ink (0..1) read the UCI way: the ink's bounding box fitted into 32x32
    (aspect kept, centred), thresholded at 1/2, then the ink pixels counted per 4x4 block.

    >>> d = np.zeros((64, 64)); d[8:56, 30:34] = 1.0   # a one: a tall stroke
    >>> r = reduce_drawing(d)
    >>> r.box, int(r.pixels.max()), r.pixels.sum(axis=0).nonzero()[0].tolist()
    ((8, 30, 56, 34), 8, [3, 4])
    """
    ink = np.asarray(drawing, dtype=np.float32)
    rows, cols = np.nonzero(ink >= 0.5)
    if rows.size == 0:
        raise ShapeError(f"`{field}` holds no ink: nothing is drawn (no value reaches 0.5)",
                         param=field, accepted="a drawing with ink values near 1 on strokes")
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    crop = ink[top:bottom, left:right]
    height, width = crop.shape
    scale = 32 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # an area average: a thin stroke drawn on a big canvas keeps its ink when shrunk
    fitted = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BOX))
    bitmap = np.zeros((32, 32), dtype=np.float32)
    y0, x0 = (32 - size[1]) // 2, (32 - size[0]) // 2
    bitmap[y0:y0 + size[1], x0:x0 + size[0]] = fitted >= 0.5
    pixels = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return Reduction((int(top), int(left), int(bottom), int(right)), bitmap, pixels)
