"""Turn result arrays into pictures: display modes, value ranges for legends, grids of maps.

Four display modes, each returning the value range it mapped onto black..white (or onto the two
ends of the diverging map) so the browser can draw a legend:

- ``clip``: values are pixel intensities; below 0 is black, above 255 white. Range (0, 255).
- ``stretch``: min-max, the darkest value black and the brightest white.
- ``abs``: |x| stretched from 0, for edge detectors whose sign does not matter.
- ``signed``: diverging colours, zero in the middle, symmetric range +-max|x| so equal colours
  mean equal magnitudes on both sides.

Several maps are drawn with one shared range so that they can be compared by eye.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .colormaps import DIVERGING, apply_lut

__all__ = ["MODES", "LAYOUTS", "Grid", "display", "grid_geometry", "render_map", "tile"]

MODES = ("clip", "stretch", "abs", "signed")
LAYOUTS = ("grid", "single", "rgb")
GAP = 2
_BACKGROUND = 255


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 0.0
    return float(finite.min()), float(finite.max())


def display(values: np.ndarray, mode: str = "stretch") -> tuple[np.ndarray, tuple[float, float]]:
    """Map ``values`` (any shape) to uint8 with one shared range; ``signed`` adds an RGB axis.

    >>> pixels, used = display(np.array([[-2.0, 0.0, 2.0]]), "signed")
    >>> pixels.shape, used
    ((1, 3, 3), (-2.0, 2.0))
    >>> display(np.array([0.0, 5.0, 10.0]), "stretch")[0].tolist()
    [0, 128, 255]

    Cost: O(elements) time, a few temporary float32 copies.
    """
    x = np.asarray(values, dtype=np.float32)
    if mode == "clip":
        lo, hi = 0.0, 255.0
        scaled = x
    elif mode == "stretch":
        lo, hi = _finite_range(x)
        scaled = (x - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(x)
    elif mode == "abs":
        x = np.abs(x)
        lo, hi = 0.0, _finite_range(x)[1]
        scaled = x * (255.0 / hi) if hi > 0 else np.zeros_like(x)
    elif mode == "signed":
        lo_v, hi_v = _finite_range(x)
        m = max(abs(lo_v), abs(hi_v))
        lo, hi = -m, m
        # with an all-zero map every pixel is the neutral middle colour
        scaled = (x / m + 1.0) * 127.5 if m > 0 else np.full_like(x, 127.5)
    else:
        raise ValueError(f"display `mode` must be one of {', '.join(MODES)}, got {mode!r}")
    pixels = np.clip(np.rint(np.nan_to_num(scaled, nan=0.0)), 0, 255).astype(np.uint8)
    if mode == "signed":
        pixels = apply_lut(pixels, DIVERGING)
    return pixels, (lo, hi)


@dataclass(frozen=True)
class Grid:
    """Where the maps are in a grid picture: ``rows x columns`` tiles of ``height x width``."""

    count: int
    rows: int
    columns: int
    height: int
    width: int
    gap: int

    def header(self) -> str:
        return f"{self.count},{self.rows},{self.columns},{self.height},{self.width},{self.gap}"


def grid_geometry(count: int, height: int, width: int, *, gap: int = GAP,
                  columns: int | None = None) -> Grid:
    """A near-square grid for ``count`` tiles, wider than tall when the tiles are wide."""
    if columns is None:
        columns = max(1, math.ceil(math.sqrt(count * height / max(width, 1))))
    columns = min(max(1, columns), count)
    rows = math.ceil(count / columns)
    return Grid(count, rows, columns, height, width, gap)


def tile(maps: np.ndarray, *, gap: int = GAP,
         columns: int | None = None) -> tuple[np.ndarray, Grid]:
    """Place uint8 maps ``(N, H, W)`` or ``(N, H, W, 3)`` in a grid separated by white gaps."""
    count, height, width = maps.shape[:3]
    grid = grid_geometry(count, height, width, gap=gap, columns=columns)
    shape = (grid.rows * height + (grid.rows - 1) * gap,
             grid.columns * width + (grid.columns - 1) * gap, *maps.shape[3:])
    canvas = np.full(shape, _BACKGROUND, dtype=np.uint8)
    for i in range(count):  # a loop over maps (few), not over pixels
        r, c = divmod(i, grid.columns)
        y, x = r * (height + gap), c * (width + gap)
        canvas[y:y + height, x:x + width] = maps[i]
    return canvas, grid


def as_maps(values: np.ndarray) -> np.ndarray:
    """View any result as a stack of 2D maps ``(N, H, W)``: 1D signals become one-row maps."""
    x = np.asarray(values)
    if x.ndim == 1:
        return x[None, None, :]
    if x.ndim == 2:
        return x[None]
    if x.ndim == 3:
        return x
    raise ValueError(f"only results with 1 or 2 spatial axes can be drawn, got shape {x.shape}")


def render_map(
    values: np.ndarray, mode: str = "stretch", *, layout: str = "auto", index: int = 0,
    gap: int = GAP,
) -> tuple[np.ndarray, tuple[float, float]]:
    """Render a result as a picture: uint8 ``(H, W)`` grey or ``(H, W, 3)`` colour, and the range.

    ``values`` is ``(H, W)`` (one map) or ``(N, H, W)``. ``layout``: ``"single"`` draws map
    ``index``; ``"rgb"`` reads three maps as the red, green and blue channels; ``"grid"`` tiles
    every map; ``"auto"`` is single for one map, rgb for three (except signed), grid otherwise.
    """
    maps = as_maps(values)
    if layout == "auto":
        if maps.shape[0] == 1:
            layout = "single"
        else:
            layout = "rgb" if maps.shape[0] == 3 and mode != "signed" else "grid"
    if layout == "single":
        if not 0 <= index < maps.shape[0]:
            raise ValueError(f"display `filter` must be in 0..{maps.shape[0] - 1}, got {index}")
        return display(maps[index], mode)
    if layout == "rgb":
        if maps.shape[0] != 3 or mode == "signed":
            raise ValueError("layout `rgb` needs exactly 3 maps and a mode other than `signed`, "
                             f"got {maps.shape[0]} map(s) with mode {mode!r}")
        pixels, used = display(maps, mode)
        return np.ascontiguousarray(pixels.transpose(1, 2, 0)), used
    if layout == "grid":
        pixels, used = display(maps, mode)
        return tile(pixels, gap=gap)[0], used
    raise ValueError(f"display `layout` must be one of {', '.join(LAYOUTS)}, got {layout!r}")
