"""POST /api/network/run's `render`: thumbnails shrunk by block means (`max_side`), only some
layers (`layers`), one channel at full size (`channel`), against the layer's own numbers:
block means by loops, drawn on the grid's scale by hand."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from server.imaging.colormaps import DIVERGING

STACK = [
    {"type": "Conv2D", "filters": 5, "kernel_size": 3, "padding": "same"},
    {"type": "MaxPooling2D"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 3},
]
X = (np.sin(np.arange(20 * 17 * 2, dtype=np.float32)).reshape(20, 17, 2) * 3).round(2)


def run(client: Any, render: dict[str, Any] | None = None, **extra: Any) -> Any:
    body = {"input_shape": [20, 17, 2], "layers": STACK, "input": X.tolist(), "seed": 3,
            "render": render, **extra}
    return client.post("/api/network/run", json=body)


def ok(client: Any, render: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = run(client, render, **extra)
    assert response.status_code == 200, response.text
    return {row["name"]: row for row in response.json()["layers"]}


def picture(row: dict[str, Any]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(row["png"].split(",", 1)[1]))))


def tiles(row: dict[str, Any]) -> list[np.ndarray]:
    """The grid's tiles, cut at the places `grid` names; the gaps are white."""
    g, image = row["grid"], picture(row)
    assert image.shape[:2] == (g["rows"] * g["height"] + (g["rows"] - 1) * g["gap"],
                               g["columns"] * g["width"] + (g["columns"] - 1) * g["gap"])
    cut = []
    for k in range(g["count"]):
        r, c = divmod(k, g["columns"])
        y, x = r * (g["height"] + g["gap"]), c * (g["width"] + g["gap"])
        cut.append(image[y:y + g["height"], x:x + g["width"]])
    return cut


def block_means(values: np.ndarray, factor: int) -> np.ndarray:
    """One map (H, W) by loops: each pixel the mean of the cells of its block that exist."""
    h, w = values.shape
    out = np.zeros((-(-h // factor), -(-w // factor)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = values[i * factor:(i + 1) * factor, j * factor:(j + 1) * factor].mean()
    return out


def drawn(values: np.ndarray, mode: str, lo: float, hi: float) -> np.ndarray:
    """The picture of ``values`` on the scale ``lo..hi`` (the grid's), by hand."""
    if mode == "stretch":
        return np.clip(np.round((values - lo) / (hi - lo) * 255), 0, 255)
    if mode == "abs":
        return np.clip(np.round(np.abs(values) / hi * 255), 0, 255)
    assert mode == "signed" and lo == -hi
    return np.clip(np.round((values / hi + 1) * 127.5), 0, 255)


def close(got: np.ndarray, want: np.ndarray, mode: str) -> None:
    """Equal but for float32 rounding: no pixel more than 1 level off, nearly all exact."""
    if mode == "signed":  # back from colours to levels: the table's 256 colours are distinct
        level = {tuple(int(v) for v in rgb): i for i, rgb in enumerate(np.asarray(DIVERGING))}
        got = np.array([[level[tuple(int(v) for v in px)] for px in line] for line in got])
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1, diff.max()
    assert (diff == 0).mean() > 0.95


@pytest.mark.parametrize("mode", ["stretch", "signed", "abs"])
@pytest.mark.parametrize(("max_side", "factor", "tile"), [
    (8, 3, (7, 6)), (10, 2, (10, 9)), (19, 2, (10, 9)), (20, 1, (20, 17)), (None, 1, (20, 17))])
def test_thumbnails_are_block_means_of_the_output(client: Any, mode: str, max_side: int | None,
                                                  factor: int, tile: tuple[int, int]) -> None:
    rows = ok(client, {"mode": mode, "max_side": max_side}, outputs=["conv2d"])
    row = rows["conv2d"]
    out = np.array(row["output"], dtype=np.float64)  # (20, 17, 5): the layer's own numbers
    g = row["grid"]
    assert (g["factor"], g["height"], g["width"], g["count"], g["first"]) == (factor, *tile, 5, 0)
    lo, hi = float(out.min()), float(out.max())
    scale = {"stretch": [lo, hi], "abs": [0.0, max(-lo, hi)],
             "signed": [-max(-lo, hi), max(-lo, hi)]}[mode]
    assert g["range"] == pytest.approx(scale, rel=1e-6)
    for k, got in enumerate(tiles(row)):
        values = np.abs(out[..., k]) if mode == "abs" else out[..., k]
        close(got, drawn(block_means(values, factor), mode, *scale), mode)


def test_default_thumbnail_side_shrinks_big_maps_only(client: Any) -> None:
    big = {"input_shape": [200, 150, 1], "layers": [STACK[0], STACK[1]], "seed": 0,
           "input": np.ones((200, 150)).tolist(), "render": {}}
    rows = client.post("/api/network/run", json=big).json()["layers"]
    # 200 > 96: shrunk by 3 to 67 x 50; the pooled 100 x 75 by 2 to 50 x 38
    assert [(r["grid"]["factor"], r["grid"]["height"], r["grid"]["width"]) for r in rows] == [
        (3, 67, 50), (2, 50, 38)]
    small = ok(client, {})  # maps of 20 x 17 are drawn as they are
    assert small["conv2d"]["grid"]["factor"] == 1 and small["conv2d"]["grid"]["height"] == 20


def test_one_channel_at_full_size_equals_the_output_on_the_grids_scale(client: Any) -> None:
    grid = ok(client, {"max_maps": 3}, outputs=["conv2d"])["conv2d"]
    for channel in (1, 4):  # in the grid, and beyond its first `max_maps`
        rows = ok(client, {"max_maps": 3, "layers": ["conv2d"], "channel": channel,
                           "max_side": None})
        row = rows["conv2d"]
        g = row["grid"]
        assert (g["count"], g["first"], g["factor"], g["height"], g["width"]) == (
            1, channel, 1, 20, 17)
        # the scale of the thumbnails (the grid's first 3 channels), not the channel's own
        assert g["range"] == grid["grid"]["range"]
        out = np.array(grid["output"], dtype=np.float64)[..., channel]
        close(picture(row), drawn(out, "stretch", *g["range"]), "stretch")
        assert rows["max_pooling2d"]["png"] is None and rows["max_pooling2d"]["grid"] is None


def test_the_full_size_channel_is_the_runs_own(client: Any) -> None:
    """The page opens a map with the run's body: same seed and input, the same numbers."""
    thumbs = ok(client, {"max_side": None}, seed=11)["conv2d"]
    opened = ok(client, {"max_side": None, "layers": ["conv2d"], "channel": 2}, seed=11)
    np.testing.assert_array_equal(picture(opened["conv2d"]), tiles(thumbs)[2])
    other = ok(client, {"max_side": None, "layers": ["conv2d"], "channel": 2}, seed=12)
    assert not np.array_equal(picture(other["conv2d"]), tiles(thumbs)[2])


def test_render_layers_draws_only_the_named_layers(client: Any) -> None:
    rows = ok(client, {"layers": ["max_pooling2d"]})
    assert rows["conv2d"]["png"] is None and rows["conv2d"]["grid"] is None
    assert rows["max_pooling2d"]["grid"]["count"] == 5
    assert rows["conv2d"]["range"]  # the numbers' range is there all the same


def test_one_dimensional_maps_shrink_along_their_steps(client: Any) -> None:
    body = {"input_shape": [50, 1], "layers": [{"type": "Conv1D", "filters": 2, "kernel_size": 3}],
            "input": np.linspace(-1, 1, 50).reshape(50, 1).tolist(), "render": {"max_side": 16}}
    row = client.post("/api/network/run", json=body).json()["layers"][0]
    out = np.array(row["output"], dtype=np.float64)  # (48, 2)
    assert (row["grid"]["factor"], row["grid"]["height"], row["grid"]["width"]) == (3, 1, 16)
    for k, got in enumerate(tiles(row)):
        want = drawn(block_means(out[None, :, k], 3), "stretch", *row["grid"]["range"])
        close(got, want, "stretch")


@pytest.mark.parametrize(("render", "field"), [
    ({"max_side": 0}, "render.max_side"),
    ({"max_side": 8193}, "render.max_side"),
    ({"max_side": 2.5}, "render.max_side"),
    ({"channel": -1}, "render.channel"),
    ({"channel": 5}, "render.channel"),  # conv2d and max_pooling2d have channels 0..4
    ({"layers": ["conv2d", "nope"]}, "render.layers[1]"),
    ({"layers": [""]}, "render.layers[0]"),
    ({"max_maps": 0}, "render.max_maps"),
    ({"thumb": 64}, "render.thumb"),
])
def test_bad_render_is_a_422_naming_the_field(client: Any, assert_error: Any,
                                              render: dict[str, Any], field: str) -> None:
    assert_error(run(client, render), 422, field)


def test_channel_is_checked_before_computing(make_client: Any, assert_error: Any) -> None:
    """Only the layers drawn must have the channel; the check uses shapes alone."""
    client = make_client()
    stack = [{"type": "Conv2D", "filters": 2, "kernel_size": 3},
             {"type": "Conv2D", "filters": 8, "kernel_size": 3}]
    body = {"input_shape": [6, 6, 1], "layers": stack, "input": np.ones((6, 6)).tolist()}
    refused = client.post("/api/network/run", json={**body, "render": {"channel": 6}})
    envelope = assert_error(refused, 422, "render.channel")
    assert "'conv2d'" in envelope["message"] and "2 channel" in envelope["message"]
    fine = client.post("/api/network/run", json={**body, "render": {
        "channel": 6, "layers": ["conv2d_1"]}})
    assert fine.status_code == 200, fine.text
    assert fine.json()["layers"][1]["grid"]["first"] == 6
