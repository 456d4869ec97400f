"""`conv_transpose_frames` against PyTorch: values, and tap geometry from autograd.

The taps of output cell ``o`` of filter ``f`` are exactly the inputs and weights that cell
depends on, so PyTorch's gradient of ``out[f, o]`` is an independent oracle for them: it is
nonzero at the tap's input cell (where it equals the weight) and at the tap's weight (where it
equals the input value), and zero everywhere else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from server.core import (
    OutputSizeError,
    ParameterError,
    conv_transpose,
    conv_transpose_frames,
    gather_geometry,
)

TORCH = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d,
         3: torch.nn.functional.conv_transpose3d}
SPATIAL = {1: (5,), 2: (3, 4), 3: (2, 3, 2)}
KERNEL = {1: (3,), 2: (3, 2), 3: (2, 2, 3)}
CASES = [
    {},
    {"stride": 2},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": 3, "dilation": 2, "output_padding": 2},
    {"dilation": 2, "padding": 2, "output_padding": 1},
    {"groups": 2, "stride": 2, "padding": 1},
    {"stride": "per_axis"},
]


def _params(nd: int, kw: dict[str, Any]) -> dict[str, Any]:
    if kw.get("stride") == "per_axis":
        return {"stride": [2, 1, 3][:nd], "padding": [0, 1, 1][:nd],
                "output_padding": [1, 0, 2][:nd], "dilation": [1, 2, 1][:nd]}
    return dict(kw)


def _torch_out(x: np.ndarray, w: np.ndarray, bias: np.ndarray, kw: dict[str, Any],
               grad: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    xt = torch.tensor(x[None], dtype=torch.float64, requires_grad=grad)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=grad)
    out = TORCH[x.ndim - 1](xt, wt, torch.tensor(bias, dtype=torch.float64), **kw)[0]
    return out, xt, wt


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(map(str, kw.items())) or "plain")
def test_frame_values_match_torch_when_paged(nd: int, kw: dict[str, Any]) -> None:
    kw = _params(nd, kw)
    groups = kw.get("groups", 1)
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((4, *SPATIAL[nd]))
    w = rng.standard_normal((4, 3, *KERNEL[nd]))
    bias = rng.standard_normal(3 * groups)
    ref = _torch_out(x, w, bias, kw)[0].detach().numpy()
    values, positions, filters = [], [], []
    offset = 0
    while True:
        batch = conv_transpose_frames(x, w, bias=bias, offset=offset, limit=7, **kw)
        assert batch.total == ref.size and batch.output_shape == ref.shape[1:]
        if not len(batch):
            break
        assert batch.index.tolist() == list(range(offset, offset + len(batch)))
        values += batch.value.tolist()
        positions += batch.position.tolist()
        filters += batch.filter.tolist()
        offset += len(batch)
    assert offset == ref.size
    got = np.asarray(values).reshape(ref.shape)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    expect = np.stack(np.unravel_index(np.arange(ref.size), ref.shape), axis=1)
    assert filters == expect[:, 0].tolist() and positions == expect[:, 1:].tolist()


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(map(str, kw.items())) or "plain")
def test_taps_match_torch_gradients(nd: int, kw: dict[str, Any]) -> None:
    kw = _params(nd, kw)
    groups = kw.get("groups", 1)
    rng = np.random.default_rng(10 + nd)
    x = rng.uniform(0.5, 2.0, (4, *SPATIAL[nd]))  # no zeros: a zero gradient means "no tap"
    w = rng.uniform(0.5, 2.0, (4, 2, *KERNEL[nd]))
    bias = rng.standard_normal(2 * groups)
    out, xt, wt = _torch_out(x, w, bias, kw, grad=True)
    total = out.numel()
    picks = np.random.default_rng(0).choice(total, size=min(total, 12), replace=False)
    coords = np.stack(np.unravel_index(picks, out.shape), axis=1)
    for f, *pos in coords.tolist():
        batch = conv_transpose_frames(x, w, bias=bias, positions=[pos], filters=[f], **kw)
        (frame,) = batch.to_list()
        gx, gw = torch.autograd.grad(out[(f, *pos)], (xt, wt), retain_graph=True)
        gx, gw = gx[0].numpy(), gw.numpy()
        taps = frame["taps"]
        fg = f % w.shape[1]
        assert sorted((t["channel"], *t["input"]) for t in taps) == sorted(
            map(tuple, np.argwhere(gx != 0).tolist()))
        assert sorted((t["channel"], *t["kernel"]) for t in taps) == sorted(
            (c, *k) for c, fw, *k in np.argwhere(gw != 0).tolist() if fw == fg)
        for t in taps:
            assert t["x"] == x[(t["channel"], *t["input"])]
            assert t["w"] == w[(t["channel"], fg, *t["kernel"])] == gx[(t["channel"], *t["input"])]
            assert t["product"] == pytest.approx(t["x"] * t["w"])
        order = [(t["channel"], *t["input"]) for t in taps]
        assert order == sorted(order)  # channel, then input row-major
        assert frame["value"] == pytest.approx(out[(f, *pos)].item(), abs=1e-12)
        assert frame["bias"] == bias[f]


def test_frames_use_no_channel_axis_when_shorthand() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, -1.0], [2.0, 0.5]])
    batch = conv_transpose_frames(x, w, stride=2)
    np.testing.assert_allclose(batch.value.reshape(4, 4), conv_transpose(x, w, stride=2))
    assert set(batch.filter.tolist()) == {0} and set(batch.tap_channel.tolist()) == {0}
    # stride 2 with a 2x2 kernel: the stamps tile the output, one tap per cell
    assert [len(t) for t in batch.taps()] == [1] * 16


def test_gather_geometry_rebuilds_the_output_with_a_direct_convolution() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((3, 2))
    kw = {"stride": [2, 3], "padding": [1, 0], "output_padding": [1, 2], "dilation": [1, 2]}
    axes = gather_geometry(x.shape, w.shape, **kw)
    up = np.zeros([a["upsampled"] for a in axes])
    up[:: kw["stride"][0], :: kw["stride"][1]] = x
    grid = np.pad(up, [(a["before"], a["after"]) for a in axes])
    wf = w[::-1, ::-1]
    d = kw["dilation"]
    out = np.zeros([a["size"] for a in axes])
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            out += wf[i, j] * grid[i * d[0]: i * d[0] + out.shape[0],
                                   j * d[1]: j * d[1] + out.shape[1]]
    np.testing.assert_allclose(out, conv_transpose(x, w, **kw), atol=1e-12)


@pytest.mark.parametrize(("kw", "nearest"), [
    ({"stride": 2, "output_padding": 2}, 1),
    ({"stride": 1, "output_padding": 1}, 0),
    ({"stride": 1, "dilation": 3, "output_padding": 5}, 2),
])
def test_output_padding_error_names_nearest_valid_setting(kw: dict[str, Any],
                                                          nearest: int) -> None:
    with pytest.raises(ParameterError) as err:
        conv_transpose_frames(np.ones((3, 3)), np.ones((3, 3)), **kw)
    assert err.value.param == "output_padding"
    assert err.value.suggestion == {"output_padding": nearest}
    conv_transpose_frames(np.ones((3, 3)), np.ones((3, 3)), **{**kw, "output_padding": nearest})


def test_empty_output_error_names_the_largest_padding() -> None:
    with pytest.raises(OutputSizeError) as err:
        conv_transpose_frames(np.ones(2), np.ones(2), padding=2)
    assert err.value.param == "padding" and err.value.suggestion == {"padding": 1}
    assert "(2 - 1)*1 - 2*2 + 1*(2 - 1) + 0 + 1 = -1" in str(err.value)
