"""Winograd F(2x2, 3x3) (`server.core.methods.winograd`): against the naive-loop oracle over shapes,
paddings and modes, dtypes, ragged tiles and groups; a hypothesis property; the chooser; the
errors of forcing it where it cannot run; PyTorch when installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import conv_ref

from server.core import conv, conv_method
from server.core.errors import ParameterError
from server.core.methods import choose as _method
from server.core.methods import winograd as _winograd
from server.core.methods.plan import make_plan
from server.core.padding import PADDING_MODES


def assert_close(out: np.ndarray, ref: np.ndarray) -> None:
    """DESIGN §2: within 1e-5 * max|reference| + 1e-6."""
    assert out.shape == ref.shape
    tol = 1e-5 * float(np.max(np.abs(ref), initial=0.0)) + 1e-6
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)


def operands(
    channels: int,
    filters: int,
    side: tuple[int, int],
    groups: int = 1,
    dtype: Any = np.float64,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((channels, *side)).astype(dtype)
    w = rng.standard_normal((filters, channels // groups, 3, 3)).astype(dtype)
    return x, w


def plan_of(x: np.ndarray, w: np.ndarray, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "bias": None,
        "stride": 1,
        "padding": 0,
        "padding_mode": "zeros",
        "dilation": 1,
        "groups": 1,
        "flip": False,
        "tile_bytes": None,
    }
    args.update(kw)
    return make_plan(x, w, **args)


@pytest.mark.parametrize(
    "side", [(3, 3), (4, 4), (5, 7), (8, 6), (9, 9), (3, 12), (13, 4)]
)  # even and odd outputs: ragged last block row and column
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_winograd_matches_oracle_for_shape(side: tuple[int, int], dtype: Any) -> None:
    x, w = operands(3, 4, side, dtype=dtype, seed=sum(side))
    out = conv(x, w, method="winograd")
    assert out.dtype == dtype
    assert_close(out, conv_ref(x, w))


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("padding", [1, 2, "same", "full", [[2, 0], [1, 1]], [[0, 1], [2, 0]]])
def test_winograd_matches_oracle_for_padding(mode: str, padding: Any) -> None:
    x, w = operands(2, 3, (7, 6), seed=3)
    kw = {"padding": padding, "padding_mode": mode}
    assert_close(conv(x, w, method="winograd", **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_winograd_matches_oracle_for_groups(groups: int, dtype: Any) -> None:
    x, w = operands(4, 8, (6, 7), groups=groups, dtype=dtype, seed=groups)
    kw = {"groups": groups, "padding": 1}
    assert_close(conv(x, w, method="winograd", **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("tile_bytes", [1, 700, 5000, None])
@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_winograd_row_tiles_agree_with_one_tile(tile_bytes: Any, mode: str) -> None:
    """Any tile budget (down to one block row per tile) gives the oracle's result."""
    x, w = operands(3, 2, (11, 10), seed=9)
    kw = {"padding": 1, "padding_mode": mode}
    out = conv(x, w, method="winograd", tile_bytes=tile_bytes, **kw)
    assert_close(out, conv_ref(x, w, **kw))


def test_winograd_bias_flip_and_shorthand() -> None:
    x, w = operands(1, 1, (8, 9), seed=4)
    bias = np.array([0.5])
    kw = {"bias": bias, "flip": True, "padding": "same"}
    assert_close(conv(x, w, method="winograd", **kw), conv_ref(x, w, **kw))
    out = conv(x[0], w[0, 0], method="winograd")  # no channel axis
    assert_close(out, conv_ref(x, w)[0])


def test_winograd_integer_inputs_run_in_float64() -> None:
    x = np.arange(2 * 6 * 5).reshape(2, 6, 5)
    w = np.arange(3 * 2 * 9).reshape(3, 2, 3, 3) % 5 - 2
    out = conv(x, w, method="winograd", padding=1)
    assert out.dtype == np.float64
    assert_close(out, conv_ref(x, w, padding=1))


def test_winograd_float32_many_channels_within_contract() -> None:
    """Float32 with many channels (long sums) stays within 1e-5 of a float64 reference."""
    x, w = operands(64, 8, (20, 19), dtype=np.float32, seed=11)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    for padding in (0, 1):
        ref = conv(x64, w64, padding=padding, method="im2col")
        assert_close(conv(x, w, method="winograd", padding=padding), ref)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    cg=st.integers(1, 3),
    fg=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    mode=st.sampled_from(PADDING_MODES),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_winograd_property_equals_oracle(
    data: st.DataObject,
    rows: int,
    cols: int,
    cg: int,
    fg: int,
    groups: int,
    mode: str,
    dtype: Any,
) -> None:
    """Any output size, padding (as pairs, within what the mode allows) and group split."""
    limit = 2 if mode == "zeros" else 1  # reflect/circular pad less than the side (>= 2 here)
    pads = [[data.draw(st.integers(0, limit)) for _ in range(2)] for _ in range(2)]
    side = (rows + 2 - sum(pads[0]), cols + 2 - sum(pads[1]))
    if min(side) < 2:
        side = (max(side[0], 2), max(side[1], 2))
    seed = data.draw(st.integers(0, 2**16))
    x, w = operands(cg * groups, fg * groups, side, groups=groups, dtype=dtype, seed=seed)
    kw = {"padding": pads, "padding_mode": mode, "groups": groups}
    assert_close(conv(x, w, method="winograd", **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw", "why"),
    [
        ((2, 9, 9), (1, 2, 3, 3), {"stride": 2}, "stride 1"),
        ((2, 9, 9), (1, 2, 3, 3), {"dilation": [1, 2]}, "dilation 1"),
        ((2, 9, 9), (1, 2, 5, 5), {}, "3x3 kernel"),
        ((2, 9, 9), (1, 2, 3, 2), {}, "3x3 kernel"),
        ((2, 9), (1, 2, 3), {}, "2 spatial axes"),
        ((2, 5, 5, 5), (1, 2, 3, 3, 3), {}, "2 spatial axes"),
    ],
)
def test_winograd_forced_where_it_cannot_run_raises(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], kw: Any, why: str
) -> None:
    x, w = np.ones(x_shape), np.ones(w_shape)
    with pytest.raises(ParameterError, match=f'"winograd" cannot run.*{why}') as err:
        conv(x, w, method="winograd", **kw)
    assert err.value.param == "method"
    assert err.value.suggestion == {"method": "auto"}
    conv(x, w, **kw)  # the automatic choice still runs it


def test_winograd_kernel_transform_is_g_g_gt() -> None:
    w = np.random.default_rng(1).standard_normal((2, 3, 3, 3))
    g = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    u = _winograd.kernel_transform(w)
    assert u.shape == (16, 2, 3)
    np.testing.assert_allclose(u[:, 1, 2].reshape(4, 4), g @ w[1, 2] @ g.T, rtol=1e-12)


def test_winograd_memory_stays_within_tile_budget() -> None:
    """The tile height follows the budget: one block row at a tiny budget, all rows at a big one."""
    x, w = operands(4, 4, (40, 30), dtype=np.float32)
    wb = -(-28 // 2) + 1
    assert _winograd.tile_block_rows(plan_of(x, w, tile_bytes=1), wb) == 1
    assert _winograd.tile_block_rows(plan_of(x, w), wb) == 19


def test_chooser_leaves_winograd_to_callers_who_force_it() -> None:
    """Measured (bench/README.md, "Winograd"): on the 64x64 bench shape it is about 10% slower
    than shift-and-add on one thread and 30-60% slower on two (its transforms are NumPy passes
    on one thread), so `choose` never picks it (F(4x4, 3x3), "winograd4", runs that shape);
    `method="winograd"` still runs it."""
    x = np.zeros((64, 128, 128), np.float32)
    w = np.zeros((64, 64, 3, 3), np.float32)
    assert "winograd" in _method.METHODS
    assert conv_method(x, w) == "winograd4"
    assert conv_method(x[:8, :16, :16], w[:8, :8]) != "winograd"
    assert conv_method(np.zeros((128, 64, 64)), np.zeros((128, 128, 3, 3))) != "winograd"
    assert conv(x[:2, :5, :5], w[:1, :2], method="winograd").shape == (1, 3, 3)


def test_winograd_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x, w = operands(16, 24, (33, 30), dtype=np.float32, seed=5)
    for padding in (0, 1):
        ours = conv(x, w, method="winograd", padding=padding)
        with torch.no_grad():
            ref = torch.nn.functional.conv2d(
                torch.from_numpy(x[None]), torch.from_numpy(w), padding=padding
            )[0].numpy()
        assert np.max(np.abs(ours - ref)) <= 1e-5 * np.max(np.abs(ref))
