"""POST /api/pool on numbers and photos, global pooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from server.core import pool as core_pool


def test_pool_reports_geometry_when_inline(client: Any) -> None:
    body = client.post("/api/pool", json={"input": np.arange(25.0).reshape(1, 5, 5).tolist(),
                                          "mode": "max", "kernel_size": 2,
                                          "ceil_mode": True}).json()
    assert body["shape"] == [1, 3, 3]
    assert body["padding"] == [[0, 0], [0, 0]] and body["explain"][0].startswith("axis 0: ceil(")
    assert body["output"][0][2][2] == 24.0 and body["input_shape"] == [1, 5, 5]
    assert body["range"] == [6.0, 24.0]


def test_pool_treats_gray_photo_as_one_channel_when_int_kernel(client: Any) -> None:
    sample = next(s for s in client.get("/api/samples").json() if s["name"] == "camera")
    body = client.post("/api/pool", json={"image_id": sample["id"], "color": "gray",
                                          "max_side": 64, "mode": "avg",
                                          "kernel_size": 2}).json()
    x = np.asarray(client.app.state.store.array(sample["id"], "gray", 64), dtype=np.float64)
    assert body["shape"] == [32, 32] and body["input_shape"] == [64, 64]
    np.testing.assert_allclose(body["output"], core_pool(x[None], mode="avg", kernel_size=2)[0],
                               rtol=1e-5)


def test_pool_reduces_channels_when_global(client: Any) -> None:
    body = client.post("/api/pool", json={"input": [[[1, 5], [2, 3]], [[-1, 0], [4, 8]]],
                                          "mode": "avg", "global_pool": True}).json()
    assert body["shape"] == [2] and body["output"] == [2.75, 2.75]


def test_pool_keeps_no_channel_axis_when_shorthand(client: Any) -> None:
    body = client.post("/api/pool", json={"input": [[1, 2], [3, 4]], "mode": "max",
                                          "kernel_size": [2, 2]}).json()
    assert body["shape"] == [1, 1] and body["output"] == [[4.0]]


POOL_X = np.random.default_rng(3).integers(-5, 6, size=(2, 5, 6)).astype(float)


@pytest.mark.parametrize("params", [
    {"mode": "max", "kernel_size": 2},
    {"mode": "max", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"mode": "avg", "kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"mode": "avg", "kernel_size": [2, 3], "stride": 1},
], ids=["max", "max-ceil-pad", "avg-exclude-pad", "avg-rect"])
def test_pool_frames_agree_with_pool_when_paged(client: Any, params: dict[str, Any]) -> None:
    request = {"input": POOL_X.tolist(), **params}
    pooled = np.asarray(client.post("/api/pool", json=request).json()["output"])
    body = client.post("/api/pool/frames", json={**request, "limit": 1000}).json()
    assert body["total"] == pooled.size == len(body["frames"]) and body["next_offset"] is None
    assert body["shape"] == list(pooled.shape)
    for frame in body["frames"]:
        expected = pooled[(frame["channel"], *frame["position"])]
        assert frame["value"] == pytest.approx(expected)
        if params["mode"] == "max":
            window = np.asarray(frame["window"], dtype=float)
            assert window[tuple(frame["winner"])] == expected
        else:
            assert frame["sum"] / frame["divisor"] == pytest.approx(expected)


def test_pool_frames_page_forward_when_next_offset(client: Any) -> None:
    request = {"input": POOL_X.tolist(), "mode": "max", "kernel_size": 2, "limit": 4}
    first = client.post("/api/pool/frames", json=request).json()
    second = client.post("/api/pool/frames", json={**request,
                                                   "offset": first["next_offset"]}).json()
    assert [f["index"] for f in second["frames"]] == [4, 5, 6, 7]


def test_pool_frames_reject_global_when_no_window(client: Any, assert_error: Any) -> None:
    response = client.post("/api/pool/frames", json={"input": POOL_X.tolist(), "mode": "max",
                                                     "global_pool": True})
    assert_error(response, 422, "kernel_size")
