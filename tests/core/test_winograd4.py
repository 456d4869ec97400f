"""Winograd F(4x4, 3x3) (`server.core.methods.winograd4`): against the naive-loop oracle over
shapes, paddings and modes, dtypes, ragged chunks, groups and tile budgets; a hypothesis property;
float32 on deep layers against a float64 reference; the chooser; bounded memory; PyTorch."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import conv_ref

from server.core import conv, conv_method
from server.core.errors import ParameterError
from server.core.methods import scratch, winograd4
from server.core.methods.plan import make_plan
from server.core.padding import PADDING_MODES


def assert_close(out: np.ndarray, ref: np.ndarray) -> None:
    """DESIGN §2: within 1e-5 * max|reference| + 1e-6."""
    assert out.shape == ref.shape
    tol = 1e-5 * float(np.max(np.abs(ref), initial=0.0)) + 1e-6
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)


def operands(
    channels: int, filters: int, side: tuple[int, int], groups: int = 1, dtype: Any = np.float64,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((channels, *side)).astype(dtype)
    w = rng.standard_normal((filters, channels // groups, 3, 3)).astype(dtype)
    return x, w


def plan_of(x: np.ndarray, w: np.ndarray, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "bias": None, "stride": 1, "padding": 0, "padding_mode": "zeros", "dilation": 1,
        "groups": 1, "flip": False, "tile_bytes": None,
    }
    args.update(kw)
    return make_plan(x, w, **args)


def test_matrices_compute_correlation() -> None:
    """A^T [(G g) * (B^T d)] = the 1-D correlation of d (6) with g (3), for any g and d."""
    rng = np.random.default_rng(0)
    g, d = rng.standard_normal(3), rng.standard_normal(6)
    y = winograd4._AT @ ((winograd4._G @ g) * (winograd4._BT @ d))
    np.testing.assert_allclose(y, [d[i : i + 3] @ g for i in range(4)], rtol=1e-12, atol=1e-12)


def test_kernel_transform_is_g_g_gt() -> None:
    w = np.random.default_rng(1).standard_normal((2, 3, 3, 3))
    u = winograd4.kernel_transform(w)
    assert u.shape == (36, 2, 3)
    g = winograd4._G
    np.testing.assert_allclose(u[:, 1, 2].reshape(6, 6), g @ w[1, 2] @ g.T, rtol=1e-12)


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((4, 6), (6, 10)),  # small: one product
        ((6, 6), (6, 3, 7000)),  # stacked, long columns: split by columns
        ((3, 700, 12), (12, 40)),  # rows longer than the columns: split by rows
        ((3, 701, 12), (12, 40)),  # ...into uneven parts
        ((2, 5, 6), (2, 6, 9001)),  # a prime count of columns: uneven parts
    ],
)
def test_split_matmul_equals_matmul(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_matmul` cuts a product into single-threaded BLAS calls without changing it."""
    monkeypatch.setattr(winograd4, "BLAS_ONE_THREAD", 2000)
    rng = np.random.default_rng(5)
    a = rng.standard_normal(a_shape)
    b = rng.standard_normal(b_shape)
    if len(b_shape) == 3 and len(a_shape) == 2:
        b = b.reshape(b_shape[0], -1)
    out = np.full(np.matmul(a, b).shape, np.nan)
    winograd4._matmul(a, b, out)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-12, atol=1e-12)


def test_split_matmul_reads_transposed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The output transform's first step: a transposed stacked operand, split by rows."""
    monkeypatch.setattr(winograd4, "BLAS_ONE_THREAD", 500)
    rng = np.random.default_rng(6)
    m = rng.standard_normal((6, 6, 300))
    at = rng.standard_normal((4, 6))
    out = np.empty((6, 300, 4))
    winograd4._matmul(m.transpose(0, 2, 1), at.T, out)
    np.testing.assert_allclose(out, np.matmul(m.transpose(0, 2, 1), at.T), rtol=1e-12)


@pytest.mark.parametrize(
    "side", [(3, 3), (4, 4), (5, 7), (6, 6), (9, 9), (3, 14), (15, 4), (11, 22)]
)  # outputs of every size mod 4: ragged last block row and column
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_oracle_for_shape(side: tuple[int, int], dtype: Any) -> None:
    x, w = operands(3, 4, side, dtype=dtype, seed=sum(side))
    out = conv(x, w, method="winograd4")
    assert out.dtype == dtype
    assert out.flags.c_contiguous
    assert_close(out, conv_ref(x, w))


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("padding", [1, 2, "same", "full", [[2, 0], [1, 1]], [[0, 1], [2, 0]]])
def test_matches_oracle_for_padding(mode: str, padding: Any) -> None:
    x, w = operands(2, 3, (7, 6), seed=3)
    kw = {"padding": padding, "padding_mode": mode}
    assert_close(conv(x, w, method="winograd4", **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_oracle_for_groups(groups: int, dtype: Any) -> None:
    x, w = operands(4, 8, (10, 13), groups=groups, dtype=dtype, seed=groups)
    kw = {"groups": groups, "padding": 1}
    assert_close(conv(x, w, method="winograd4", **kw), conv_ref(x, w, **kw))


@pytest.mark.parametrize("tile_bytes", [1, 5000, 40000, None])
@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_chunks_agree_with_one_chunk(tile_bytes: Any, mode: str) -> None:
    """Any tile budget (down to one block row per chunk, split between threads) agrees."""
    x, w = operands(3, 2, (23, 10), seed=9)
    kw = {"padding": 1, "padding_mode": mode}
    assert_close(conv(x, w, method="winograd4", tile_bytes=tile_bytes, **kw), conv_ref(x, w, **kw))


WIDE_ZERO_PADDINGS = [[[1, 3], [6, 2]], [[0, 2], [0, 9]], [[4, 0], [3, 0]]]


@pytest.mark.parametrize(
    ("mode", "padding"),
    [(mode, pad) for mode in PADDING_MODES for pad in (0, 1)]
    + [("zeros", pad) for pad in WIDE_ZERO_PADDINGS],
)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "integer"])
def test_one_block_row_chunks_agree(mode: str, padding: Any, layout: str) -> None:
    """Chunks of one block row inside the input, at its edges and in the padding: wide zero
    paddings (several padded block columns), every mode, a strided input and a cast."""
    x, w = operands(3, 2, (30, 37), seed=11)
    if layout == "transposed":
        x = np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1)
    elif layout == "integer":
        x = np.round(x * 4).astype(np.int16)
    kw = {"padding": padding, "padding_mode": mode}
    out = conv(x, w, method="winograd4", tile_bytes=1, **kw)
    assert_close(out, conv_ref(x, w, **kw))
    np.testing.assert_allclose(out, conv(x, w, method="winograd4", **kw), rtol=1e-12, atol=1e-12)


def test_one_thread_and_several_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    x, w = operands(5, 3, (40, 21), dtype=np.float32, seed=2)
    runs = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(winograd4, "THREADS", threads)
        runs.append(conv(x, w, method="winograd4", padding=1, tile_bytes=1))
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])
    assert_close(runs[0], conv_ref(x, w, padding=1))


def test_bias_flip_and_shorthand() -> None:
    x, w = operands(1, 1, (8, 9), seed=4)
    kw = {"bias": np.array([0.5]), "flip": True, "padding": "same"}
    assert_close(conv(x, w, method="winograd4", **kw), conv_ref(x, w, **kw))
    assert_close(conv(x[0], w[0, 0], method="winograd4"), conv_ref(x, w)[0])


def test_integer_inputs_run_in_float64() -> None:
    x = np.arange(2 * 6 * 5).reshape(2, 6, 5)
    w = np.arange(3 * 2 * 9).reshape(3, 2, 3, 3) % 5 - 2
    out = conv(x, w, method="winograd4", padding=1)
    assert out.dtype == np.float64
    assert_close(out, conv_ref(x, w, padding=1))


@pytest.mark.parametrize(
    ("channels", "filters"), [(16, 16), (32, 32), (16, 64), (64, 64), (128, 16), (256, 8)]
)
def test_float32_deep_layers_within_contract(channels: int, filters: int) -> None:
    """Where the chooser runs it (16 to 256 channels), float32 stays within 1e-5 of float64."""
    x, w = operands(channels, filters, (21, 34), dtype=np.float32, seed=channels)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    for padding in (0, 1):
        ref = conv(x64, w64, padding=padding, method="im2col")
        assert_close(conv(x, w, method="winograd4", padding=padding), ref)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 13),
    cols=st.integers(1, 13),
    cg=st.integers(1, 3),
    fg=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    mode=st.sampled_from(PADDING_MODES),
    tile_bytes=st.sampled_from([None, 1]),
)
def test_property_equals_oracle(
    data: st.DataObject, rows: int, cols: int, cg: int, fg: int, groups: int, mode: str,
    tile_bytes: int | None,
) -> None:
    """Any output size, padding (as pairs, within what the mode allows), group split and chunk
    size
    (float64: in float32 a single output that cancels can differ by more than 1e-5 of itself,
    see the module doc; float32 is covered on deep layers above)."""
    limit = 2 if mode == "zeros" else 1
    pads = [[data.draw(st.integers(0, limit)) for _ in range(2)] for _ in range(2)]
    side = (max(rows + 2 - sum(pads[0]), 2), max(cols + 2 - sum(pads[1]), 2))
    seed = data.draw(st.integers(0, 2**16))
    x, w = operands(cg * groups, fg * groups, side, groups=groups, seed=seed)
    kw = {"padding": pads, "padding_mode": mode, "groups": groups}
    out = conv(x, w, method="winograd4", tile_bytes=tile_bytes, **kw)
    assert_close(out, conv_ref(x, w, **kw))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw", "why"),
    [
        ((2, 9, 9), (1, 2, 3, 3), {"stride": 2}, "stride 1"),
        ((2, 9, 9), (1, 2, 3, 3), {"dilation": [1, 2]}, "dilation 1"),
        ((2, 9, 9), (1, 2, 5, 5), {}, "3x3 kernel"),
        ((2, 9), (1, 2, 3), {}, "2 spatial axes"),
    ],
)
def test_forced_where_it_cannot_run_raises(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], kw: Any, why: str
) -> None:
    x, w = np.ones(x_shape), np.ones(w_shape)
    with pytest.raises(ParameterError, match=f'"winograd4" cannot run.*{why}') as err:
        conv(x, w, method="winograd4", **kw)
    assert err.value.param == "method"
    conv(x, w, **kw)


def test_chooser_runs_it_on_3x3_layers_of_16_channels_and_more() -> None:
    z = np.zeros
    assert conv_method(z((64, 128, 128), np.float32), z((64, 64, 3, 3), np.float32)) == "winograd4"
    assert conv_method(z((128, 64, 64)), z((128, 128, 3, 3)), padding=1) == "winograd4"
    assert conv_method(z((32, 128, 128)), z((32, 32, 3, 3))) == "winograd4"
    assert conv_method(z((16, 56, 56)), z((32, 16, 3, 3)), padding=1) == "winograd4"
    assert conv_method(z((8, 128, 128)), z((32, 8, 3, 3))) != "winograd4"  # too few channels
    assert conv_method(z((64, 128, 128)), z((8, 64, 3, 3))) != "winograd4"  # too few filters
    assert conv_method(z((64, 16, 16)), z((64, 64, 3, 3))) != "winograd4"  # too small a map
    assert conv_method(z((512, 64, 64)), z((64, 512, 3, 3))) != "winograd4"  # too long sums
    assert conv_method(z((64, 128, 128)), z((64, 64, 3, 3)), stride=2) != "winograd4"
    assert conv_method(z((64, 128, 128)), z((64, 64, 5, 5))) != "winograd4"


def test_memory_stays_near_the_output() -> None:
    """Chunks follow the budget (one block row at a tiny one); a call allocates about its output
    plus a few chunk buffers, whatever the map's size."""
    x, w = operands(64, 64, (258, 258), dtype=np.float32)
    assert winograd4.chunk_rows(plan_of(x, w, tile_bytes=1)) == 1
    assert winograd4.chunk_rows(plan_of(x, w)) == 1  # 65 blocks per row: one row is enough
    small = plan_of(x[:, :34, :34], w)
    # 8 blocks per row: 8 block rows reach CHUNK_BLOCKS (V and M of 7 fill CHUNK_BYTES)
    assert winograd4.chunk_rows(small) == 8
    scratch.clear()
    tracemalloc.start()
    try:
        out = conv(x, w, padding=1, method="winograd4")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < out.nbytes + 24 * 2**20  # output 16.3 MB; chunk buffers a few MB per thread


def test_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x, w = operands(64, 64, (37, 30), dtype=np.float32, seed=5)
    for padding in (0, 1):
        ours = conv(x, w, method="winograd4", padding=padding)
        with torch.no_grad():
            ref = torch.nn.functional.conv2d(
                torch.from_numpy(x[None]), torch.from_numpy(w), padding=padding
            )[0].numpy()
        assert np.max(np.abs(ours - ref)) <= 1e-5 * np.max(np.abs(ref))
