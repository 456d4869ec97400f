"""Shift-and-add by kernel rows (`server.core.methods.direct._run_rows`: the last axis' taps
stacked, one GEMM per tap of the other axes): against the naive-loop oracle over padding forms
and modes, dilation, groups, 1-3 spatial axes, tile budgets and dtypes; a hypothesis property;
where the chooser runs it; memory within the tile budget."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import conv_ref

from server.core import conv, conv_method
from server.core.methods import blas, direct, scratch
from server.core.methods.choose import direct_variant
from server.core.methods.plan import make_plan
from server.core.padding import PADDING_MODES

pytestmark = pytest.mark.skipif(
    not blas.available(np.dtype(np.float32)), reason="NumPy's BLAS is not reachable"
)


def assert_close(out: np.ndarray, ref: np.ndarray) -> None:
    """DESIGN §2: within 1e-5 * max|reference| + 1e-6."""
    assert out.shape == ref.shape
    tol = 1e-5 * float(np.max(np.abs(ref), initial=0.0)) + 1e-6
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)


def rows_conv(x: np.ndarray, w: np.ndarray, **kw: Any) -> np.ndarray:
    """The rows path itself (no bias), whatever the chooser would pick."""
    args: dict[str, Any] = {
        "bias": None, "stride": 1, "padding": 0, "padding_mode": "zeros", "dilation": 1,
        "groups": 1, "flip": False, "tile_bytes": None,
    }
    args.update(kw)
    plan = make_plan(x, w, **args)
    out = direct._run_rows(plan)
    return out[0] if plan.squeeze else out


def operands(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], dtype: Any = np.float32, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype))


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("padding", [0, 1, 2, "same", "full", [[2, 0], [0, 1]]])
def test_padding_forms_and_modes(mode: str, padding: Any) -> None:
    x, w = operands((3, 9, 8), (5, 3, 3, 3), seed=len(str(padding)))
    if mode != "zeros" and padding == "full":
        padding = 2
    kw = {"padding": padding, "padding_mode": mode}
    assert_close(rows_conv(x, w, **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("k", [(1, 1), (3, 3), (5, 5), (2, 4), (4, 1), (1, 6)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_shapes_and_dtypes(k: tuple[int, int], dtype: Any) -> None:
    x, w = operands((2, 11, 10), (6, 2, *k), dtype, seed=sum(k))
    out = rows_conv(x, w, padding="same")
    assert out.dtype == dtype
    assert_close(out, conv_ref(x, w, padding="same"))


@pytest.mark.parametrize("dilation", [2, [1, 3], [3, 2]])
def test_dilation(dilation: Any) -> None:
    x, w = operands((3, 14, 13), (4, 3, 3, 3), seed=1)
    kw = {"padding": "same", "dilation": dilation}
    assert_close(rows_conv(x, w, **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_groups(groups: int) -> None:
    x, w = operands((6, 10, 9), (12, 6 // groups, 3, 3), seed=groups)
    kw = {"padding": 1, "groups": groups}
    assert_close(rows_conv(x, w, **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((2, 30), (4, 2, 5)), ((2, 6, 7, 5), (4, 2, 3, 2, 3)), ((1, 4, 4, 4), (4, 1, 1, 1, 3))],
)
def test_one_and_three_spatial_axes(x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> None:
    x, w = operands(x_shape, w_shape, seed=len(x_shape))
    kw = {"padding": 1, "padding_mode": "reflect"}
    assert_close(rows_conv(x, w, **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("tile_bytes", [1, 3000, 20000, None])
def test_tile_budgets_agree(tile_bytes: Any) -> None:
    x, w = operands((3, 21, 17), (8, 3, 3, 3), seed=7)
    kw = {"padding": [[1, 2], [0, 1]], "tile_bytes": tile_bytes}
    assert_close(rows_conv(x, w, **kw), conv_ref(x, w, padding=[[1, 2], [0, 1]]))


def test_chooser_runs_it_for_few_channels_many_filters() -> None:
    x, w = operands((3, 40, 40), (16, 3, 5, 5))
    plan = make_plan(x, w, bias=None, stride=1, padding=2, padding_mode="zeros", dilation=1,
                     groups=1, flip=False, tile_bytes=None)
    assert conv_method(x, w, padding=2) == "direct"
    assert direct_variant(plan) == "rows"
    bias = np.arange(16, dtype=np.float32)
    assert_close(conv(x, w, padding=2, bias=bias), conv_ref(x, w, padding=2, bias=bias))
    assert conv_method(x, w, padding=2, stride=2) == "im2col"  # strided: not this path
    assert conv_method(np.zeros((16, 40, 40)), np.zeros((16, 16, 5, 5))) == "direct"
    plan16 = make_plan(np.zeros((16, 40, 40)), np.zeros((16, 16, 5, 5)), bias=None, stride=1,
                       padding=0, padding_mode="zeros", dilation=1, groups=1, flip=False,
                       tile_bytes=None)
    assert direct_variant(plan16) == "gemm"  # many channels: per-tap GEMMs


def test_memory_within_tile_budget() -> None:
    x, w = operands((3, 1024, 1024), (8, 3, 3, 3))
    scratch.clear()
    tracemalloc.start()
    try:
        out = rows_conv(x, w, padding=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the output, plus tiles within ROWS_TILE_BYTES (stacked rows, planes, wide accumulators)
    assert peak < out.nbytes + 3 * direct.ROWS_TILE_BYTES


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 10),
    cols=st.integers(1, 10),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    dil=st.integers(1, 2),
    cg=st.integers(1, 3),
    fg=st.integers(1, 5),
    groups=st.sampled_from([1, 2]),
    mode=st.sampled_from(PADDING_MODES),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_property_equals_oracle(
    data: st.DataObject, rows: int, cols: int, kh: int, kw: int, dil: int, cg: int, fg: int,
    groups: int, mode: str, dtype: Any,
) -> None:
    limit = 2 if mode == "zeros" else 1
    pads = [[data.draw(st.integers(0, limit)) for _ in range(2)] for _ in range(2)]
    side = (max(rows, 2, dil * (kh - 1) + 1 - sum(pads[0])),
            max(cols, 2, dil * (kw - 1) + 1 - sum(pads[1])))
    seed = data.draw(st.integers(0, 2**16))
    x, w = operands((cg * groups, *side), (fg * groups, cg, kh, kw), dtype, seed)
    kwargs = {"padding": pads, "padding_mode": mode, "dilation": dil, "groups": groups}
    assert_close(rows_conv(x, w, **kwargs), conv_ref(x, w, **kwargs))


@pytest.mark.parametrize("itemsize", [4, 8])
@pytest.mark.parametrize("length", [1, 15, 16, 17, 224 * 64, 512 * 120, 1000])
def test_wide_tiles_rows_are_an_odd_number_of_cache_lines_apart(length: int, itemsize: int) -> None:
    """Accumulator rows 4 KiB-aligned apart share their cache sets (GEMMs twice as slow)."""
    from server.core.methods.flat import spread_rows

    ld = spread_rows(length, itemsize)
    assert length <= ld < length + 2 * 64 // itemsize
    assert (ld * itemsize) % 64 == 0 and (ld * itemsize // 64) % 2 == 1
