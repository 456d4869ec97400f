"""POST /api/conv: inline and photo inputs, presets, kernel modes, activation, pooling, npy."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from server.core import conv as core_conv
from server.core.kernels import PRESETS


def _sample(client: Any, name: str = "chelsea") -> dict[str, Any]:
    return next(s for s in client.get("/api/samples").json() if s["name"] == name)


def _photo(client: Any, image_id: str, color: str, max_side: int | None = None) -> np.ndarray:
    store = client.app.state.store
    return np.asarray(store.array(image_id, color, max_side), dtype=np.float64)


def test_conv_reports_geometry_when_inline(client: Any) -> None:
    body = client.post("/api/conv", json={
        "input": np.arange(25.0).reshape(5, 5).tolist(), "kernel": [[1, 0, -1]] * 3,
        "stride": 2, "padding": 1}).json()
    assert body["shape"] == [3, 3]
    assert body["padding"] == [[1, 1], [1, 1]]
    assert body["explain"][0] == "axis 0: floor((5 + 1 + 1 - 1*(3-1) - 1) / 2) + 1 = 3"
    assert body["input_shape"] == [5, 5] and body["kernel_shape"] == [1, 1, 3, 3]
    assert body["method"] in ("direct", "im2col", "fft")
    assert body["range"] == [min(map(min, body["output"])), max(map(max, body["output"]))]
    assert body["elapsed_ms"] >= 0


def test_conv_applies_preset_when_gray_photo(client: Any) -> None:
    sample = _sample(client)
    body = client.post("/api/conv", json={"image_id": sample["id"], "color": "gray",
                                          "preset": "sobel_x", "padding": "same",
                                          "max_side": 64}).json()
    x = _photo(client, sample["id"], "gray", 64)
    expected = core_conv(x, PRESETS["sobel_x"].kernel, padding="same")
    assert body["shape"] == list(expected.shape) and max(body["shape"]) == 64
    np.testing.assert_allclose(body["output"], expected, rtol=1e-5, atol=1e-3)


def test_conv_sums_channels_when_rgb_photo_default(client: Any) -> None:
    sample = _sample(client)
    body = client.post("/api/conv", json={"image_id": sample["id"], "preset": "box_blur_3x3",
                                          "max_side": 32}).json()
    x = _photo(client, sample["id"], "rgb", 32)
    kernel = PRESETS["box_blur_3x3"].kernel
    expected = sum(core_conv(x[c], kernel) for c in range(3))
    assert body["kernel_shape"] == [1, 3, 3, 3] and body["shape"] == [1, *expected.shape]
    np.testing.assert_allclose(body["output"][0], expected, rtol=1e-5, atol=1e-3)


def test_conv_keeps_channels_apart_when_depthwise(client: Any) -> None:
    sample = _sample(client)
    body = client.post("/api/conv", json={"image_id": sample["id"], "preset": "gaussian_3x3",
                                          "kernel_mode": "depthwise", "max_side": 32}).json()
    x = _photo(client, sample["id"], "rgb", 32)
    assert body["groups"] == 3 and body["kernel_shape"] == [3, 1, 3, 3]
    for c in range(3):
        expected = core_conv(x[c], PRESETS["gaussian_3x3"].kernel)
        np.testing.assert_allclose(body["output"][c], expected, rtol=1e-5, atol=1e-3)


def test_conv_expands_kernel_when_inline_channels_and_mode_given(client: Any) -> None:
    x = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)
    body = client.post("/api/conv", json={"input": x.tolist(), "kernel": [[1, 1], [1, 1]],
                                          "kernel_mode": "per_channel_same"}).json()
    expected = core_conv(x, np.ones((1, 2, 2, 2)))
    np.testing.assert_allclose(body["output"], expected)


@pytest.mark.parametrize(("activation", "expected"), [
    ("relu", [[0.0, 2.0]]),
    ({"name": "leaky_relu", "negative_slope": 0.5}, [[-1.0, 2.0]]),
    ({"name": "identity"}, [[-2.0, 2.0]]),
])
def test_conv_activates_when_activation_given(client: Any, activation: Any,
                                              expected: list) -> None:
    body = client.post("/api/conv", json={"input": [[-2.0, 2.0]], "kernel": [[1.0]],
                                          "activation": activation}).json()
    np.testing.assert_allclose(body["output"], expected)


def test_conv_pools_after_activation_when_pool_given(client: Any) -> None:
    x = np.array([[[-1.0, -2.0, 3.0, 0.0], [-4.0, -1.0, 1.0, 2.0]]])
    body = client.post("/api/conv", json={
        "input": x.tolist(), "kernel": [[[[1.0]]]], "activation": "relu",
        "pool": {"mode": "max", "kernel_size": 2}}).json()
    assert body["shape"] == [1, 1, 2]
    assert body["output"] == [[[0.0, 3.0]]]
    assert body["pool_padding"] == [[0, 0], [0, 0]] and len(body["pool_explain"]) == 2


def test_conv_adds_scalar_bias_when_number(client: Any) -> None:
    body = client.post("/api/conv", json={"input": [[1.0, 2.0]], "kernel": [[1.0]],
                                          "bias": 0.5}).json()
    assert body["output"] == [[1.5, 2.5]]


def test_conv_answers_npy_when_format_npy(client: Any) -> None:
    request = {"input": np.arange(16.0).reshape(4, 4).tolist(), "kernel": [[1, 2], [3, 4]],
               "padding": "same"}
    as_json = client.post("/api/conv", json=request).json()
    response = client.post("/api/conv", params={"format": "npy"}, json=request)
    assert response.headers["content-type"] == "application/x-npy"
    array = np.load(io.BytesIO(response.content))
    assert array.dtype == np.float32 and list(array.shape) == as_json["shape"]
    assert response.headers["x-svertka-shape"] == "4,4"
    assert response.headers["x-svertka-padding"] == "[[0,1],[0,1]]"
    np.testing.assert_allclose(array, as_json["output"])


def test_conv_handles_three_spatial_axes_when_volume(client: Any) -> None:
    x = np.ones((4, 4, 4))
    body = client.post("/api/conv", json={"input": x.tolist(), "kernel": np.ones((2, 2, 2))
                                          .tolist()}).json()
    assert body["shape"] == [3, 3, 3] and body["output"][0][0][0] == 8.0


def test_conv_uses_float32_when_photo(client: Any) -> None:
    sample = _sample(client, "camera")
    response = client.post("/api/conv", params={"format": "npy"}, json={
        "image_id": sample["id"], "color": "gray", "preset": "identity", "padding": "same"})
    array = np.load(io.BytesIO(response.content))
    np.testing.assert_array_equal(array, _photo(client, sample["id"], "gray"))
