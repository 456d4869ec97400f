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
           "reduce_drawing", "traced_training_digits"]

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


# The training split again, as the page would get it: every training digit traced to a thin
# stroke, drawn again in a new place, size, slant and pen, and reduced by `reduce_drawing`.
TRACE_SIDE = 32  # a UCI digit is enlarged to 32x32 before it is thinned to its centre line
DRAW_SIDE = 128  # the page's ink grid (INK_SIDE in static/js/digits/draw.js)
TRACE_TURN = 6.0  # degrees either way
TRACE_SHEAR = 0.12  # the top leans by up to this share of the height, either way
TRACE_STRETCH = 0.12  # width scaled by 1 -/+ this
TRACE_HEIGHT = (0.35, 0.8)  # share of the pad
TRACE_SHIFT = 0.1  # share of the pad, each way
TRACE_PEN = (0.02, 0.09)  # pen width as a share of the pad (the page's is 0.065)


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang and Suen's thinning (1984) of a stack of boolean images ``(N, H, W)`` to lines
    one pixel wide, all images at once (a line loses a pixel or so at its ends).

    >>> bar = np.zeros((1, 7, 9), dtype=bool); bar[0, 2:5, 1:8] = True
    >>> thin(bar)[0].astype(int).sum(axis=1).tolist()
    [0, 0, 0, 4, 0, 0, 0]
    """
    img = np.pad(mask.astype(np.uint8), ((0, 0), (1, 1), (1, 1)))
    while True:
        changed = False
        for step in (0, 1):
            # the eight neighbours P2..P9: north, then clockwise
            n = [np.roll(img, (dy, dx), axis=(1, 2)) for dy, dx in
                 ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))]
            p2, _, p4, _, p6, _, p8, _ = n
            b = sum(n)
            seq = [*n, n[0]]
            a = sum(((seq[i] == 0) & (seq[i + 1] == 1)).astype(np.uint8) for i in range(8))
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (img == 1) & (b >= 2) & (b <= 6) & (a == 1) & cond
            if remove.any():
                img = np.where(remove, 0, img).astype(np.uint8)
                changed = True
        if not changed:
            return img[:, 1:-1, 1:-1].astype(bool)


def _centre_lines(pixels: np.ndarray) -> np.ndarray:
    """UCI digits ``(N, 8, 8)`` of 0..16 as their centre lines ``(N, 32, 32)``: enlarged
    smoothly, half ink and more kept, thinned."""
    side = (TRACE_SIDE, TRACE_SIDE)
    smooth = np.stack([np.asarray(Image.fromarray((p * PIXEL_SCALE).astype(np.float32), mode="F")
                                  .resize(side, Image.Resampling.BICUBIC)) for p in pixels])
    return thin(smooth >= 0.5)


def _redraw(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A centre line ``(32, 32)`` drawn on the page's pad: turned, sheared, stretched, sized and
    moved at random, with a round pen of random width; ink 0..1 on 128x128."""
    from scipy.ndimage import distance_transform_edt

    ys, xs = np.nonzero(line)
    points = (np.stack([xs, ys], axis=1) + 0.5 - TRACE_SIDE / 2) / TRACE_SIDE
    turn = np.radians(rng.uniform(-TRACE_TURN, TRACE_TURN))
    shear = rng.uniform(-TRACE_SHEAR, TRACE_SHEAR)
    stretch = rng.uniform(1 - TRACE_STRETCH, 1 + TRACE_STRETCH)
    height = rng.uniform(*TRACE_HEIGHT)
    shift = rng.uniform(-TRACE_SHIFT, TRACE_SHIFT, 2)
    pen = rng.uniform(*TRACE_PEN) * DRAW_SIDE
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    affine = rotation @ np.array([[stretch, -shear], [0.0, 1.0]])  # y down: top leans right
    placed = points @ affine.T * height * DRAW_SIDE + (0.5 + shift) * DRAW_SIDE
    at = np.clip(np.round(placed).astype(np.int64), 0, DRAW_SIDE - 1)
    stroke = np.zeros((DRAW_SIDE, DRAW_SIDE), dtype=bool)
    stroke[at[:, 1], at[:, 0]] = True
    # a round pen along the points (they lie a pixel or two apart), edge anti-aliased
    ink = np.clip(pen / 2 + 0.5 - distance_transform_edt(~stroke), 0, 1)
    return np.round(ink, 2)


@cache
def traced_training_digits(seed: int = SEED, copies: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The training split (never the test split) drawn again the page's way, `copies` times:
    ``(pixels (N * copies, 8, 8) of 0..16 as float32, labels)``.

    Each training digit is traced to its centre line, drawn again on a 128x128 pad with a
    random small turn, shear, stretch, size, place and pen width (a seeded generator, so the
    same every time), and reduced by `reduce_drawing`, exactly as a drawing sent to
    ``POST /api/digits/predict`` is. Cost: about 3 ms a digit (the reduction's distance
    transforms), a few seconds for the 1347 training digits; kept for the process.
    """
    data = load()
    lines = _centre_lines(data.train_x)
    rng = np.random.default_rng([seed, 11])
    pixels = [reduce_drawing(_redraw(line, rng)).pixels
              for _ in range(copies) for line in lines]
    return np.array(pixels, dtype=np.float32), np.tile(data.train_y, copies)
