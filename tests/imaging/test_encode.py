"""The PNG writer and the display path: same pixels as before, fewer passes."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from server.imaging.colormaps import DIVERGING, GREY, apply_lut
from server.imaging.encode import deflate, encode_png
from server.imaging.render import display, finite_range

RNG = np.random.default_rng(11)


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.load()  # checks every chunk's CRC
    return np.asarray(image)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (31, 17), (1, 1, 3), (23, 40, 3),
                                   (700, 600, 3)])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("row_filter", ["up", "none"])
def test_encode_png_round_trips_when_any_size_level_or_filter(
        shape: tuple[int, ...], level: int, row_filter: str) -> None:
    pixels = RNG.integers(0, 256, size=shape, dtype=np.uint8)
    png = encode_png(pixels, compress_level=level, filter=row_filter)
    assert np.array_equal(decode(png), pixels)


def test_encode_png_rejects_filter_when_unknown() -> None:
    with pytest.raises(ValueError, match="filter"):
        encode_png(np.zeros((2, 2), dtype=np.uint8), filter="paeth")


def test_encode_png_round_trips_when_not_contiguous() -> None:
    pixels = RNG.integers(0, 256, size=(40, 60, 3), dtype=np.uint8)[::2, ::3]
    assert np.array_equal(decode(encode_png(pixels)), pixels)


def test_encode_png_keeps_pillow_modes_when_other_channel_counts() -> None:
    pixels = RNG.integers(0, 256, size=(5, 4, 4), dtype=np.uint8)
    image = Image.open(io.BytesIO(encode_png(pixels)))
    assert image.mode == "RGBA" and np.array_equal(np.asarray(image), pixels)


@pytest.mark.parametrize("size", [0, 1, 1000, 256 * 1024 + 1, 3 * 256 * 1024 + 5, 2_000_003])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_deflate_is_one_zlib_stream_when_split_in_pieces(size: int, level: int) -> None:
    data = (RNG.integers(0, 5, size=size) * 50).astype(np.uint8)
    assert zlib.decompress(deflate(data, level)) == data.tobytes()


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize("lut", [GREY, DIVERGING], ids=["grey", "diverging"])
def test_apply_lut_matches_indexing_when_any_shape(shape: tuple[int, ...],
                                                   lut: np.ndarray) -> None:
    indices = RNG.integers(0, 256, size=shape).astype(np.uint8)
    painted = apply_lut(indices, lut)
    assert painted.dtype == np.uint8 and painted.flags.c_contiguous
    assert np.array_equal(painted, lut[indices])


@pytest.mark.parametrize("values, expected", [
    ([1.0, -2.0, 3.0], (-2.0, 3.0)),
    ([1.0, np.nan, -np.inf, 3.0, np.inf], (1.0, 3.0)),
    ([np.nan, np.inf], (0.0, 0.0)),
    ([], (0.0, 0.0)),
])
def test_finite_range_ignores_non_finite_when_present(values: list[float],
                                                      expected: tuple[float, float]) -> None:
    assert finite_range(np.asarray(values, dtype=np.float32)) == expected


@pytest.mark.parametrize("mode", ["clip", "stretch", "abs", "signed"])
def test_display_leaves_input_unchanged_when_float32(mode: str) -> None:
    values = (RNG.normal(size=(6, 7)) * 300).astype(np.float32)
    values[0, 0] = np.nan
    before = values.copy()
    display(values, mode)
    assert np.array_equal(values, before, equal_nan=True)


@pytest.mark.parametrize("mode", ["stretch", "signed"])
def test_display_gives_same_pixels_when_range_passed(mode: str) -> None:
    values = (RNG.normal(size=(2, 9, 8)) * 40).astype(np.float32)
    alone = display(values, mode)
    given = display(values, mode, data_range=finite_range(values))
    assert np.array_equal(alone[0], given[0]) and alone[1] == given[1]
    # float64 values are drawn from their float32 copy: a float64 range must not leak in
    wide = values.astype(np.float64) + 1e-9
    assert display(wide, mode, data_range=finite_range(wide))[1] == display(wide, mode)[1]
