"""Shrinking maps for thumbnails: `reduction_factor` and `block_mean` against loops, and what a
shrunk map keeps (its values stay within the map's range, zero stays zero)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.imaging.render import block_mean, display, reduction_factor


def loops(maps: np.ndarray, factor: int) -> np.ndarray:
    n, h, w = maps.shape
    out = np.zeros((n, -(-h // factor), -(-w // factor)))
    for k in range(n):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                block = maps[k, i * factor:(i + 1) * factor, j * factor:(j + 1) * factor]
                out[k, i, j] = block.astype(np.float64).mean()
    return out


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 23), w=st.integers(1, 23),
       factor=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_block_mean_equals_loops(n: int, h: int, w: int, factor: int, seed: int) -> None:
    maps = np.random.default_rng(seed).normal(size=(n, h, w)).astype(np.float32)
    got = block_mean(maps, factor)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, loops(maps, factor), rtol=1e-5, atol=1e-6)
    assert got.min() >= maps.min() - 1e-6 and got.max() <= maps.max() + 1e-6


def test_block_mean_reads_strided_views_and_leaves_them_alone() -> None:
    base = np.arange(2 * 9 * 8, dtype=np.float32).reshape(9, 8, 2)
    maps = np.moveaxis(base, -1, 0)  # channels-last memory, as a Keras-order array
    before = base.copy()
    np.testing.assert_allclose(block_mean(maps, 4), loops(maps, 4), rtol=1e-6)
    np.testing.assert_array_equal(base, before)
    assert block_mean(maps, 1) is maps


@pytest.mark.parametrize(("shape", "side", "factor"), [
    ((224, 224), 96, 3), ((192, 10), 96, 2), ((193, 10), 96, 3), ((96, 96), 96, 1),
    ((1, 500), 96, 6), ((5, 5), 1, 5), ((224, 224), None, 1)])
def test_reduction_factor_is_the_smallest_that_fits(shape: tuple[int, int], side: int | None,
                                                    factor: int) -> None:
    assert reduction_factor(shape, side) == factor
    if side is not None:
        assert max(-(-n // factor) for n in shape) <= side
        if factor > 1:
            assert max(-(-n // (factor - 1)) for n in shape) > side


def test_signed_thumbnail_keeps_zero_neutral_on_the_full_maps_scale() -> None:
    maps = np.zeros((1, 6, 6), np.float32)
    maps[0, :3, :3] = 4.0    # a positive block, a negative block, and zeros
    maps[0, 3:, 3:] = -2.0
    small = block_mean(maps, 3)
    pixels, used = display(small, "signed", data_range=(-2.0, 4.0))
    assert used == (-4.0, 4.0)
    full, _ = display(maps, "signed")
    np.testing.assert_array_equal(pixels[0, 0, 0], full[0, 0, 0])  # 4 -> the same orange
    np.testing.assert_array_equal(pixels[0, 1, 1], full[0, 5, 5])  # -2 -> the same purple
    np.testing.assert_array_equal(pixels[0, 0, 1], full[0, 0, 5])  # 0 -> the neutral middle


def test_abs_reads_its_scale_from_the_given_range() -> None:
    pixels, used = display(np.array([[1.0, -2.0]], np.float32), "abs", data_range=(-8.0, 4.0))
    assert used == (0.0, 8.0) and pixels.tolist() == [[32, 64]]
