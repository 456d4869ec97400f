"""Result maps -> PNG bytes and the headers a legend and hover need (shared by conv and pool)."""

from __future__ import annotations

import numpy as np

from ..imaging.encode import encode_png
from ..imaging.render import Grid, display, finite_range, grid_geometry, png_filter, tile
from .errors import ApiError
from .schemas.common import DisplaySpec

ACCEPTED_LAYOUT = '"auto", "grid", "single" (map `filter`) or "rgb" (exactly 3 maps, not signed)'


def _as_maps(values: np.ndarray) -> np.ndarray:
    """``(N, *O)`` as 2D maps: 1D signals become one-row maps; 3D cannot be drawn."""
    if values.ndim == 2:
        return values[:, None, :]
    if values.ndim == 3:
        return values
    raise ApiError(422, "parameter", "display", f"`display` draws results with 1 or 2 spatial "
                   f"axes; this one has shape {list(values.shape)}",
                   accepted="a 1D or 2D result; for 3D use `?format=npy` on /api/conv")


def _check_grid(shape: tuple[int, ...], max_pixels: int) -> None:
    grid = grid_geometry(*shape[:3])
    height, width = grid.canvas
    if height * width > max_pixels:
        raise ApiError(422, "limit", "display.layout", f'`display.layout` "grid" of {grid.count} '
                       f"maps of {grid.height}x{grid.width} would be a {height}x{width} picture "
                       f"({height * width} pixels with the gaps), more than the limit of "
                       f"{max_pixels}", accepted='"single" (one map, chosen by `filter`), or '
                       "fewer or smaller maps; `?format=npy` on /api/conv for all the values",
                       suggestion={"layout": "single"})


def render_maps(values: np.ndarray, spec: DisplaySpec, *, compress_level: int,
                labels: list[str] | None = None,
                max_pixels: int | None = None) -> tuple[bytes, dict[str, str]]:
    """Draw ``values`` ``(N, *O)`` as ``spec`` asks; return the PNG and ``X-Svertka-*`` extras.

    ``max_pixels`` bounds a grid picture, whose gaps can make it several times larger than the
    values (thousands of one-row maps): checked before anything is drawn.
    """
    maps = _as_maps(values)
    count = maps.shape[0]
    layout = spec.layout
    if layout == "auto":
        if count == 1:
            layout = "single"
        else:
            layout = "rgb" if count == 3 and spec.mode != "signed" else "grid"
    grid: Grid | None = None
    if layout == "single":
        if spec.filter >= count:
            raise ApiError(422, "parameter", "display.filter", f"`display.filter` must be in "
                           f"0..{count - 1}, got {spec.filter}",
                           accepted=f"an int from 0 to {count - 1}", suggestion={"filter": 0})
        shown = maps[spec.filter]
        data_range = finite_range(shown)
        pixels, used = display(shown, spec.mode, data_range=data_range)
    elif layout == "rgb":
        if count != 3 or spec.mode == "signed":
            raise ApiError(422, "parameter", "display.layout", f'layout "rgb" needs exactly 3 '
                           f"maps and a mode other than signed; got {count} map(s), mode "
                           f"{spec.mode!r}", accepted=ACCEPTED_LAYOUT,
                           suggestion={"layout": "grid"})
        shown = maps
        data_range = finite_range(shown)
        channels, used = display(maps, spec.mode, data_range=data_range)
        pixels = np.ascontiguousarray(channels.transpose(1, 2, 0))
    else:
        if max_pixels is not None:
            _check_grid(maps.shape, max_pixels)
        shown = maps
        data_range = finite_range(shown)
        scaled, used = display(maps, spec.mode, data_range=data_range)
        pixels, grid = tile(scaled)
    headers = {
        "X-Svertka-Range": f"{used[0]:.9g},{used[1]:.9g}",
        "X-Svertka-Data-Range": f"{data_range[0]:.9g},{data_range[1]:.9g}",
        "X-Svertka-Display": (f'{{"mode":"{spec.mode}","layout":"{layout}",'
                              f'"filter":{spec.filter},"per_channel":'
                              f"{'true' if spec.per_channel else 'false'}}}"),
    }
    if grid is not None:
        # count,rows,columns,tile height,tile width,gap: lets the browser map a hover to a map
        headers["X-Svertka-Grid"] = grid.header()
    if labels:
        headers["X-Svertka-Labels"] = ",".join(labels)
    return encode_png(pixels, compress_level=compress_level,
                      filter=png_filter(spec.mode)), headers
