"""pool / global_pool: against a naive-loop oracle, PyTorch, and the contract examples."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import (
    OutputSizeError,
    PaddingError,
    ParameterError,
    ShapeError,
    global_pool,
    pool,
)

EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "contract_examples.json").read_text()
)["examples"]


def contract_example(name: str) -> dict[str, Any]:
    return next(e for e in EXAMPLES if e["name"] == name)


def naive_pool(
    x: np.ndarray,
    mode: str,
    k: tuple[int, ...],
    s: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    d: tuple[int, ...],
    ceil_mode: bool,
    count_include_pad: bool,
) -> np.ndarray:
    """Obviously correct and slow: every output cell, every tap, by hand (PyTorch's rules)."""
    channels, *spatial = x.shape
    nd = len(spatial)
    out_shape = []
    for a in range(nd):
        span = spatial[a] + pads[a][0] + pads[a][1] - d[a] * (k[a] - 1) - 1
        o = (math.ceil(span / s[a]) if ceil_mode else span // s[a]) + 1
        if ceil_mode and (o - 1) * s[a] >= spatial[a] + pads[a][0]:
            o -= 1  # the last window must start inside the input or its left padding
        out_shape.append(o)
    out = np.zeros((channels, *out_shape))
    for c in range(channels):
        for pos in itertools.product(*(range(o) for o in out_shape)):
            values, in_padded = [], 0
            for tap in itertools.product(*(range(kk) for kk in k)):
                idx = [pos[a] * s[a] - pads[a][0] + tap[a] * d[a] for a in range(nd)]
                if all(0 <= idx[a] < spatial[a] for a in range(nd)):
                    values.append(float(x[(c, *idx)]))
                if all(-pads[a][0] <= idx[a] < spatial[a] + pads[a][1] for a in range(nd)):
                    in_padded += 1
            if mode == "max":
                out[(c, *pos)] = max(values) if values else -math.inf
            else:
                out[(c, *pos)] = sum(values) / (in_padded if count_include_pad else len(values))
    return out


def torch_pool(x: np.ndarray, mode: str, k, s, p, d, ceil_mode, count_include_pad):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))[None]
    nd = x.ndim - 1
    if mode == "max":
        fn = getattr(functional, f"max_pool{nd}d")
        return fn(t, k, s, p, d, ceil_mode=ceil_mode)[0].numpy()
    fn = getattr(functional, f"avg_pool{nd}d")
    return fn(t, k, s, p, ceil_mode=ceil_mode, count_include_pad=count_include_pad)[0].numpy()


def assert_close(actual: np.ndarray, reference: np.ndarray) -> None:
    assert actual.shape == reference.shape
    finite = np.isfinite(reference)
    tol = 1e-5 * (np.abs(reference[finite]).max(initial=0)) + 1e-6
    np.testing.assert_allclose(actual, reference, rtol=0, atol=tol)


CASES = [
    # mode, spatial, kernel, stride, padding, dilation, ceil_mode, count_include_pad
    ("max", (7,), (2,), (2,), (0,), (1,), False, True),
    ("max", (7,), (3,), (2,), (1,), (2,), True, True),
    ("avg", (8,), (3,), (1,), (1,), (1,), False, False),
    ("avg", (5,), (2,), (2,), (1,), (1,), True, True),
    ("max", (5, 5), (2, 2), (2, 2), (0, 0), (1, 1), True, True),
    ("max", (6, 7), (3, 3), (2, 2), (1, 1), (1, 1), False, True),
    ("max", (6, 7), (3, 2), (2, 1), (1, 0), (2, 1), True, True),
    ("max", (9, 9), (3, 3), (3, 3), (1, 1), (2, 2), True, True),
    ("avg", (6, 7), (3, 3), (2, 2), (1, 1), (1, 1), False, True),
    ("avg", (6, 7), (3, 3), (2, 2), (1, 1), (1, 1), True, False),
    ("avg", (5, 6), (4, 2), (3, 2), (2, 1), (1, 1), True, True),
    ("avg", (4, 4), (1, 1), (1, 1), (0, 0), (1, 1), False, True),
    ("max", (4, 5, 6), (2, 2, 3), (2, 1, 2), (1, 0, 1), (1, 1, 1), True, True),
    ("max", (5, 5, 5), (2, 2, 2), (2, 2, 2), (0, 0, 0), (2, 1, 2), False, True),
    ("avg", (4, 5, 6), (2, 3, 3), (2, 2, 2), (1, 1, 0), (1, 1, 1), True, False),
    ("avg", (4, 5, 6), (2, 3, 3), (1, 2, 3), (1, 1, 1), (1, 1, 1), False, True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{len(c[1])}d-{c[1:]}")
def test_pool_matches_naive_oracle_and_torch(case: tuple[Any, ...]) -> None:
    mode, spatial, k, s, p, d, ceil_mode, cip = case
    x = np.random.default_rng(len(spatial) * 31 + sum(k)).standard_normal((2, *spatial))
    pads = tuple((q, q) for q in p)
    out = pool(x, mode=mode, kernel_size=k, stride=s, padding=list(p), dilation=d,
               ceil_mode=ceil_mode, count_include_pad=cip)
    assert_close(out, naive_pool(x, mode, k, s, pads, d, ceil_mode, cip))
    try:
        reference = torch_pool(x, mode, k, s, p, d, ceil_mode, cip)
    except RuntimeError:  # avg_pool3d refuses inputs smaller than the kernel before padding
        return
    assert_close(out, reference)


@settings(max_examples=60, deadline=None)
@given(
    nd=st.integers(1, 3),
    data=st.data(),
    mode=st.sampled_from(["max", "avg"]),
    ceil_mode=st.booleans(),
    cip=st.booleans(),
)
def test_pool_property_matches_naive_oracle(
    nd: int, data: st.DataObject, mode: str, ceil_mode: bool, cip: bool
) -> None:
    spatial = tuple(data.draw(st.lists(st.integers(1, 6), min_size=nd, max_size=nd)))
    k = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    s = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    d = (
        tuple(data.draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
        if mode == "max" else (1,) * nd
    )
    pads = tuple(
        (data.draw(st.integers(0, kk // 2)), data.draw(st.integers(0, kk // 2))) for kk in k
    )
    x = np.random.default_rng(0).standard_normal((2, *spatial))
    try:
        reference = naive_pool(x, mode, k, s, pads, d, ceil_mode, cip)
    except ValueError:  # max() of an empty window: the oracle's size was < 1
        reference = None
    if reference is None or 0 in reference.shape:
        with pytest.raises(OutputSizeError):
            pool(x, mode=mode, kernel_size=k, stride=s, padding=[list(p) for p in pads],
                 dilation=d, ceil_mode=ceil_mode, count_include_pad=cip)
        return
    out = pool(x, mode=mode, kernel_size=k, stride=s, padding=[list(p) for p in pads],
               dilation=d, ceil_mode=ceil_mode, count_include_pad=cip)
    assert_close(out, reference)


@pytest.mark.parametrize("name", ["maxpool-ceil", "avgpool-pad-exclude"])
def test_pool_contract_example(name: str) -> None:
    example = contract_example(name)
    request = dict(example["request"])
    x = np.asarray(request.pop("input"))
    out = pool(x, **request)
    expected = np.asarray(example["response_includes"]["output"])
    assert list(out.shape) == example["response_includes"]["shape"]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "expected"),
    [
        (5, 2, 2, 0, 3),  # the partial window [4] is kept
        (4, 2, 2, 0, 2),  # nothing partial: ceil changes nothing
        (4, 2, 2, 1, 3),  # last window starts at 4 (< n + p = 5): kept
        (5, 3, 2, 1, 3),  # ceil would give 4, but that window starts in the right padding
        (6, 3, 3, 1, 3),  # likewise: 3 not 3+1
        (1, 1, 2, 0, 1),
        (7, 2, 3, 0, 3),  # stride > kernel: the last window [6, 7] hangs past the input
    ],
)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_ceil_mode_edge_cases(n: int, k: int, s: int, p: int, expected: int,
                                   mode: str) -> None:
    x = np.arange(float(n))[None] - 2.5
    out = pool(x, mode=mode, kernel_size=k, stride=s, padding=p, ceil_mode=True)
    assert out.shape == (1, expected)
    assert_close(out, naive_pool(x, mode, (k,), (s,), ((p, p),), (1,), True, True))
    try:
        reference = torch_pool(x, mode, k, s, p, 1, True, True)
    except RuntimeError:
        return
    assert_close(out, reference)


def test_pool_ceil_mode_avg_divisor_excludes_overhang() -> None:
    # window [4, 5] of a length-5 input hangs one tap past the end: PyTorch divides by 1
    out = pool(np.array([[1.0, 2.0, 3.0, 4.0, 10.0]]), mode="avg", kernel_size=2,
               ceil_mode=True)
    np.testing.assert_allclose(out, [[1.5, 3.5, 10.0]])


def test_pool_max_padding_never_wins() -> None:
    x = -np.ones((1, 3, 3))
    out = pool(x, mode="max", kernel_size=3, stride=1, padding=1)
    np.testing.assert_array_equal(out, -np.ones((1, 3, 3)))


def test_pool_avg_count_include_pad_counts_zeros() -> None:
    x = np.ones((1, 2, 2))
    with_pad = pool(x, mode="avg", kernel_size=2, stride=2, padding=1)
    without = pool(x, mode="avg", kernel_size=2, stride=2, padding=1, count_include_pad=False)
    np.testing.assert_allclose(with_pad, np.full((1, 2, 2), 0.25))
    np.testing.assert_allclose(without, np.ones((1, 2, 2)))


def test_pool_max_propagates_nan() -> None:
    x = np.array([[1.0, np.nan, 3.0, 4.0]])
    out = pool(x, mode="max", kernel_size=2)
    assert np.isnan(out[0, 0]) and out[0, 1] == 4.0


def test_pool_stride_defaults_to_kernel() -> None:
    x = np.arange(36.0).reshape(1, 6, 6)
    np.testing.assert_array_equal(
        pool(x, mode="max", kernel_size=3), pool(x, mode="max", kernel_size=3, stride=3)
    )


def test_pool_padding_same_keeps_ceil_size() -> None:
    out = pool(np.ones((1, 7, 5)), mode="max", kernel_size=2, stride=2, padding="same")
    assert out.shape == (1, 4, 3)


@pytest.mark.parametrize(
    ("shape", "kernel_size", "read_as", "out_shape"),
    [
        ((6, 6), [2, 2], (1, 6, 6), (3, 3)),  # as many axes as the kernel: no channel axis
        ((3, 6, 6), [2, 2], (3, 6, 6), (3, 3, 3)),  # one more: channels first
        ((3, 6, 6), 2, (3, 6, 6), (3, 3, 3)),  # int kernel: the first axis is the channels
        ((4, 6), 2, (4, 6), (4, 3)),  # int kernel on 2-D: 4 channels of 1-D signals
        ((6,), 2, (1, 6), (3,)),  # 1-D: one channel-less signal
        ((6,), [2], (1, 6), (3,)),
        ((2, 4, 4, 4), 2, (2, 4, 4, 4), (2, 2, 2, 2)),
        ((4, 4, 4), [2, 2, 2], (1, 4, 4, 4), (2, 2, 2)),
    ],
)
def test_pool_reads_channel_axis(shape: tuple[int, ...], kernel_size: Any,
                                 read_as: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(1).standard_normal(shape)
    out = pool(x, mode="max", kernel_size=kernel_size)
    assert out.shape == out_shape
    nd = len(read_as) - 1
    k = (2,) * nd
    reference = naive_pool(x.reshape(read_as), "max", k, k, ((0, 0),) * nd, (1,) * nd,
                           False, True)
    assert_close(out.reshape(reference.shape), reference)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.uint8, np.float64),
     (np.int64, np.float64), (np.bool_, np.float64)],
)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_dtype(dtype: Any, expected: Any, mode: str) -> None:
    x = (np.arange(16).reshape(1, 4, 4) % 3).astype(dtype)
    assert pool(x, mode=mode, kernel_size=2).dtype == expected
    assert global_pool(x, mode).dtype == expected


def test_pool_does_not_modify_a_read_only_input() -> None:
    x = np.arange(25.0).reshape(1, 5, 5)
    x.setflags(write=False)
    before = x.copy()
    for mode in ("max", "avg"):
        pool(x, mode=mode, kernel_size=1)
        pool(x, mode=mode, kernel_size=2, stride=1)
    np.testing.assert_array_equal(x, before)


def test_pool_kernel_one_is_identity() -> None:
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    for mode in ("max", "avg"):
        out = pool(x, mode=mode, kernel_size=1)
        np.testing.assert_array_equal(out, x)
        assert not np.shares_memory(out, x)


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(2, 9), w=st.integers(2, 9), k=st.integers(1, 3), s=st.integers(1, 3),
    value=st.floats(-1e3, 1e3, allow_nan=False),
)
def test_pool_of_a_constant_is_the_constant(h: int, w: int, k: int, s: int,
                                            value: float) -> None:
    x = np.full((2, h, w), value)
    p = k // 2
    for mode in ("max", "avg"):
        out = pool(x, mode=mode, kernel_size=k, stride=s, padding=p, ceil_mode=True,
                   count_include_pad=False)
        np.testing.assert_allclose(out, value, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(2, 9), w=st.integers(2, 9), k=st.integers(1, 3), s=st.integers(1, 3))
def test_pool_max_bounds_avg_without_padding(h: int, w: int, k: int, s: int) -> None:
    x = np.random.default_rng(h * 10 + w).standard_normal((2, h, w))
    if k > min(h, w):
        return
    mx = pool(x, mode="max", kernel_size=k, stride=s)
    avg = pool(x, mode="avg", kernel_size=k, stride=s)
    assert np.all(mx >= avg - 1e-12)


def _python_calls(function: Any, *args: Any, **kwargs: Any) -> int:
    """How many Python and C function calls ``function(*args, **kwargs)`` makes."""
    import sys

    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        function(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("kwargs", [{"mode": "max", "kernel_size": 3, "stride": 2, "padding": 1},
                                    {"mode": "avg", "kernel_size": 2}])
def test_pool_large_input_is_vectorized(kwargs: dict[str, Any]) -> None:
    # a loop over cells calls Python per cell (a million here); a vectorized pool makes the same
    # few calls whatever the input size (the speed itself is measured in bench/bench_core.py)
    small = np.random.default_rng(3).standard_normal((1, 8, 8)).astype(np.float32)
    large = np.random.default_rng(3).standard_normal((16, 256, 256)).astype(np.float32)
    pool(small, **kwargs)  # first-call caches out of the count
    few = _python_calls(pool, small, **kwargs)
    assert few < 1000
    assert _python_calls(pool, large, **kwargs) <= few
    np.testing.assert_array_equal(pool(large, **kwargs)[3], pool(large[3:4], **kwargs)[0])


def test_global_pool_matches_numpy() -> None:
    x = np.random.default_rng(4).standard_normal((3, 4, 5, 2))
    np.testing.assert_allclose(global_pool(x, "max"), x.reshape(3, -1).max(axis=1))
    np.testing.assert_allclose(global_pool(x, "avg"), x.reshape(3, -1).mean(axis=1))
    assert global_pool(x[:, :, 0, 0], "avg").shape == (3,)


# --- one test per error ---------------------------------------------------------------------


def test_pool_rejects_unknown_mode() -> None:
    with pytest.raises(ParameterError, match="`mode`") as err:
        pool(np.ones((1, 4, 4)), mode="min", kernel_size=2)
    assert err.value.param == "mode"


def test_pool_rejects_zero_kernel_size() -> None:
    with pytest.raises(ParameterError, match="`kernel_size` must be >= 1, got 0") as err:
        pool(np.ones((1, 4, 4)), mode="max", kernel_size=0)
    assert err.value.param == "kernel_size"


def test_pool_rejects_zero_stride() -> None:
    with pytest.raises(ParameterError, match="`stride` must be >= 1, got 0 on axis 1"):
        pool(np.ones((1, 4, 4)), mode="max", kernel_size=2, stride=[1, 0])


def test_pool_rejects_zero_dilation() -> None:
    with pytest.raises(ParameterError, match="`dilation`"):
        pool(np.ones((1, 4, 4)), mode="max", kernel_size=2, dilation=0)


def test_pool_rejects_dilation_for_avg() -> None:
    with pytest.raises(ParameterError, match="only defined for max pooling") as err:
        pool(np.ones((1, 6, 6)), mode="avg", kernel_size=2, dilation=2)
    assert err.value.param == "dilation"
    assert err.value.suggestion == {"dilation": 1}


def test_pool_rejects_padding_over_half_the_kernel() -> None:
    with pytest.raises(PaddingError, match="more than half the pooling window") as err:
        pool(np.ones((1, 6, 6)), mode="max", kernel_size=3, padding=2)
    assert err.value.param == "padding"
    assert err.value.suggestion == {"padding": 1}


def test_pool_rejects_negative_padding() -> None:
    with pytest.raises(ParameterError, match="`padding` must be >= 0"):
        pool(np.ones((1, 6, 6)), mode="max", kernel_size=3, padding=-1)


def test_pool_rejects_empty_output() -> None:
    with pytest.raises(OutputSizeError, match="axis 1") as err:
        pool(np.ones((1, 6, 2)), mode="max", kernel_size=3)
    assert err.value.axis == 1


def test_pool_rejects_input_of_wrong_rank() -> None:
    with pytest.raises(ShapeError, match=r"\(2, 3, 4, 5\)") as err:
        pool(np.ones((2, 3, 4, 5)), mode="max", kernel_size=[2, 2])
    assert err.value.param == "input"


def test_pool_rejects_too_many_spatial_axes() -> None:
    with pytest.raises(ShapeError, match="1 to 3 spatial axes"):
        pool(np.ones((1, 2, 2, 2, 2)), mode="max", kernel_size=1)


def test_pool_rejects_kernel_size_of_wrong_form() -> None:
    with pytest.raises(ParameterError, match="`kernel_size`"):
        pool(np.ones((1, 4, 4)), mode="max", kernel_size="2")


def test_pool_rejects_non_numeric_input() -> None:
    with pytest.raises(ParameterError, match="real numbers"):
        pool(np.array([["a", "b"]]), mode="max", kernel_size=1)


def test_pool_rejects_empty_input() -> None:
    with pytest.raises(ShapeError, match="at least one element"):
        pool(np.ones((1, 0, 4)), mode="max", kernel_size=1)


@pytest.mark.parametrize("name", ["ceil_mode", "count_include_pad"])
def test_pool_rejects_non_boolean_flags(name: str) -> None:
    with pytest.raises(ParameterError, match=f"`{name}` must be true or false") as err:
        pool(np.ones((1, 4, 4)), mode="avg", kernel_size=2, **{name: "false"})
    assert err.value.param == name


def test_global_pool_rejects_unknown_mode() -> None:
    with pytest.raises(ParameterError, match="`mode`"):
        global_pool(np.ones((2, 3, 3)), "sum")


def test_global_pool_rejects_input_without_spatial_axes() -> None:
    with pytest.raises(ShapeError, match="1 to 3 spatial axes"):
        global_pool(np.ones(3), "max")
