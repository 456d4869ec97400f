"""`conv_transpose` against the scatter oracle, PyTorch, and its adjoint relation to `conv`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from oracle import conv_transpose_ref

from server.core import conv, conv_transpose, conv_transpose_shape


def assert_close(out: np.ndarray, ref: np.ndarray) -> None:
    assert out.shape == ref.shape
    tol = 1e-5 * float(np.max(np.abs(ref), initial=0.0)) + 1e-6
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)


SPATIAL = {1: (6,), 2: (4, 5), 3: (3, 4, 3)}
KERNEL = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": 2},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": 3, "dilation": 2, "output_padding": 2},
        {"dilation": 2, "padding": 2, "output_padding": 1},
        {"groups": 2, "stride": 2, "padding": 1},
        {"stride": "per_axis", "padding": "per_axis", "output_padding": "per_axis"},
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "defaults",
)
def test_conv_transpose_matches_oracle(nd: int, kw: dict[str, Any]) -> None:
    kw = dict(kw)
    if kw.get("stride") == "per_axis":
        kw = {"stride": [2, 1, 3][:nd], "padding": [0, 1, 1][:nd], "output_padding": [1, 0, 2][:nd]}
    groups = kw.get("groups", 1)
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((4, *SPATIAL[nd]))
    w = rng.standard_normal((4, 3, *KERNEL[nd]))
    bias = rng.standard_normal(3 * groups)
    out = conv_transpose(x, w, bias=bias, **kw)
    assert_close(out, conv_transpose_ref(x, w, bias=bias, **kw))


def test_conv_transpose_float32_stays_float32() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    out = conv_transpose(x, w, stride=2)
    assert out.dtype == np.float32
    assert_close(out, conv_transpose_ref(x, w, stride=2))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_shorthand_same_rank(nd: int) -> None:
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal(SPATIAL[nd]), rng.standard_normal(KERNEL[nd])
    out = conv_transpose(x, w, stride=2, bias=1.5)
    assert_close(out, conv_transpose_ref(x[None], w[None, None], stride=2, bias=[1.5])[0])


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (3, 2, 2)])
def test_conv_transpose_is_adjoint_of_conv(stride: int, padding: int, dilation: int) -> None:
    # <conv(x, w), y> == <x, conv_transpose(y, w)> for the same stride, padding and dilation
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 11, 10))
    w = rng.standard_normal((4, 3, 3, 3))
    y = rng.standard_normal(conv(x, w, stride=stride, padding=padding, dilation=dilation).shape)
    back = conv_transpose(y, w, stride=stride, padding=padding, dilation=dilation)
    extra = [n - m for n, m in zip(x.shape[1:], back.shape[1:], strict=True)]
    back = conv_transpose(
        y, w, stride=stride, padding=padding, dilation=dilation, output_padding=extra
    )
    lhs = float(np.sum(conv(x, w, stride=stride, padding=padding, dilation=dilation) * y))
    assert lhs == pytest.approx(float(np.sum(x * back)), rel=1e-10)


def test_conv_transpose_shape_formula() -> None:
    assert conv_transpose_shape((4, 5), (3, 3), stride=2, padding=1, output_padding=1) == (8, 10)
    assert conv_transpose_shape((7,), (5,), dilation=3) == (19,)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(("stride", "dilation", "groups"), [(1, 1, 1), (2, 1, 2), (3, 2, 4)])
def test_conv_transpose_matches_torch(nd: int, stride: int, dilation: int, groups: int) -> None:
    torch = pytest.importorskip("torch")
    fn = {
        1: torch.nn.functional.conv_transpose1d,
        2: torch.nn.functional.conv_transpose2d,
        3: torch.nn.functional.conv_transpose3d,
    }[nd]
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, *((6,) * nd))).astype(np.float32)
    w = rng.standard_normal((4, 2, *((3,) * nd))).astype(np.float32)
    b = rng.standard_normal(2 * groups).astype(np.float32)
    kw = {
        "stride": stride,
        "padding": 1,
        "output_padding": stride - 1,
        "dilation": dilation,
        "groups": groups,
    }
    ref = fn(torch.from_numpy(x[None]), torch.from_numpy(w), torch.from_numpy(b), **kw)[0]
    assert_close(conv_transpose(x, w, bias=b, **kw), ref.numpy().astype(np.float64))
