"""frames / pool_frames: invariants, agreement with conv and pool, pagination, the contract."""

from __future__ import annotations

import itertools
import json
import math
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import (
    FrameBatch,
    OutputSizeError,
    ParameterError,
    ShapeError,
    activate,
    conv,
    frames,
    pool,
    pool_frames,
)

EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "contract_examples.json").read_text()
)["examples"]
NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
FIELDS = ["index", "filter", "position", "origin", "patch", "products", "channel_sums", "bias",
          "value", "output"]


def naive_frame(x: np.ndarray, w: np.ndarray, bias: np.ndarray, f: int, pos: tuple[int, ...],
                *, stride: tuple[int, ...], pads: tuple[tuple[int, int], ...], mode: str,
                dilation: tuple[int, ...], groups: int, flip: bool) -> dict[str, Any]:
    """One frame by hand from the whole padded input (np.pad), tap by tap."""
    xp = np.pad(x, ((0, 0), *pads), mode=NUMPY_MODE[mode])  # type: ignore[call-overload]
    per_group, kernel = w.shape[1], w.shape[2:]
    group = f // (w.shape[0] // groups)
    wk = w[f][(slice(None),) + (slice(None, None, -1),) * len(kernel)] if flip else w[f]
    patch = np.zeros((per_group, *kernel))
    for c in range(per_group):
        for tap in itertools.product(*(range(k) for k in kernel)):
            idx = tuple(p * s + t * d for p, s, t, d in zip(pos, stride, tap, dilation,
                                                              strict=True))
            patch[(c, *tap)] = xp[(group * per_group + c, *idx)]
    products = patch * wk
    return {
        "origin": [p * s for p, s in zip(pos, stride, strict=True)],
        "patch": patch,
        "products": products,
        "channel_sums": products.reshape(per_group, -1).sum(axis=1),
        "value": float(bias[f] + products.sum()),
    }


def test_frames_contract_example_frames_page() -> None:
    example = next(e for e in EXAMPLES if e["name"] == "frames-page")
    request = dict(example["request"])
    x, w = request.pop("input"), request.pop("kernel")
    batch = frames(x, w, **request)
    expected = example["response_includes"]
    assert batch.total == expected["total"]
    got = batch.to_list()
    assert len(got) == len(expected["frames"])
    for frame, want in zip(got, expected["frames"], strict=True):
        for key, value in want.items():
            np.testing.assert_allclose(np.asarray(frame[key], float), np.asarray(value, float),
                                       rtol=1e-5, atol=1e-6, err_msg=key)


CONFIGS = [
    # x shape, w shape, stride, padding, mode, dilation, groups, flip
    ((2, 5, 6), (3, 2, 3, 3), 1, 1, "zeros", 1, 1, False),
    ((2, 5, 6), (3, 2, 3, 2), (2, 1), [[1, 2], [0, 1]], "zeros", 1, 1, True),
    ((2, 6, 6), (2, 2, 3, 3), 2, 2, "reflect", 2, 1, False),
    ((2, 5, 5), (4, 1, 3, 3), 1, "same", "replicate", 1, 2, False),
    ((4, 4, 5), (4, 1, 2, 3), 1, [1, 2], "circular", 1, 4, True),
    ((3, 7), (2, 3, 3), 2, "full", "zeros", 2, 1, True),
    ((1, 7), (1, 1, 4), 1, [[2, 1]], "reflect", 1, 1, False),
    ((2, 3, 4, 4), (2, 2, 2, 2, 3), (1, 2, 1), 1, "zeros", 1, 1, True),
    ((2, 3, 4, 4), (2, 1, 2, 3, 2), 1, [0, 1, 1], "replicate", (1, 1, 2), 2, False),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"x{c[0]}-w{c[1]}-{c[4]}")
def test_frames_match_naive_frames_and_conv(config: tuple[Any, ...]) -> None:
    xs, ws, stride, padding, mode, dilation, groups, flip = config
    rng = np.random.default_rng(sum(xs) * 13 + sum(ws))
    x, w = rng.integers(-3, 4, xs).astype(float), rng.integers(-3, 4, ws).astype(float)
    bias = rng.integers(-2, 3, ws[0]).astype(float)
    kw = dict(bias=bias, stride=stride, padding=padding, padding_mode=mode, dilation=dilation,
              groups=groups, flip=flip)
    out = conv(x, w, **kw)
    batch = frames(x, w, **kw, limit=10**6)
    assert batch.total == out.size == len(batch)
    assert batch.output_shape == out.shape[1:]
    np.testing.assert_array_equal(batch.index, np.arange(out.size))
    # filter-major, then row-major positions
    expected_positions = list(itertools.product(*(range(o) for o in out.shape[1:])))
    assert [tuple(p) for p in batch.position[: len(expected_positions)]] == expected_positions
    np.testing.assert_array_equal(batch.filter, np.repeat(np.arange(ws[0]),
                                                          len(expected_positions)))
    np.testing.assert_allclose(batch.value, out.reshape(-1), rtol=1e-12, atol=1e-12)
    nd = len(xs) - 1
    strides = stride if isinstance(stride, tuple) else (stride,) * nd
    dilations = dilation if isinstance(dilation, tuple) else (dilation,) * nd
    for i in range(0, len(batch), max(len(batch) // 7, 1)):
        want = naive_frame(x, w, bias, int(batch.filter[i]), tuple(batch.position[i]),
                           stride=strides, pads=batch.padding, mode=mode, dilation=dilations,
                           groups=groups, flip=flip)
        assert batch.origin[i].tolist() == want["origin"]
        np.testing.assert_array_equal(batch.patch[i], want["patch"])
        np.testing.assert_array_equal(batch.products[i], want["products"])
        np.testing.assert_allclose(batch.channel_sums[i], want["channel_sums"])
        assert batch.value[i] == pytest.approx(want["value"])


@settings(max_examples=40, deadline=None)
@given(
    nd=st.integers(1, 3), data=st.data(), mode=st.sampled_from(list(NUMPY_MODE)),
    flip=st.booleans(), groups=st.sampled_from([1, 2]),
)
def test_frames_property_invariants_and_conv(nd: int, data: st.DataObject, mode: str,
                                             flip: bool, groups: int) -> None:
    spatial = data.draw(st.lists(st.integers(2, 5), min_size=nd, max_size=nd))
    kernel = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    stride = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    pad = [data.draw(st.integers(0, min(k, n - 1))) for k, n in zip(kernel, spatial,
                                                                     strict=True)]
    rng = np.random.default_rng(sum(spatial) + 7 * sum(kernel))
    x = rng.standard_normal((2, *spatial))
    w = rng.standard_normal((2, 2 // groups, *kernel))
    bias = rng.standard_normal(2)
    kw = dict(bias=bias, stride=stride, padding=pad, padding_mode=mode, groups=groups,
              flip=flip)
    try:
        out = conv(x, w, **kw)
    except OutputSizeError:
        with pytest.raises(OutputSizeError):
            frames(x, w, **kw)
        return
    batch = frames(x, w, **kw, activation="tanh", limit=10**6)
    np.testing.assert_allclose(batch.value, batch.bias + batch.products.reshape(len(batch),
                                                                                -1).sum(1))
    np.testing.assert_allclose(batch.channel_sums.sum(1), batch.products.reshape(
        len(batch), -1).sum(1))
    np.testing.assert_array_equal(batch.origin, batch.position * np.asarray(stride))
    np.testing.assert_allclose(batch.value, out.reshape(-1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(batch.output, np.tanh(out.reshape(-1)), rtol=1e-10, atol=1e-10)
    assert batch.patch.shape == (len(batch), 2 // groups, *kernel)


def test_frames_pages_concatenate_to_the_whole() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    whole = frames(x, w, padding=1, limit=1000)
    seen = []
    for offset in range(0, whole.total, 7):
        page = frames(x, w, padding=1, offset=offset, limit=7)
        assert page.total == whole.total == 75
        seen.extend(page.index.tolist())
        np.testing.assert_array_equal(page.value, whole.value[offset:offset + 7])
    assert seen == list(range(75))


def test_frames_offset_past_the_end_gives_an_empty_page() -> None:
    batch = frames(np.ones((4, 4)), np.ones((3, 3)), offset=10)
    assert len(batch) == 0 and batch.total == 4 and batch.to_list() == []
    assert batch.patch.shape == (0, 1, 3, 3)


def test_frames_limit_zero_reports_only_the_total() -> None:
    batch = frames(np.ones((4, 4)), np.ones((3, 3)), limit=0)
    assert len(batch) == 0 and batch.total == 4


def test_frames_default_limit_is_100() -> None:
    assert len(frames(np.ones((20, 20)), np.ones((3, 3)))) == 100


def test_frames_positions_in_the_order_given() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 6, 6)), rng.standard_normal((2, 1, 3, 3))
    out = conv(x, w, stride=2, padding=1)
    batch = frames(x, w, stride=2, padding=1, positions=[[2, 1], [0, 0]])
    assert batch.total == 4
    assert batch.position.tolist() == [[2, 1], [0, 0], [2, 1], [0, 0]]
    assert batch.filter.tolist() == [0, 0, 1, 1]
    assert batch.index.tolist() == [7, 0, 16, 9]
    assert batch.origin.tolist() == [[4, 2], [0, 0], [4, 2], [0, 0]]
    np.testing.assert_allclose(batch.value, [out[0, 2, 1], out[0, 0, 0], out[1, 2, 1],
                                             out[1, 0, 0]])


def test_frames_positions_are_paginated_too() -> None:
    batch = frames(np.ones((5, 5)), np.ones((1, 1, 3, 3)), positions=[[0, 0], [1, 1], [2, 2]],
                   offset=1, limit=1)
    assert batch.total == 3 and batch.position.tolist() == [[1, 1]]


def test_frames_one_dimensional_positions_may_be_ints() -> None:
    batch = frames(np.arange(6.0), np.ones(2), positions=[4, 1])
    assert batch.position.tolist() == [[4], [1]]
    np.testing.assert_allclose(batch.value, [9.0, 3.0])


def test_frames_one_dimensional_positions_may_mix_ints_and_lists() -> None:
    batch = frames(np.arange(6.0), np.ones(2), positions=[[4], 1, np.int64(0)])
    assert batch.position.tolist() == [[4], [1], [0]]
    np.testing.assert_allclose(batch.value, [9.0, 3.0, 1.0])


@pytest.mark.parametrize("bad", [[True], [[1, 2]], [1.5], ["1"]])
def test_frames_rejects_one_dimensional_positions_of_other_kinds(bad: list) -> None:
    with pytest.raises(ParameterError, match="each an int"):
        frames(np.arange(6.0), np.ones(2), positions=bad)


def test_frames_filters_select_and_order() -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 4)), rng.standard_normal((3, 2, 2, 2))
    out = conv(x, w)
    batch = frames(x, w, filters=[2, 0], limit=100)
    assert batch.total == 18
    assert batch.filter.tolist() == [2] * 9 + [0] * 9
    np.testing.assert_allclose(batch.value, np.concatenate([out[2].ravel(), out[0].ravel()]))
    assert batch.index[0] == 18


def test_frames_groups_read_their_own_channels() -> None:
    x = np.stack([np.full((3, 3), 1.0), np.full((3, 3), 10.0), np.full((3, 3), 100.0),
                  np.full((3, 3), 1000.0)])
    w = np.ones((2, 2, 1, 1))
    batch = frames(x, w, groups=2, positions=[[0, 0]])
    assert batch.patch[:, :, 0, 0].tolist() == [[1.0, 10.0], [100.0, 1000.0]]
    assert batch.channel_sums.tolist() == [[1.0, 10.0], [100.0, 1000.0]]


def test_frames_flip_uses_the_flipped_kernel() -> None:
    x = np.arange(9.0).reshape(3, 3)
    w = np.arange(4.0).reshape(2, 2)
    batch = frames(x, w, flip=True, positions=[[0, 0]])
    np.testing.assert_array_equal(batch.products[0, 0], x[:2, :2] * w[::-1, ::-1])
    assert batch.value[0] == conv(x, w, flip=True)[0, 0]


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
def test_frames_padding_modes_fill_the_patch(mode: str) -> None:
    x = np.arange(1.0, 5.0)  # [1, 2, 3, 4]
    batch = frames(x, np.ones(3), padding=2, padding_mode=mode, positions=[0, 5])
    expected = {
        "zeros": [[0, 0, 1], [4, 0, 0]],
        "reflect": [[3, 2, 1], [4, 3, 2]],
        "replicate": [[1, 1, 1], [4, 4, 4]],
        "circular": [[3, 4, 1], [4, 1, 2]],
    }[mode]
    assert batch.patch[:, 0].tolist() == expected


def test_frames_shorthand_has_one_filter_and_channel() -> None:
    batch = frames(np.ones((4, 4)), np.ones((2, 2)), bias=0.5, limit=1)
    assert batch.filter.tolist() == [0]
    assert batch.patch.shape == (1, 1, 2, 2)
    assert batch.value.tolist() == [4.5]


def test_frames_grey_input_with_full_kernel() -> None:
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((5, 5)), rng.standard_normal((2, 1, 3, 3))
    batch = frames(x, w, limit=100)
    np.testing.assert_allclose(batch.value, conv(x, w).reshape(-1))


def test_frames_activation_with_params() -> None:
    x = np.array([[-4.0, 2.0]])
    batch = frames(x, np.ones((1, 1)), activation="leaky_relu",
                   activation_params={"negative_slope": 0.5})
    assert batch.output.tolist() == [-2.0, 2.0]
    np.testing.assert_array_equal(batch.output, activate(batch.value, "leaky_relu",
                                                         negative_slope=0.5))


def test_frames_float32_photo_computes_in_float64() -> None:
    x = np.random.default_rng(5).random((3, 9, 9)).astype(np.float32)
    w = np.ones((1, 3, 3, 3), np.float32)
    batch = frames(x, w, limit=3)
    assert batch.patch.dtype == np.float64 and batch.value.dtype == np.float64
    np.testing.assert_allclose(batch.value, conv(x, w).reshape(-1)[:3], rtol=1e-5)


def test_frames_to_list_is_plain_json() -> None:
    batch = frames(np.arange(16.0).reshape(4, 4), np.ones((1, 1, 3, 3)), bias=[1.0],
                   padding=1, limit=2, activation="relu")
    items = batch.to_list()
    assert [list(item) for item in items] == [FIELDS, FIELDS]
    text = json.dumps(items)
    assert json.loads(text) == items

    def plain(value: Any) -> bool:
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return type(value) in (int, float)

    for item in items:
        assert all(plain(item[k]) for k in FIELDS)
        assert type(item["index"]) is int and type(item["value"]) is float


def _page_peak(x: np.ndarray, w: np.ndarray, mode: str, offset: int) -> int:
    """Peak bytes allocated while one page of 100 frames is built and listed."""
    tracemalloc.start()
    try:
        frames(x, w, padding=1, padding_mode=mode, offset=offset, limit=100).to_list()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_frames_page_of_a_large_photo_costs_the_page_not_the_photo(mode: str) -> None:
    # a page reads its taps only: it allocates as much for a 2048x2048 photo as for a 64x64 one,
    # and far less than one copy of the photo (padding it, or a float64 cast, would be 50-100 MB);
    # the speed itself is measured in bench/bench_service.py (frames p50)
    w = np.ones((4, 3, 3, 3), np.float32)
    small = np.random.default_rng(6).random((3, 64, 64), dtype=np.float32)
    large = np.random.default_rng(6).random((3, 2048, 2048), dtype=np.float32)
    _page_peak(small, w, mode, 0)  # first-call caches out of the measure
    budget = max(_page_peak(small, w, mode, offset) for offset in (0, 4 * 64 * 64 - 100))
    for offset in (0, 7_000_000, 4 * 2048 * 2048 - 100):
        peak = _page_peak(large, w, mode, offset)
        assert peak < 2 * budget + 65_536, (offset, peak, budget)
        assert peak < large.nbytes // 40, (offset, peak)
    last = frames(large, w, padding=1, padding_mode=mode, offset=4 * 2048 * 2048 - 1, limit=1)
    patch = large[:, 2046:, 2046:]
    expected = np.pad(patch, [(0, 0), (0, 1), (0, 1)],
                      mode="constant" if mode == "zeros" else "reflect")
    np.testing.assert_allclose(last.patch[0], expected)


# --- errors ---------------------------------------------------------------------------------


def test_frames_rejects_position_outside_the_output() -> None:
    with pytest.raises(ParameterError, match=r"`positions`\[1\] = \[0, 3\].*axis 1 must be in "
                                              r"0\.\.2") as err:
        frames(np.ones((4, 4)), np.ones((2, 2)), positions=[[0, 0], [0, 3]])
    assert err.value.param == "positions"


def test_frames_rejects_negative_position() -> None:
    with pytest.raises(ParameterError, match="outside the output"):
        frames(np.ones((4, 4)), np.ones((2, 2)), positions=[[-1, 0]])


def test_frames_rejects_position_of_wrong_rank() -> None:
    with pytest.raises(ParameterError, match="each a list of 2 ints"):
        frames(np.ones((4, 4)), np.ones((2, 2)), positions=[[0, 0, 0]])


def test_frames_rejects_ragged_positions() -> None:
    with pytest.raises(ParameterError, match="`positions`"):
        frames(np.ones((4, 4)), np.ones((2, 2)), positions=[[0, 0], [1]])


def test_frames_rejects_non_integer_positions() -> None:
    with pytest.raises(ParameterError, match="`positions`"):
        frames(np.ones((4, 4)), np.ones((2, 2)), positions=[[0.5, 1.0]])


def test_frames_rejects_unknown_filter() -> None:
    with pytest.raises(ParameterError, match=r"indices in 0\.\.1") as err:
        frames(np.ones((4, 4)), np.ones((2, 1, 2, 2)), filters=[2])
    assert err.value.param == "filters"


@pytest.mark.parametrize("name", ["offset", "limit"])
def test_frames_rejects_negative_offset_or_limit(name: str) -> None:
    with pytest.raises(ParameterError, match=f"`{name}` must be an int >= 0") as err:
        frames(np.ones((4, 4)), np.ones((2, 2)), **{name: -1})
    assert err.value.param == name


def test_frames_rejects_unknown_activation() -> None:
    with pytest.raises(ParameterError, match="`activation`"):
        frames(np.ones((4, 4)), np.ones((2, 2)), activation="gelu")


def test_frames_rejects_activation_params_without_activation() -> None:
    with pytest.raises(ParameterError, match="without an activation"):
        frames(np.ones((4, 4)), np.ones((2, 2)), activation_params={"negative_slope": 0.1})


def test_frames_rejects_what_conv_rejects() -> None:
    with pytest.raises(ShapeError):
        frames(np.ones((3, 4, 4)), np.ones((2, 2, 2, 2)), groups=2)
    with pytest.raises(OutputSizeError):
        frames(np.ones((2, 2)), np.ones((3, 3)))


# --- pooling frames -------------------------------------------------------------------------


POOL_CONFIGS = [
    ("max", (2, 5, 5), 2, None, 0, 1, True, True),
    ("max", (1, 6, 7), 3, 2, 1, 1, False, True),
    ("max", (1, 9, 9), 3, 2, 1, 2, True, True),
    ("avg", (2, 5, 6), 3, 2, 1, 1, True, True),
    ("avg", (2, 5, 6), 3, 2, 1, 1, True, False),
    ("avg", (1, 7), 2, 3, 1, 1, True, True),
    ("max", (1, 4, 4, 5), [2, 2, 3], 2, [1, 0, 1], 1, True, True),
]


@pytest.mark.parametrize("config", POOL_CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}")
def test_pool_frames_match_pool(config: tuple[Any, ...]) -> None:
    mode, shape, k, s, p, d, ceil_mode, cip = config
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    kw = dict(mode=mode, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode,
              count_include_pad=cip)
    out = pool(x, **kw)
    batch = pool_frames(x, **kw, limit=10**6)
    assert batch.total == out.size == len(batch)
    np.testing.assert_allclose(batch.value, out.reshape(-1), rtol=1e-12)
    np.testing.assert_array_equal(batch.index, np.arange(out.size))
    np.testing.assert_array_equal(batch.origin, batch.position * np.asarray(_stride(k, s, x)))
    flat = batch.window.reshape(len(batch), -1)
    if mode == "max":
        taps = np.ravel_multi_index(tuple(batch.winner.T), batch.window.shape[1:])
        np.testing.assert_array_equal(flat[np.arange(len(batch)), taps], batch.value)
        assert np.all(batch.counted == batch.in_input)
    else:
        np.testing.assert_allclose(batch.sum / batch.divisor, batch.value)
        assert np.all(batch.divisor == batch.counted.reshape(len(batch), -1).sum(1))
        assert np.all(batch.winner == -1)


def _stride(k: Any, s: Any, x: np.ndarray) -> tuple[int, ...]:
    nd = x.ndim - 1
    chosen = k if s is None else s
    return tuple(chosen) if isinstance(chosen, list) else (chosen,) * nd


@pytest.mark.parametrize("name", ["maxpool-ceil", "avgpool-pad-exclude"])
def test_pool_frames_contract_examples(name: str) -> None:
    example = next(e for e in EXAMPLES if e["name"] == name)
    request = dict(example["request"])
    x = request.pop("input")
    batch = pool_frames(x, **request)
    expected = np.asarray(example["response_includes"]["output"]).reshape(-1)
    np.testing.assert_allclose(batch.value, expected, rtol=1e-5, atol=1e-6)


def test_pool_frames_json_marks_padding_and_overhang() -> None:
    x = np.array([[1.0, 2.0, 5.0], [3.0, 4.0, 0.0], [6.0, 0.0, 1.0]])
    items = pool_frames(x, mode="max", kernel_size=[2, 2], padding=1).to_list()
    first = items[0]
    assert first["window"] == [[None, None], [None, 1.0]]
    assert first["in_input"] == [[False, False], [False, True]]
    assert first["winner"] == [1, 1] and first["value"] == 1.0
    assert first["sum"] is None and first["divisor"] is None
    avg = pool_frames(x, mode="avg", kernel_size=[2, 2], ceil_mode=True,
                      positions=[[1, 1]]).to_list()[0]
    assert avg["window"] == [[1.0, 0.0], [0.0, 0.0]]
    assert avg["counted"] == [[True, False], [False, False]]
    assert avg["divisor"] == 1 and avg["value"] == 1.0 and avg["winner"] is None
    json.dumps(items)


def test_pool_frames_channels_select() -> None:
    x = np.arange(32.0).reshape(2, 4, 4)
    batch = pool_frames(x, mode="max", kernel_size=2, channels=[1])
    assert batch.total == 4 and batch.channel.tolist() == [1] * 4
    assert batch.value.tolist() == [21.0, 23.0, 29.0, 31.0]


def test_pool_frames_rejects_unknown_channel() -> None:
    with pytest.raises(ParameterError, match="`channels`") as err:
        pool_frames(np.ones((2, 4, 4)), mode="max", kernel_size=2, channels=[5])
    assert err.value.param == "channels"


def test_pool_frames_rejects_what_pool_rejects() -> None:
    with pytest.raises(ParameterError, match="only defined for max"):
        pool_frames(np.ones((2, 4, 4)), mode="avg", kernel_size=2, dilation=2)


def test_frame_batch_len_matches_pages() -> None:
    batch = frames(np.ones((5, 5)), np.ones((3, 3)), limit=4)
    assert isinstance(batch, FrameBatch) and len(batch) == 4
    assert math.prod(batch.output_shape) == batch.total == 9
