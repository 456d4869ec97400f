"""POST /api/conv_transpose/frames: DESIGN §3's frames against PyTorch, paging, limits, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

RNG = np.random.default_rng(5)
X = RNG.integers(-3, 4, size=(2, 3, 4)).astype(float)
W = RNG.integers(-3, 4, size=(2, 3, 3, 2)).astype(float)
BIAS = [0.5, -1.0, 2.0]

CASES = [
    {"stride": 1, "padding": 0},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": [2, 3], "padding": [1, 0], "output_padding": [0, 2], "dilation": [1, 2]},
    {"stride": 1, "padding": 2, "dilation": 2, "output_padding": 1},
]


def torch_output(params: dict[str, Any]) -> np.ndarray:
    out = torch.nn.functional.conv_transpose2d(
        torch.tensor(X[None]), torch.tensor(W), torch.tensor(BIAS), **params)
    return out[0].numpy()


@pytest.mark.parametrize("params", CASES, ids=[str(i) for i in range(len(CASES))])
def test_frames_match_torch_when_paged(client: Any, params: dict[str, Any]) -> None:
    request = {"input": X.tolist(), "kernel": W.tolist(), "bias": BIAS, **params}
    ref = torch_output(params)
    frames: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        body = client.post("/api/conv_transpose/frames",
                           json={**request, "offset": offset, "limit": 7}).json()
        assert body["total"] == ref.size and body["shape"] == list(ref.shape)
        frames += body["frames"]
        offset = body["next_offset"]
    assert [f["index"] for f in frames] == list(range(ref.size))
    plain = client.post("/api/conv_transpose", json=request).json()
    assert body["explain"] == plain["explain"] and body["padding"] == plain["padding"]
    for frame in frames:
        assert set(frame) == {"index", "filter", "position", "taps", "bias", "value"}
        expected = ref[(frame["filter"], *frame["position"])]
        assert frame["value"] == pytest.approx(expected, abs=1e-9)
        assert frame["value"] == pytest.approx(
            frame["bias"] + sum(t["product"] for t in frame["taps"]), abs=1e-9)
        stride = np.broadcast_to(params["stride"], (2,))
        dilation = np.broadcast_to(params.get("dilation", 1), (2,))
        pad = np.broadcast_to(params["padding"], (2,))
        for tap in frame["taps"]:
            assert set(tap) == {"channel", "input", "kernel", "x", "w", "product"}
            landed = np.asarray(tap["input"]) * stride + np.asarray(tap["kernel"]) * dilation - pad
            assert landed.tolist() == frame["position"]
            assert tap["x"] == X[(tap["channel"], *tap["input"])]
            assert tap["w"] == W[(tap["channel"], frame["filter"], *tap["kernel"])]


def test_frames_describe_the_gather_convolution(client: Any) -> None:
    body = client.post("/api/conv_transpose/frames", json={
        "input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": np.ones((3, 3)).tolist(),
        "stride": 2, "padding": 1, "output_padding": 1, "limit": 1}).json()
    assert body["shape"] == [6, 6]
    assert body["gather"] == [{"upsampled": 5, "before": 1, "after": 2, "size": 6}] * 2
    assert body["explain"][0] == "axis 0: (3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6"


def test_frames_select_cells_when_positions_given(client: Any) -> None:
    body = client.post("/api/conv_transpose/frames", json={
        "input": X.tolist(), "kernel": W.tolist(), "positions": [[0, 0], [4, 4]],
        "filters": [2]}).json()
    assert body["total"] == 2
    assert [f["position"] for f in body["frames"]] == [[0, 0], [4, 4]]
    assert [f["index"] for f in body["frames"]] == [2 * 25, 2 * 25 + 24]


def test_frames_cap_limit_when_over_max_frames_per_page(make_client: Any) -> None:
    client = make_client(max_frames_per_page=5)
    body = client.post("/api/conv_transpose/frames", json={
        "input": X.tolist(), "kernel": W.tolist(), "limit": 50}).json()
    assert body["limit"] == 5 and len(body["frames"]) == 5 and body["next_offset"] == 5


def test_frames_shrink_page_when_over_max_json_elements(make_client: Any) -> None:
    client = make_client(max_json_elements=200)
    body = client.post("/api/conv_transpose/frames", json={
        "input": X.tolist(), "kernel": W.tolist(), "limit": 50}).json()
    # 2 channels x 6 taps x 8 numbers = 96 per frame, plus the frame's own
    assert body["limit"] == 1 and len(body["frames"]) == 1


@pytest.mark.parametrize(("params", "nearest"), [
    ({"stride": 2, "output_padding": 2}, 1),
    ({"stride": 1, "output_padding": 1}, 0),
    ({"stride": 1, "dilation": 2, "output_padding": 3}, 1),
])
def test_frames_refuse_output_padding_when_not_below_stride_or_dilation(
        client: Any, assert_error: Any, params: dict[str, Any], nearest: int) -> None:
    response = client.post("/api/conv_transpose/frames", json={
        "input": X.tolist(), "kernel": W.tolist(), **params})
    envelope = assert_error(response, 422, "output_padding")
    assert envelope["suggestion"] == {"output_padding": nearest}
    fixed = client.post("/api/conv_transpose/frames", json={
        "input": X.tolist(), "kernel": W.tolist(), **params, **envelope["suggestion"]})
    assert fixed.status_code == 200


def test_frames_refuse_padding_when_output_empty(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv_transpose/frames", json={
        "input": [1, 2], "kernel": [1, 1], "padding": 2})
    envelope = assert_error(response, 422, "padding")
    assert envelope["suggestion"] == {"padding": 1}
    assert "(2 - 1)*1 - 2*2 + 1*(2 - 1) + 0 + 1 = -1" in envelope["message"]


def test_frames_refuse_kernel_when_channels_disagree(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv_transpose/frames", json={
        "input": X.tolist(), "kernel": np.ones((3, 1, 2, 2)).tolist()})
    assert_error(response, 422, "kernel")
