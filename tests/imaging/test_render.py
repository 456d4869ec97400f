"""Display modes, value ranges, colour maps and grids."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from server.imaging.colormaps import DIVERGING, build_lut
from server.imaging.encode import encode_npy, encode_png
from server.imaging.render import display, grid_geometry, render_map, tile


def test_display_clips_to_pixel_range_when_clip() -> None:
    pixels, used = display(np.array([-10.0, 0.0, 100.0, 300.0]), "clip")
    assert pixels.tolist() == [0, 0, 100, 255]
    assert used == (0.0, 255.0)


def test_display_maps_min_to_black_and_max_to_white_when_stretch() -> None:
    pixels, used = display(np.array([[-4.0, 0.0, 4.0]]), "stretch")
    assert pixels.tolist() == [[0, 128, 255]]
    assert used == (-4.0, 4.0)


def test_display_uses_magnitude_when_abs() -> None:
    pixels, used = display(np.array([-4.0, 0.0, 2.0]), "abs")
    assert pixels.tolist() == [255, 0, 128]
    assert used == (0.0, 4.0)


def test_display_centres_zero_when_signed() -> None:
    pixels, used = display(np.array([-1.0, 0.0, 3.0]), "signed")
    assert used == (-3.0, 3.0)  # symmetric: equal colours mean equal magnitudes
    assert pixels.shape == (3, 3)
    assert pixels[1].min() > 230  # zero is near white
    assert pixels[2][0] > pixels[2][2]  # positive is orange (more red than blue)


@pytest.mark.parametrize("mode", ["clip", "stretch", "abs", "signed"])
def test_display_handles_constant_map_when_flat(mode: str) -> None:
    pixels, used = display(np.zeros((3, 3)), mode)
    assert pixels.dtype == np.uint8
    assert np.isfinite(used).all()


def test_display_rejects_mode_when_unknown() -> None:
    with pytest.raises(ValueError, match="mode"):
        display(np.zeros(3), "rainbow")


def test_diverging_map_is_distinct_at_both_ends_when_built() -> None:
    assert DIVERGING.shape == (256, 3)
    negative, middle, positive = DIVERGING[0], DIVERGING[128], DIVERGING[255]
    assert negative[2] > negative[0]  # purple end: blue dominates
    assert positive[0] > positive[2]  # orange end: red dominates
    assert middle.min() > 230
    lightness = DIVERGING.astype(int).sum(axis=1)
    assert lightness[:128].argmax() > 100 and lightness[128:].argmax() < 28  # brightest mid


def test_build_lut_interpolates_when_two_anchors() -> None:
    lut = build_lut(("#000000", "#ff0000"))
    assert lut[0].tolist() == [0, 0, 0] and lut[255].tolist() == [255, 0, 0]
    assert 120 <= lut[128][0] <= 135


def test_tile_places_maps_with_gaps_when_grid() -> None:
    maps = np.stack([np.full((3, 5), i * 50, dtype=np.uint8) for i in range(4)])
    canvas, grid = tile(maps, gap=2)
    assert (grid.rows, grid.columns) == (2, 2)
    assert canvas.shape == (3 * 2 + 2, 5 * 2 + 2)
    assert canvas[0, 0] == 0 and canvas[5, 7] == 150 and canvas[3, 0] == 255


def test_grid_geometry_covers_count_when_odd() -> None:
    grid = grid_geometry(5, 10, 10)
    assert grid.rows * grid.columns >= 5 and grid.header().startswith("5,")


def test_render_map_picks_layout_when_auto() -> None:
    assert render_map(np.zeros((4, 6)), "stretch")[0].shape == (4, 6)
    assert render_map(np.zeros((3, 4, 6)), "stretch")[0].shape == (4, 6, 3)
    assert render_map(np.zeros((3, 4, 6)), "signed")[0].shape[-1] == 3
    assert render_map(np.zeros((2, 4, 6)), "clip")[0].shape == (4, 14)


def test_render_map_rejects_rgb_when_not_three_maps() -> None:
    with pytest.raises(ValueError, match="rgb"):
        render_map(np.zeros((2, 4, 4)), "clip", layout="rgb")


def test_encode_png_round_trips_when_grey_or_rgb() -> None:
    for pixels in (np.arange(12, dtype=np.uint8).reshape(3, 4),
                   np.arange(36, dtype=np.uint8).reshape(3, 4, 3)):
        decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))))
        assert np.array_equal(decoded, pixels)


def test_encode_png_rejects_array_when_not_uint8() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2)))


def test_encode_npy_round_trips_when_float32() -> None:
    array = np.random.default_rng(0).normal(size=(2, 3, 4))
    loaded = np.load(io.BytesIO(encode_npy(array)))
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, array.astype(np.float32))
