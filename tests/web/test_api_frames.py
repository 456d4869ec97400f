"""POST /api/frames: the invariants of DESIGN §3 and paging."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

RNG = np.random.default_rng(7)
X = RNG.integers(-3, 4, size=(2, 6, 7)).astype(float)
W = RNG.integers(-3, 4, size=(3, 2, 3, 2)).astype(float)
BIAS = [0.5, -1.0, 2.0]

CASES = [
    {"stride": 1, "padding": 0},
    {"stride": 2, "padding": 1},
    {"stride": [1, 2], "padding": "same", "dilation": [2, 1]},
    {"stride": 1, "padding": [[2, 0], [1, 1]], "padding_mode": "reflect"},
    {"stride": 1, "padding": 1, "padding_mode": "circular", "flip": True},
    {"stride": 3, "padding": "full", "activation": "relu"},
]


@pytest.mark.parametrize("params", CASES, ids=[str(i) for i in range(len(CASES))])
def test_frames_satisfy_invariants_when_paged(client: Any, params: dict[str, Any]) -> None:
    request = {"input": X.tolist(), "kernel": W.tolist(), "bias": BIAS, **params}
    conv = client.post("/api/conv", json=request).json()
    output = np.asarray(conv["output"])
    body = client.post("/api/frames", json={**request, "offset": 0, "limit": 1000}).json()
    assert body["total"] == output.size == len(body["frames"])
    assert body["shape"] == conv["shape"] and body["padding"] == conv["padding"]
    stride = np.broadcast_to(params["stride"], (2,))
    for i, frame in enumerate(body["frames"]):
        products = np.asarray(frame["products"])
        assert frame["index"] == i
        assert frame["value"] == pytest.approx(frame["bias"] + products.sum(), abs=1e-9)
        assert frame["origin"] == (np.asarray(frame["position"]) * stride).tolist()
        np.testing.assert_allclose(frame["channel_sums"], products.reshape(2, -1).sum(axis=1))
        assert frame["bias"] == BIAS[frame["filter"]]
        expected = output[(frame["filter"], *frame["position"])]
        assert frame["output"] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_frames_follow_filter_major_order_when_offset(client: Any) -> None:
    request = {"input": X.tolist(), "kernel": W.tolist(), "offset": 31, "limit": 3}
    body = client.post("/api/frames", json=request).json()
    per_filter = 4 * 6
    assert [f["index"] for f in body["frames"]] == [31, 32, 33]
    assert [f["filter"] for f in body["frames"]] == [1, 1, 1]
    assert body["frames"][0]["position"] == list(divmod(31 - per_filter, 6))


def test_frames_select_cells_when_positions_given(client: Any) -> None:
    body = client.post("/api/frames", json={
        "input": X.tolist(), "kernel": W.tolist(), "positions": [[0, 0], [3, 5]],
        "filters": [2]}).json()
    assert body["total"] == 2
    assert [f["position"] for f in body["frames"]] == [[0, 0], [3, 5]]
    assert {f["filter"] for f in body["frames"]} == {2}


def test_frames_cap_limit_when_over_setting(make_client: Any) -> None:
    client = make_client(max_frames_per_page=5)
    body = client.post("/api/frames", json={"input": X.tolist(), "kernel": W.tolist(),
                                            "limit": 500}).json()
    assert body["limit"] == 5 and len(body["frames"]) == 5 and body["total"] == 72
    assert body["next_offset"] == 5


def test_frames_give_empty_page_when_offset_past_end(client: Any) -> None:
    body = client.post("/api/frames", json={"input": X.tolist(), "kernel": W.tolist(),
                                            "offset": 1000}).json()
    assert body["frames"] == [] and body["total"] == 72


def test_frames_work_on_photo_when_image_id(client: Any) -> None:
    sample = client.get("/api/samples").json()[0]
    body = client.post("/api/frames", json={"image_id": sample["id"], "preset": "sobel_x",
                                            "padding": "same", "limit": 2}).json()
    assert body["total"] == sample["width"] * sample["height"]
    assert np.asarray(body["frames"][0]["patch"]).shape == (3, 3, 3)
    assert body["frames"][0]["patch"][0][0] == [0.0, 0.0, 0.0]  # top-left: zero padding


def test_frames_reject_position_when_outside_output(client: Any, assert_error: Any) -> None:
    response = client.post("/api/frames", json={"input": X.tolist(), "kernel": W.tolist(),
                                                "positions": [[9, 9]]})
    assert_error(response, 422, "positions")


def test_frames_reject_limit_when_zero(client: Any, assert_error: Any) -> None:
    response = client.post("/api/frames", json={"input": X.tolist(), "kernel": W.tolist(),
                                                "limit": 0})
    assert_error(response, 422, "limit")
