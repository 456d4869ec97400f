"""`conv` against the naive-loop oracle over every parameter form, against PyTorch, and on the
contract examples of DESIGN §3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from oracle import conv_ref

from server.core import conv, conv_method
from server.core.padding import PADDING_MODES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contract_examples.json"
METHODS = ("direct", "im2col", "fft")

# per spatial rank: input spatial shape, kernel shape (small: the oracle is a Python loop)
SHAPES = {1: ((11,), (3,)), 2: ((7, 8), (3, 2)), 3: ((5, 4, 6), (2, 3, 2))}


def assert_close(out: np.ndarray, ref: np.ndarray) -> None:
    """DESIGN §2: within 1e-5 * max|reference| + 1e-6."""
    assert out.shape == ref.shape
    tol = 1e-5 * float(np.max(np.abs(ref), initial=0.0)) + 1e-6
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)


def operands(
    nd: int,
    channels: int = 2,
    filters: int = 3,
    groups: int = 1,
    seed: int = 0,
    dtype: Any = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spatial, kernel = SHAPES[nd]
    x = rng.standard_normal((channels, *spatial)).astype(dtype)
    w = rng.standard_normal((filters, channels // groups, *kernel)).astype(dtype)
    return x, w


def check(x: np.ndarray, w: np.ndarray, **kw: Any) -> None:
    ref = conv_ref(x, w, **kw)
    for method in ("auto", *METHODS):
        assert_close(conv(x, w, method=method, **kw), ref)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(
    "padding",
    [0, 2, "valid", "same", "full", "per_axis", "pairs"],
)
def test_conv_matches_oracle_for_padding_form(nd: int, padding: Any) -> None:
    if padding == "per_axis":
        padding = [1, 0, 2][:nd]
    elif padding == "pairs":
        padding = [[1, 0], [0, 2], [2, 1]][:nd]
    x, w = operands(nd)
    check(x, w, padding=padding, stride=2 if padding == "same" else 1)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("padding", [1, "pairs", "same"])
def test_conv_matches_oracle_for_padding_mode(nd: int, mode: str, padding: Any) -> None:
    if padding == "pairs":
        padding = [[2, 0], [1, 1], [0, 1]][:nd]
    x, w = operands(nd, seed=1)
    check(x, w, padding=padding, padding_mode=mode)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, "per_axis"])
@pytest.mark.parametrize("dilation", [1, 2, "per_axis"])
def test_conv_matches_oracle_for_stride_and_dilation(nd: int, stride: Any, dilation: Any) -> None:
    stride = [2, 1, 3][:nd] if stride == "per_axis" else stride
    dilation = [1, 2, 1][:nd] if dilation == "per_axis" else dilation
    x, w = operands(nd, seed=2)
    check(x, w, stride=stride, dilation=dilation, padding=2)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(("channels", "filters", "groups"), [(4, 2, 2), (4, 6, 2), (3, 3, 3)])
def test_conv_matches_oracle_with_groups(nd: int, channels: int, filters: int, groups: int) -> None:
    x, w = operands(nd, channels, filters, groups, seed=3)
    check(x, w, groups=groups, padding=1)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_flip_is_true_convolution(nd: int) -> None:
    x, w = operands(nd, seed=4)
    check(x, w, flip=True, padding="full", bias=[0.5, -1.0, 2.0])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_adds_bias_per_filter(nd: int) -> None:
    x, w = operands(nd, seed=5)
    check(x, w, bias=np.array([1.0, -2.0, 3.5]))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "kw",
    [
        {"stride": [2, 3], "dilation": [2, 1], "padding": [[3, 1], [0, 2]]},
        {"stride": 3, "padding": "same", "padding_mode": "reflect"},
        {"groups": 2, "padding": "full", "padding_mode": "circular", "flip": True},
        {"dilation": 3, "padding": 3, "padding_mode": "replicate", "stride": 2},
    ],
)
@pytest.mark.parametrize("tile_bytes", [None, 1, 300])
def test_conv_methods_agree_for_any_tile_budget(method: str, kw: Any, tile_bytes: Any) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 13, 12))
    w = rng.standard_normal((4, 4 // kw.get("groups", 1), 3, 4))
    ref = conv_ref(x, w, **kw)
    assert_close(conv(x, w, method=method, tile_bytes=tile_bytes, **kw), ref)


@pytest.mark.parametrize("method", METHODS)
def test_conv_float32_in_float32_out(method: str) -> None:
    x, w = operands(2, channels=3, filters=4, seed=7, dtype=np.float32)
    out = conv(x, w, padding=1, method=method, bias=np.ones(4, np.float32))
    assert out.dtype == np.float32
    assert_close(out, conv_ref(x, w, padding=1, bias=np.ones(4)))


@pytest.mark.parametrize(
    ("xdtype", "wdtype", "expected"),
    [
        (np.uint8, np.float32, np.float32),
        (np.float32, np.float64, np.float64),
        (np.int64, np.int64, np.float64),
        (np.float16, np.float16, np.float64),
        (np.bool_, np.float32, np.float32),
    ],
)
def test_conv_result_dtype_follows_inputs(xdtype: Any, wdtype: Any, expected: Any) -> None:
    x = (np.arange(20).reshape(4, 5) % 3).astype(xdtype)
    w = np.array([[1, 0], [2, 1]]).astype(wdtype)
    out = conv(x, w)
    assert out.dtype == expected
    assert_close(out, conv_ref(x[None], w[None, None])[0])


def test_conv_accepts_nested_lists_and_noncontiguous_views() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 20, 18))[:, ::2, ::-3]
    w = np.asfortranarray(rng.standard_normal((2, 3, 3, 3)))
    assert_close(conv(x, w, padding=1), conv_ref(x, w, padding=1))
    assert_close(conv(x.tolist(), w.tolist(), padding=1), conv_ref(x, w, padding=1))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_shorthand_same_rank_has_no_channel_axes(nd: int) -> None:
    x, w = operands(nd, channels=1, filters=1, seed=9)
    out = conv(x[0], w[0, 0], padding=1, bias=0.5)
    assert out.shape == conv_ref(x, w, padding=1).shape[1:]
    assert_close(out, conv_ref(x, w, padding=1, bias=[0.5])[0])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_shorthand_input_without_channel_axis(nd: int) -> None:
    x, w = operands(nd, channels=1, filters=3, seed=10)
    assert_close(conv(x[0], w), conv_ref(x, w))


def test_conv_does_not_modify_its_arguments() -> None:
    x, w = operands(2, seed=11)
    bias = np.array([1.0, 2.0, 3.0])
    copies = (x.copy(), w.copy(), bias.copy())
    conv(x, w, bias=bias, flip=True, padding=1, padding_mode="reflect")
    for before, after in zip(copies, (x, w, bias), strict=True):
        np.testing.assert_array_equal(before, after)


def test_conv_large_kernel_picks_fft_and_matches() -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 40, 37)).astype(np.float32)
    w = rng.standard_normal((1, 1, 15, 15)).astype(np.float32)
    assert conv_method(x, w, padding=7) == "fft"
    ref = conv(x.astype(np.float64), w.astype(np.float64), padding=7, method="im2col")
    assert_close(conv(x, w, padding=7), ref)


def test_conv_method_names_the_chooser_pick() -> None:
    x = np.zeros((3, 32, 32), np.float32)
    assert conv_method(x, np.zeros((1, 3, 3, 3))) == "direct"
    # stride 1, few channels: shift-and-add by kernel rows beats im2col (choose.ROWS_*)
    assert conv_method(x, np.zeros((16, 3, 3, 3))) == "direct"
    assert conv_method(x, np.zeros((16, 3, 3, 3)), stride=2) == "im2col"
    assert conv_method(np.zeros((16, 32, 32)), np.zeros((64, 16, 3, 3))) == "im2col"


# ---- PyTorch as an extra, independent check ----------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize(
    ("stride", "dilation", "groups"), [(1, 1, 1), (2, 1, 2), (1, 2, 4), (3, 2, 1)]
)
def test_conv_matches_torch(nd: int, mode: str, stride: int, dilation: int, groups: int) -> None:
    torch = pytest.importorskip("torch")
    fn = {
        1: torch.nn.functional.conv1d,
        2: torch.nn.functional.conv2d,
        3: torch.nn.functional.conv3d,
    }[nd]
    rng = np.random.default_rng(13)
    side = {1: (40,), 2: (23, 19), 3: (9, 8, 10)}[nd]
    x = rng.standard_normal((4, *side)).astype(np.float32)
    w = rng.standard_normal((8, 4 // groups, *((3,) * nd))).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    pad = 2
    xt = torch.from_numpy(x[None])
    if mode != "zeros":
        torch_mode = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}[mode]
        xt = torch.nn.functional.pad(xt, [pad] * (2 * nd), mode=torch_mode)
    ref = fn(
        xt,
        torch.from_numpy(w),
        torch.from_numpy(b),
        stride=stride,
        padding=0 if mode != "zeros" else pad,
        dilation=dilation,
        groups=groups,
    )[0].numpy()
    for method in ("auto", *METHODS):
        out = conv(
            x,
            w,
            bias=b,
            stride=stride,
            padding=pad,
            padding_mode=mode,
            dilation=dilation,
            groups=groups,
            method=method,
        )
        assert_close(out, ref.astype(np.float64))


# ---- DESIGN §3 contract examples, evaluated with the core directly ------------------------


def _conv_examples() -> list[Any]:
    examples = json.loads(FIXTURES.read_text())["examples"]
    return [e for e in examples if e["endpoint"] == "POST /api/conv"]


@pytest.mark.parametrize("example", _conv_examples(), ids=lambda e: e["name"])
def test_conv_reproduces_contract_example(example: Any) -> None:
    req = dict(example["request"])
    x, w = np.array(req.pop("input")), np.array(req.pop("kernel"))
    activation = req.pop("activation", None)
    out = conv(x, w, **req)
    if activation is not None:
        name = activation if isinstance(activation, str) else activation["name"]
        assert name == "relu"
        out = np.maximum(out, 0)
    expected = example["response_includes"]
    assert list(out.shape) == expected["shape"]
    assert_close(out, np.array(expected["output"], dtype=np.float64))


# ---- the pure-NumPy fallback (no reachable BLAS) and reused scratch buffers ---------------


@pytest.mark.parametrize("method", ["auto", "direct", "im2col"])
@pytest.mark.parametrize(("filters", "channels"), [(1, 1), (1, 3), (6, 2), (16, 3)])
def test_conv_numpy_fallback_matches_oracle(
    monkeypatch: pytest.MonkeyPatch, method: str, filters: int, channels: int
) -> None:
    from server.core.methods import blas as _blas

    monkeypatch.setattr(_blas, "available", lambda dtype: False)
    rng = np.random.default_rng(14)
    x = rng.standard_normal((channels, 9, 11))
    w = rng.standard_normal((filters, channels, 3, 2))
    kw = {"stride": [1, 2], "padding": [[1, 2], [0, 1]], "dilation": [2, 1]}
    assert_close(conv(x, w, method=method, tile_bytes=500, **kw), conv_ref(x, w, **kw))


def test_conv_reused_scratch_never_leaks_between_calls() -> None:
    # a big call leaves large buffers full of data; a smaller one of another layout reuses them
    from server.core.methods import scratch as _scratch

    rng = np.random.default_rng(15)
    big = rng.standard_normal((3, 40, 41)) * 1e30
    conv(big, rng.standard_normal((5, 3, 3, 3)), stride=2)
    x = rng.standard_normal((2, 7, 9))
    w = rng.standard_normal((4, 2, 2, 3))
    for method in METHODS:
        assert_close(conv(x, w, padding=1, method=method), conv_ref(x, w, padding=1))
    assert _scratch.cached_bytes() > 0
    _scratch.clear()
    assert _scratch.cached_bytes() == 0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_result_is_contiguous_and_independent_of_later_calls(method: str, nd: int) -> None:
    # web encoders (orjson) need C-contiguous arrays; scratch reuse must not alias results
    x, w = operands(nd, channels=3, filters=8, seed=16, dtype=np.float32)
    first = conv(x, w, padding=1, stride=2, method=method)
    assert first.flags.c_contiguous
    kept = first.copy()
    conv(x * 2, w, padding=1, stride=2, method=method)
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize("method", ["direct", "im2col"])
def test_conv_huge_stride_reads_only_the_phases_its_taps_use(method: str) -> None:
    # a stride far beyond the input gives one output and must not build one plane per phase
    x = np.arange(9.0).reshape(3, 3)
    out = conv(x, np.ones((2, 2)), stride=[10**9, 2**62], method=method)
    np.testing.assert_array_equal(out, [[8.0]])
