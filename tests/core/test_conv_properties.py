"""Properties of `conv` that hold for any arguments hypothesis can draw."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import conv_ref

from server.core import conv, output_shape
from server.core.padding import PADDING_MODES

METHODS = ("direct", "im2col", "fft")


def close(a: np.ndarray, b: np.ndarray, scale: float | None = None) -> bool:
    scale = float(np.max(np.abs(b), initial=0.0)) if scale is None else scale
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= 1e-5 * scale + 1e-6))


@st.composite
def problems(draw: st.DrawFn, max_side: int = 7) -> dict[str, Any]:
    """A random valid convolution: operands in full form and keyword arguments."""
    nd = draw(st.integers(1, 3))
    side_cap = max_side if nd < 3 else 5
    groups = draw(st.sampled_from([1, 1, 2]))
    cg = draw(st.integers(1, 2))
    fg = draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(nd)]
    stride = [draw(st.integers(1, 3)) for _ in range(nd)]
    dilation = [draw(st.integers(1, 2)) for _ in range(nd)]
    mode = draw(st.sampled_from(PADDING_MODES))
    spatial = []
    for k, d in zip(kernel, dilation, strict=True):
        spatial.append(draw(st.integers(max(d * (k - 1) + 1, 2), side_cap)))
    form = draw(st.sampled_from(["int", "pairs", "same", "valid", "full"]))
    if form == "int":
        padding: Any = draw(st.integers(0, min(spatial) - 1))
    elif form == "pairs":
        padding = [[draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))] for n in spatial]
    else:
        padding = form
    if mode in ("reflect", "circular") and form in ("full", "same"):
        mode = "zeros"  # those words can ask for more padding than the side
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.integers(-4, 5, (cg * groups, *spatial)).astype(np.float64)
    w = rng.integers(-3, 4, (fg * groups, cg, *kernel)).astype(np.float64)
    kw = {
        "stride": stride,
        "dilation": dilation,
        "padding": padding,
        "padding_mode": mode,
        "groups": groups,
    }
    return {"x": x, "w": w, "kw": kw}


@settings(max_examples=60, deadline=None)
@given(problems())
def test_every_method_matches_oracle(p: dict[str, Any]) -> None:
    ref = conv_ref(p["x"], p["w"], **p["kw"])
    for method in METHODS:
        assert close(conv(p["x"], p["w"], method=method, **p["kw"]), ref)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_output_shape_equals_formula(p: dict[str, Any]) -> None:
    kw = p["kw"]
    out = conv(p["x"], p["w"], **kw)
    expected = output_shape(
        p["x"].shape[1:],
        p["w"].shape[2:],
        stride=kw["stride"],
        padding=kw["padding"],
        dilation=kw["dilation"],
    )
    assert out.shape == (p["w"].shape[0], *expected)


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(-3, 3), st.integers(-3, 3))
def test_linear_in_input(p: dict[str, Any], a: int, b: int) -> None:
    x2 = np.random.default_rng(0).standard_normal(p["x"].shape)
    lhs = conv(a * p["x"] + b * x2, p["w"], **p["kw"])
    rhs = a * conv(p["x"], p["w"], **p["kw"]) + b * conv(x2, p["w"], **p["kw"])
    assert close(lhs, rhs, float(np.max(np.abs(lhs), initial=0.0)) + 1.0)


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(-3, 3), st.integers(-3, 3))
def test_linear_in_kernel(p: dict[str, Any], a: int, b: int) -> None:
    w2 = np.random.default_rng(1).standard_normal(p["w"].shape)
    lhs = conv(p["x"], a * p["w"] + b * w2, **p["kw"])
    rhs = a * conv(p["x"], p["w"], **p["kw"]) + b * conv(p["x"], w2, **p["kw"])
    assert close(lhs, rhs, float(np.max(np.abs(lhs), initial=0.0)) + 1.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 9), min_size=1, max_size=3),
    st.integers(1, 3),
    st.sampled_from(PADDING_MODES),
    st.sampled_from(METHODS),
)
def test_identity_kernel_returns_input(
    spatial: list[int], channels: int, mode: str, method: str
) -> None:
    x = np.random.default_rng(2).standard_normal((channels, *spatial)).astype(np.float32)
    nd = len(spatial)
    # one-hot kernel per channel (depthwise), centred, odd size 3 with "same" padding
    w = np.zeros((channels, 1, *(3,) * nd), np.float32)
    w[(slice(None), 0, *(1,) * nd)] = 1
    if mode in ("reflect",) and min(spatial) < 2:
        mode = "replicate"
    out = conv(x, w, padding="same", padding_mode=mode, groups=channels, method=method)
    if method == "fft":  # exact up to the rounding of the transforms
        assert close(out, x)
    else:
        np.testing.assert_array_equal(out, x)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 2),
)
def test_same_gives_ceil_n_over_s(spatial: list[int], k: int, s: int, d: int) -> None:
    nd = len(spatial)
    x = np.ones(spatial)
    out = conv(x, np.ones((k,) * nd), padding="same", stride=s, dilation=d)
    assert out.shape == tuple(math.ceil(n / s) for n in spatial)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_flip_equals_true_convolution(p: dict[str, Any]) -> None:
    nd = p["x"].ndim - 1
    flipped = p["w"][(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
    ref = conv_ref(p["x"], p["w"], flip=True, **p["kw"])
    assert close(conv(p["x"], p["w"], flip=True, **p["kw"]), ref)
    assert close(conv(p["x"], flipped, **p["kw"]), ref)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 3))
def test_flip_1d_matches_numpy_convolve(n: int, k: int, s: int) -> None:
    rng = np.random.default_rng(n * 100 + k)
    x, w = rng.standard_normal(n), rng.standard_normal(k)
    full = np.convolve(x, w, mode="full")
    assert close(conv(x, w, flip=True, padding="full", stride=s), full[::s])


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(0, 6),
    st.integers(0, 6),
    st.integers(1, 3),
    st.sampled_from([1, 200, 2000, None]),
    st.integers(0, 2**16),
)
def test_strided_zero_padding_tiles_match_oracle(
    nd: int, stride: int, before: int, after: int, k: int, tile_bytes: Any, seed: int
) -> None:
    # zero padding with a stride fills each stride phase straight from the input, tile by tile;
    # paddings wider than the stride (whole phase rows of padding) and tiny tiles are the edges
    rng = np.random.default_rng(seed)
    spatial = [int(rng.integers(1, 9 if nd < 3 else 6)) for _ in range(nd)]
    if any(n + before + after < k for n in spatial):
        before = k
    x = rng.integers(-4, 5, (2, *spatial)).astype(np.float64)
    w = rng.integers(-3, 4, (3, 2, *([k] * nd))).astype(np.float64)
    kw = {"stride": stride, "padding": [[before, after]] * nd}
    ref = conv_ref(x, w, **kw)
    for method in ("direct", "im2col"):
        assert close(conv(x, w, method=method, tile_bytes=tile_bytes, **kw), ref)
