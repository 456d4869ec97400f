"""POST /api/conv/render and /api/pool/render: PNGs of the right size with legend headers."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image


def _png(response: Any) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def _sample_id(client: Any, name: str = "chelsea") -> str:
    return next(s["id"] for s in client.get("/api/samples").json() if s["name"] == name)


@pytest.mark.parametrize("mode", ["clip", "stretch", "abs", "signed"])
def test_render_draws_feature_map_when_photo(client: Any, mode: str) -> None:
    response = client.post("/api/conv/render", json={
        "image_id": _sample_id(client), "color": "gray", "max_side": 64, "preset": "sobel_x",
        "padding": "same", "display": {"mode": mode}})
    image = _png(response)
    height, width = (int(n) for n in response.headers["x-svertka-shape"].split(","))
    assert image.size == (width, height) and max(width, height) == 64
    assert image.mode == ("RGB" if mode == "signed" else "L")
    lo, hi = (float(v) for v in response.headers["x-svertka-range"].split(","))
    assert lo <= hi
    if mode == "signed":
        assert lo == -hi
    assert json.loads(response.headers["x-svertka-padding"]) == [[1, 1], [1, 1]]
    assert json.loads(response.headers["x-svertka-display"])["mode"] == mode


def test_render_range_matches_data_when_stretch(client: Any) -> None:
    response = client.post("/api/conv/render", json={
        "input": [[0, 1, 2], [3, 4, 5]], "kernel": [[2.0]], "display": {"mode": "stretch"}})
    image = np.asarray(_png(response))
    assert response.headers["x-svertka-range"] == "0,10"
    assert image.min() == 0 and image.max() == 255


def test_render_tiles_filters_when_grid(client: Any) -> None:
    kernel = np.zeros((4, 1, 3, 3))
    response = client.post("/api/conv/render", json={
        "input": np.ones((10, 12)).tolist(), "kernel": kernel.tolist(),
        "display": {"layout": "grid"}})
    image = _png(response)
    count, rows, columns, height, width, gap = map(int, response.headers["x-svertka-grid"]
                                                  .split(","))
    assert (count, height, width) == (4, 8, 10) and rows * columns >= 4
    assert image.size == (columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap)
    assert response.headers["x-svertka-shape"] == "4,8,10"


def test_render_colours_when_rgb_depthwise(client: Any) -> None:
    response = client.post("/api/conv/render", json={
        "image_id": _sample_id(client), "preset": "gaussian_3x3", "kernel_mode": "depthwise",
        "max_side": 48, "display": {"mode": "clip"}})
    image = _png(response)
    assert image.mode == "RGB"
    assert json.loads(response.headers["x-svertka-display"])["layout"] == "rgb"


def test_render_picks_one_map_when_single(client: Any) -> None:
    response = client.post("/api/conv/render", json={
        "input": np.ones((6, 6)).tolist(), "kernel": np.ones((3, 1, 3, 3)).tolist(),
        "display": {"layout": "single", "filter": 2}})
    assert _png(response).size == (4, 4)


def test_render_shows_channel_contributions_when_per_channel(client: Any) -> None:
    response = client.post("/api/conv/render", json={
        "image_id": _sample_id(client), "preset": "sobel_y", "max_side": 40,
        "display": {"mode": "signed", "per_channel": True}})
    _png(response)
    assert response.headers["x-svertka-labels"] == "R,G,B,sum"
    assert response.headers["x-svertka-grid"].startswith("4,")


def test_render_per_channel_sum_equals_total_when_numbers(client: Any) -> None:
    # stretch over [partials..., total]: with the range in headers the maps can be checked
    x = np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]])
    response = client.post("/api/conv/render", json={
        "input": x.tolist(), "kernel": [[[[1.0]], [[2.0]]]], "bias": [1.0],
        "display": {"mode": "clip", "per_channel": True}})
    grid = np.asarray(_png(response))
    assert response.headers["x-svertka-labels"] == "c0,c1,sum"
    assert grid[:2, :2].tolist() == [[1, 2], [3, 4]]
    assert response.headers["x-svertka-data-range"] == "0,7"


def test_render_draws_1d_signal_when_one_spatial_axis(client: Any) -> None:
    response = client.post("/api/conv/render", json={"input": [1, 2, 3, 4, 5],
                                                     "kernel": [1, -1]})
    assert _png(response).size == (4, 1)


def test_render_pool_draws_map_when_pooling(client: Any) -> None:
    response = client.post("/api/pool/render", json={
        "image_id": _sample_id(client, "camera"), "color": "gray", "mode": "max",
        "kernel_size": 4, "display": {"mode": "clip"}})
    image = _png(response)
    assert image.size == (128, 128)
    assert response.headers["x-svertka-shape"] == "128,128"


def test_render_rejects_volume_when_three_spatial_axes(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv/render", json={"input": np.ones((3, 3, 3)).tolist(),
                                                     "kernel": np.ones((2, 2, 2)).tolist()})
    assert_error(response, 422, "display")


def test_render_rejects_rgb_layout_when_not_three_maps(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv/render", json={
        "input": [[1, 2], [3, 4]], "kernel": [[1]], "display": {"layout": "rgb"}})
    assert_error(response, 422, "display.layout")


def test_render_rejects_filter_when_out_of_range(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv/render", json={
        "input": [[1, 2], [3, 4]], "kernel": [[1]], "display": {"layout": "single",
                                                                 "filter": 3}})
    assert_error(response, 422, "display.filter")


def test_render_rejects_per_channel_when_pooling(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv/render", json={
        "input": [[1, 2], [3, 4]], "kernel": [[1]], "pool": {"mode": "max", "kernel_size": 2},
        "display": {"per_channel": True}})
    assert_error(response, 422, "display.per_channel")


def test_render_rejects_mode_when_unknown(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv/render", json={
        "input": [[1, 2], [3, 4]], "kernel": [[1]], "display": {"mode": "rainbow"}})
    assert_error(response, 422, "display.mode")
