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


# How UCI's 32x32 bitmaps look (measured on scikit-learn's copy, see `reduce_drawing`): every
# digit fills the 32 rows, none is wider than about 20 columns, and every digit, whatever its
# class, has about the same amount of ink.
UCI_SIDE = 32
UCI_MAX_WIDTH = 20  # a wider box is narrowed to this: UCI digits span 6 of the 8 columns of blocks
UCI_INK = 310  # inked pixels of 1024: the median of the UCI digits (a quarter to 0.4 of the box)
_FINE = 4  # the pen is fitted on a grid 4 times finer than 32x32


@dataclass(frozen=True)
class Reduction:
    """How a drawing became UCI pixels: the ink's box, the 32x32 bitmap, the 8x8 counts."""

    box: tuple[int, int, int, int]  # top, left, bottom, right (exclusive) in the drawing
    scaled: np.ndarray  # (32, 32) of 0/1
    pixels: np.ndarray  # (8, 8) of 0..16


def reduce_drawing(drawing: np.ndarray, *, field: str = "drawing") -> Reduction:
    """A drawing's ink (0..1) read the UCI way: the ink's bounding box fitted into 32x32, the
    strokes redrawn with the pen the UCI digits have, then the ink pixels counted per 4x4 block.

    The steps, each matching what the UCI bitmaps show (``load_digits``):

    1. The bounding box of the ink (values >= 1/2) is scaled to 32 rows, its width by the same
       factor but to at most `UCI_MAX_WIDTH` columns, and centred. (Every UCI digit fills the
       8 rows of blocks; the widest span 6 of the 8 columns, a zero always exactly 6.)
    2. Stroke thickness is normalized: the strokes are thickened (or thinned) evenly, as if
       drawn again with a rounder or finer pen, until `UCI_INK` of the 1024 pixels are ink. UCI
       digits of every class hold about as much ink (medians 303 to 330; fewer than 1.5% under
       256, a quarter of the box), so a thin one becomes a bar two blocks wide, as the UCI ones
       are, while a zero keeps a stroke a block wide. A drawing thicker than that is thinned by
       at most half of its widest stroke, so no stroke disappears.
    3. Each 4x4 block of the 32x32 bitmap is counted: 0..16 inked pixels, the 8x8 input.

    The pen is fitted on a 128x128 grid: the signed distance of every fine pixel to the edge
    of the ink is a pen's growth; a 32x32 pixel is ink once half of its 16 fine pixels are,
    so every pixel has the growth at which it inks, and the growth that inks `UCI_INK` pixels
    is one partial sort away. Cost: two Euclidean distance transforms of 128x128, about a
    millisecond; memory a few of those grids.

    >>> d = np.zeros((64, 64)); d[8:56, 30:34] = 1.0   # a one: a thin tall stroke
    >>> r = reduce_drawing(d)
    >>> r.box, int(r.scaled.sum()), r.pixels.sum(axis=0).nonzero()[0].tolist()
    ((8, 30, 56, 34), 320, [2, 3, 4, 5])
    >>> r.pixels[3].astype(int).tolist()   # the bar is as thick as a UCI one's
    [0, 0, 4, 16, 16, 4, 0, 0]
    """
    ink = np.asarray(drawing, dtype=np.float32)
    rows, cols = np.nonzero(ink >= 0.5)
    if rows.size == 0:
        raise ShapeError(f"`{field}` holds no ink: nothing is drawn (no value reaches 0.5)",
                         param=field, accepted="a drawing with ink values near 1 on strokes")
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    crop = ink[top:bottom, left:right]
    height, width = crop.shape
    fine = UCI_SIDE * _FINE
    size = (max(1, min(round(width * fine / height), UCI_MAX_WIDTH * _FINE)), fine)
    # an area average: a thin stroke drawn on a big canvas keeps its ink when shrunk
    fitted = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BOX))
    mask = np.zeros((fine, fine), dtype=bool)
    x0 = (fine - size[0]) // 2
    mask[:, x0:x0 + size[0]] = fitted >= 0.5
    bitmap = _normalize_stroke(mask).astype(np.float32)
    pixels = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return Reduction((int(top), int(left), int(bottom), int(right)), bitmap, pixels)


def _normalize_stroke(mask: np.ndarray) -> np.ndarray:
    """The fine ink `mask` (128x128) as a 32x32 bitmap holding about `UCI_INK` ink pixels."""
    from scipy.ndimage import distance_transform_edt  # scikit-learn's own dependency

    inside = distance_transform_edt(mask)
    # growth at which each fine pixel inks: <= 0 inside the strokes, > 0 outside
    growth = np.where(mask, 0.5 - inside, distance_transform_edt(~mask) - 0.5)
    blocks = growth.reshape(UCI_SIDE, _FINE, UCI_SIDE, _FINE).transpose(0, 2, 1, 3)
    half = _FINE * _FINE // 2
    # a 32x32 pixel inks when half of its fine pixels do: at the half-th smallest growth
    inks_at = np.partition(blocks.reshape(UCI_SIDE, UCI_SIDE, -1), half - 1, axis=2)[..., half - 1]
    pen = np.partition(inks_at.ravel(), UCI_INK - 1)[UCI_INK - 1]
    pen = max(pen, 0.5 - inside.max() / 2)  # thin by at most half the widest stroke
    return inks_at <= pen
