"""Shift-and-add as axpys straight over the input (`server.core.methods.taps`, run by the direct
method for a handful of filters x channels): against the naive-loop oracle over padding forms,
row and column paddings, dilation, groups, bands and odd sizes; a hypothesis property; where it
runs and where it leaves the work to the tiled path; memory: the output alone."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import conv_ref

from server.core import conv, conv_method
from server.core.methods import blas, scratch, taps
from server.core.methods.choose import direct_variant
from server.core.methods.plan import make_plan

pytestmark = pytest.mark.skipif(
    not blas.available(np.dtype(np.float32)), reason="NumPy's BLAS is not reachable"
)


def assert_close(out: np.ndarray, ref: np.ndarray) -> None:
    """DESIGN §2: within 1e-5 * max|reference| + 1e-6."""
    assert out.shape == ref.shape
    tol = 1e-5 * float(np.max(np.abs(ref), initial=0.0)) + 1e-6
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)


def plan_of(x: np.ndarray, w: np.ndarray, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "bias": None, "stride": 1, "padding": 0, "padding_mode": "zeros", "dilation": 1,
        "groups": 1, "flip": False, "tile_bytes": None,
    }
    args.update(kw)
    return make_plan(x, w, **args)


def operands(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], dtype: Any = np.float32, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype))


def check(x: np.ndarray, w: np.ndarray, **kw: Any) -> np.ndarray:
    """conv through the taps path (asserted), against the oracle."""
    assert direct_variant(plan_of(x, w, **kw)) == "taps"
    out = conv(x, w, method="direct", **kw)
    assert out.flags.c_contiguous
    assert_close(out, conv_ref(x, w, **kw))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("side", [(1, 1), (1, 5), (5, 1), (2, 2), (7, 3), (9, 16), (33, 31)])
def test_rgb_through_one_filter_same(dtype: Any, side: tuple[int, int]) -> None:
    x, w = operands((3, *side), (1, 3, 3, 3), dtype, seed=sum(side))
    out = check(x, w, padding=1)
    assert out.dtype == dtype


@pytest.mark.parametrize(
    ("w_shape", "padding"),
    [
        ((1, 3, 3, 3), "same"),
        ((1, 3, 5, 5), "same"),
        ((1, 3, 4, 4), "same"),  # even kernel: the odd pixel after
        ((1, 3, 3, 3), [[0, 0], [1, 1]]),  # valid rows, same columns
        ((1, 3, 3, 3), [[3, 0], [2, 0]]),  # all the column padding on the left
        ((1, 3, 3, 3), [[0, 4], [0, 2]]),  # ... on the right, rows past the input
        ((1, 3, 1, 1), 0),
        ((1, 3, 5, 1), [[1, 1], [0, 0]]),
        ((1, 3, 1, 7), [[0, 0], [3, 3]]),
    ],
)
def test_padding_forms(w_shape: tuple[int, ...], padding: Any) -> None:
    x, w = operands((3, 11, 9), w_shape, seed=len(str(padding)))
    check(x, w, padding=padding)


@pytest.mark.parametrize("dilation", [2, [1, 3], [3, 2]])
def test_dilation(dilation: Any) -> None:
    x, w = operands((2, 13, 12), (1, 2, 3, 3), seed=4)
    check(x, w, padding="same", dilation=dilation)


@pytest.mark.parametrize(
    ("channels", "filters", "groups"), [(1, 1, 1), (1, 2, 1), (1, 3, 1), (3, 1, 1), (2, 2, 2),
                                        (3, 3, 3), (4, 2, 2), (6, 2, 2)]
)
def test_filters_channels_and_groups(channels: int, filters: int, groups: int) -> None:
    x, w = operands((channels, 10, 8), (filters, channels // groups, 3, 3), seed=channels)
    check(x, w, padding=1, groups=groups)


def test_bias_flip_and_shorthand() -> None:
    x, w = operands((1, 9, 7), (1, 1, 3, 3), seed=6)
    kw = {"bias": np.float32(0.25), "flip": True, "padding": "same"}
    assert_close(conv(x, w, **kw), conv_ref(x, w, **kw))
    assert_close(conv(x[0], w[0, 0], padding=1), conv_ref(x, w, padding=1)[0])


@pytest.mark.parametrize("band_bytes", [1, 300, 2000])
def test_bands_agree(monkeypatch: pytest.MonkeyPatch, band_bytes: int) -> None:
    """Any band height (down to one output row per band) gives the oracle's result."""
    monkeypatch.setattr(taps, "BAND_BYTES", band_bytes)
    x, w = operands((3, 17, 6), (1, 3, 3, 3), seed=8)
    check(x, w, padding=[[2, 1], [1, 1]])


def test_where_it_runs() -> None:
    x, w = operands((3, 20, 20), (1, 3, 3, 3))
    assert direct_variant(plan_of(x, w, padding=1)) == "taps"
    assert direct_variant(plan_of(x.astype(np.float64), w, padding=1)) == "taps"  # in float64
    assert direct_variant(plan_of(x.astype(np.float16), w, padding=1)) == "gemm"  # a cast copy
    assert direct_variant(plan_of(x[:, :, ::2], w, padding=1)) == "gemm"  # not contiguous
    assert direct_variant(plan_of(x, w)) == "gemm"  # narrower output: a crop
    assert direct_variant(plan_of(x, w, padding=1, stride=2)) == "gemm"
    assert direct_variant(plan_of(x, w, padding=1, padding_mode="reflect")) == "gemm"
    assert direct_variant(plan_of(x, np.ones((2, 3, 3, 3), np.float32), padding=1)) == "gemm"
    assert direct_variant(plan_of(x[0], w[0, 0], padding=1)) == "taps"
    assert conv_method(x, w, padding=1) == "direct"


def test_integer_and_strided_inputs_take_the_tiled_path() -> None:
    x = np.arange(3 * 9 * 8).reshape(3, 9, 8) % 7
    w = np.arange(27).reshape(1, 3, 3, 3) % 4 - 1.5
    assert_close(conv(x, w, padding=1), conv_ref(x, w, padding=1))
    xf = np.random.default_rng(1).standard_normal((3, 9, 16)).astype(np.float32)[:, :, ::2]
    assert_close(conv(xf, w.astype(np.float32), padding=1), conv_ref(xf, w, padding=1))


def test_memory_is_the_output_alone() -> None:
    """An RGB photo through one 3x3 filter: no padded copy, no tiles, only the output."""
    x, w = operands((3, 1024, 1024), (1, 3, 3, 3))
    scratch.clear()
    tracemalloc.start()
    try:
        out = conv(x, w, padding=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.nbytes == 4 * 2**20
    assert peak < out.nbytes + 2**20


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 12),
    cols=st.integers(1, 12),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    dil=st.integers(1, 2),
    cg=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_property_equals_oracle(
    data: st.DataObject, rows: int, cols: int, kh: int, kw: int, dil: int, cg: int,
    groups: int, dtype: Any,
) -> None:
    """Any size, kernel, dilation, row padding and split of the column padding."""
    span = dil * (kw - 1)
    left = data.draw(st.integers(0, span))
    top, bottom = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    if rows + top + bottom < dil * (kh - 1) + 1:
        bottom += dil * (kh - 1) + 1 - (rows + top + bottom)
    pads = [[top, bottom], [left, span - left]]
    seed = data.draw(st.integers(0, 2**16))
    fg = 3 // cg
    x, w = operands((cg * groups, rows, cols), (fg * groups, cg, kh, kw), dtype, seed)
    check(x, w, padding=pads, dilation=dil, groups=groups)
