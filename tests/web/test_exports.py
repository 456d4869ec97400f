"""POST /api/frames/animation: animated GIF/WebP of the sliding window, bounded in size."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from server.config import Settings
from server.imaging.animation import format_number
from server.web.app import create_app
from server.web.routes.exports import MAX_CHANNELS, MAX_FRAMES, MAX_SIDE

URL = "/api/frames/animation"
FIVE = [[-3, 1, 1, -3, 3], [-2, -2, -2, -1, -2], [-1, 2, 0, 3, 0], [-2, 2, 2, 3, 3],
        [-3, 0, -2, -2, -2]]
THREE = [[2, 2, -2], [-1, 2, -2], [1, 0, 3]]
POOL_INPUT = [[1, 3, 2, 1], [4, 6, 5, 0], [3, 2, 1, 7], [1, 8, 2, 4]]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("svertka-exports")
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        yield c


def _frames_of(content: bytes) -> tuple[Image.Image, int]:
    image = Image.open(io.BytesIO(content))
    return image, getattr(image, "n_frames", 1)


def _assert_error(response, status: int, code: str, field: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["field"] == field
    assert body["message"]
    return body


@pytest.mark.parametrize(
    ("body", "frames"),
    [
        ({"input": [[1, 2, 0], [3, 1, 2], [0, 1, 4]], "kernel": [[1, 0], [-1, 2]]}, 4),
        ({"input": FIVE, "kernel": THREE}, 9),
        ({"input": FIVE, "kernel": THREE, "padding": 1}, 25),
        ({"input": FIVE, "kernel": THREE, "stride": 2}, 4),
        ({"input": FIVE, "kernel": THREE, "padding": "same", "dilation": 2}, 25),
        ({"input": [FIVE, FIVE, FIVE], "kernel": [[THREE, THREE, THREE]] * 2, "bias": [1, 0],
          "padding": 1, "stride": 2, "activation": "relu"}, 18),
    ],
    ids=["3x3-2x2", "5x5-3x3", "same", "stride2", "dilation", "rgb-two-filters"],
)
def test_animation_gif_has_one_frame_per_window(client: TestClient, body: dict,
                                                 frames: int) -> None:
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["x-svertka-frames"] == str(frames)
    image, n = _frames_of(response.content)
    assert image.format == "GIF"
    assert n == frames
    assert image.info.get("loop") == 0


def test_animation_webp_is_animated(client: TestClient) -> None:
    response = client.post(URL, json={"input": FIVE, "kernel": THREE, "format": "webp",
                                      "fps": 4})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    image, n = _frames_of(response.content)
    assert image.format == "WEBP"
    assert n == 9


def test_animation_frame_duration_follows_fps(client: TestClient) -> None:
    response = client.post(URL, json={"input": FIVE, "kernel": THREE, "fps": 5})
    image, _ = _frames_of(response.content)
    assert image.info["duration"] == 200


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_animation_pooling_draws_every_window(client: TestClient, mode: str) -> None:
    body = {"op": "pool", "input": [POOL_INPUT, POOL_INPUT], "mode": mode, "kernel_size": 2}
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    _, n = _frames_of(response.content)
    assert n == 2 * 4  # two channels, a 2x2 output each


def test_animation_pool_with_padding_and_ceil_mode(client: TestClient) -> None:
    body = {"op": "pool", "input": POOL_INPUT, "mode": "max", "kernel_size": 3, "stride": 2,
            "padding": 1, "ceil_mode": True}
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    # ceil((4 + 2 - 3) / 2) + 1 = 3 per axis (floor would give 2): the partial windows are drawn
    assert response.headers["x-svertka-frames"] == "9"


def test_animation_offset_and_limit_select_frames(client: TestClient) -> None:
    response = client.post(URL, json={"input": FIVE, "kernel": THREE, "offset": 3, "limit": 4})
    assert response.status_code == 200, response.text
    assert response.headers["x-svertka-frames"] == "4"


def test_animation_first_frame_shows_the_window_and_the_current_output(
        client: TestClient) -> None:
    response = client.post(URL, json={"input": FIVE, "kernel": THREE, "limit": 1})
    image, _ = _frames_of(response.content)
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    orange = (np.abs(pixels - np.array([230, 159, 0])).sum(axis=2) < 60).sum()
    blue = (np.abs(pixels - np.array([0, 114, 178])).sum(axis=2) < 60).sum()
    assert orange > 100, "the window outline is drawn"
    assert blue > 40, "the current output cell is outlined"


def test_animation_bad_format_is_422(client: TestClient) -> None:
    response = client.post(URL, json={"input": FIVE, "kernel": THREE, "format": "png"})
    body = _assert_error(response, 422, "validation", "format")
    # the animation's own choices, not those of the `format` query of /api/conv
    assert body["accepted"] == '"gif" or "webp"'


def test_animation_too_many_frames_is_limit(client: TestClient) -> None:
    side = 25  # 25x25 with a 3x3 kernel and padding 1: 625 frames > MAX_FRAMES
    assert side * side > MAX_FRAMES
    body = {"input": np.ones((side, side)).tolist(), "kernel": THREE, "padding": 1}
    body_error = _assert_error(client.post(URL, json=body), 422, "limit", "limit")
    assert body_error["suggestion"] == {"limit": MAX_FRAMES}


def test_animation_limit_above_the_cap_is_limit(client: TestClient) -> None:
    body = {"input": FIVE, "kernel": THREE, "limit": MAX_FRAMES + 1}
    _assert_error(client.post(URL, json=body), 422, "limit", "limit")


def test_animation_input_too_large_to_draw_is_limit(client: TestClient) -> None:
    side = MAX_SIDE + 1
    body = {"input": np.ones((side, side)).tolist(), "kernel": [[1.0]], "stride": side,
            "limit": 1}
    _assert_error(client.post(URL, json=body), 422, "limit", "input")


def test_animation_too_large_suggests_max_side_only_when_photo(client: TestClient) -> None:
    # `max_side` next to an inline input is itself a 422, so suggesting it would be a dead end
    side = MAX_SIDE + 1
    inline = {"input": np.ones((side, side)).tolist(), "kernel": [[1.0]], "stride": side,
              "limit": 1}
    assert _assert_error(client.post(URL, json=inline), 422, "limit",
                         "input")["suggestion"] is None
    sample = client.get("/api/samples").json()[0]["id"]
    photo = {"image_id": sample, "color": "gray", "max_side": side, "kernel": [[1.0]],
             "stride": side, "limit": 1}
    envelope = _assert_error(client.post(URL, json=photo), 422, "limit", "input")
    assert envelope["suggestion"] == {"max_side": 16}
    assert client.post(URL, json={**photo, **envelope["suggestion"]}).status_code == 200


def test_animation_too_many_channels_is_limit(client: TestClient) -> None:
    c = MAX_CHANNELS + 1
    body = {"input": np.ones((c, 3, 3)).tolist(), "kernel": np.ones((1, c, 2, 2)).tolist()}
    _assert_error(client.post(URL, json=body), 422, "limit", "input")


def test_animation_three_dimensional_input_is_shape_error(client: TestClient) -> None:
    body = {"input": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], "kernel": [[[1]]]}
    _assert_error(client.post(URL, json=body), 422, "shape", "input")


SIGNAL = [1, 2, 0, 3, -1, 2, 4]


def _below_title(content: bytes) -> list[np.ndarray]:
    """Every frame without its title line (which names the shapes in its own words)."""
    image, count = _frames_of(content)
    out = []
    for i in range(count):
        image.seek(i)
        out.append(np.asarray(image.convert("RGB"))[40:])
    return out


@pytest.mark.parametrize(
    ("signal_body", "row_body"),
    [
        ({"input": SIGNAL, "kernel": [1, 0, -1]},
         {"input": [SIGNAL], "kernel": [[1, 0, -1]]}),
        ({"input": [SIGNAL], "kernel": [[[1, 0, -1]]], "stride": 2, "padding": "same",
          "bias": [0.5]},
         {"input": [SIGNAL], "kernel": [[1, 0, -1]], "stride": [1, 2],
          "padding": [[0, 0], [1, 1]], "bias": [0.5]}),
        ({"input": [SIGNAL, SIGNAL[::-1]], "kernel": [[[1, -1], [2, 0]]], "dilation": 3},
         {"input": [[SIGNAL], [SIGNAL[::-1]]], "kernel": [[[[1, -1]], [[2, 0]]]],
          "dilation": [1, 3]}),
        ({"input": [SIGNAL, SIGNAL[::-1]], "kernel": [[[1, 0, -2], [3, 1, 1]]], "flip": True},
         {"input": [[SIGNAL], [SIGNAL[::-1]]], "kernel": [[[[1, 0, -2]], [[3, 1, 1]]]],
          "flip": True}),
        ({"op": "pool", "input": [SIGNAL], "mode": "max", "kernel_size": [2]},
         {"op": "pool", "input": [SIGNAL], "mode": "max", "kernel_size": [1, 2]}),
        ({"op": "pool", "input": [SIGNAL], "mode": "avg", "kernel_size": [2], "stride": [2],
          "padding": [1], "ceil_mode": True},
         {"op": "pool", "input": [SIGNAL], "mode": "avg", "kernel_size": [1, 2],
          "stride": [1, 2], "padding": [0, 1], "ceil_mode": True}),
    ],
    ids=["signal", "stride-same-bias", "two-channels-dilation", "flip", "max-pool",
         "avg-pool-ceil"],
)
def test_animation_one_axis_is_drawn_as_the_single_row_it_equals(
        client: TestClient, signal_body: dict, row_body: dict) -> None:
    # a signal is drawn as a matrix one row tall: same frames, same pictures below the title
    signal = client.post(URL, json=signal_body)
    row = client.post(URL, json=row_body)
    assert signal.status_code == row.status_code == 200, (signal.text, row.text)
    assert signal.headers["x-svertka-frames"] == row.headers["x-svertka-frames"]
    ours, theirs = _below_title(signal.content), _below_title(row.content)
    assert len(ours) == len(theirs) > 1
    for a, b in zip(ours, theirs, strict=True):
        # GIF palettes are chosen per picture (the titles differ), which moves a few edge
        # pixels of the lettering; a misplaced window or digit changes hundreds
        assert a.shape == b.shape
        assert int((np.abs(a.astype(int) - b).sum(axis=2) > 90).sum()) <= 20


def test_animation_one_axis_positions_are_single_coordinates(client: TestClient) -> None:
    body = {"input": SIGNAL, "kernel": [1, 0, -1], "positions": [[4], [1]]}
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["x-svertka-frames"] == "2"


def test_animation_frame_count_of_a_signal_follows_the_output_length(client: TestClient) -> None:
    body = {"input": [SIGNAL] * 2, "kernel": [[[1, 0, -1]] * 2] * 3, "stride": 2}
    response = client.post(URL, json=body)
    assert response.headers["x-svertka-frames"] == str(3 * ((7 - 3) // 2 + 1))


def test_animation_pool_without_mode_is_422(client: TestClient) -> None:
    body = {"op": "pool", "input": POOL_INPUT, "kernel_size": 2}
    _assert_error(client.post(URL, json=body), 422, "validation", "mode")


def test_animation_offset_past_the_end_is_422(client: TestClient) -> None:
    body = {"input": FIVE, "kernel": THREE, "offset": 9}
    _assert_error(client.post(URL, json=body), 422, "parameter", "offset")


def test_animation_core_errors_keep_their_envelope(client: TestClient) -> None:
    body = {"input": [[1, 2], [3, 4]], "kernel": THREE}  # 2x2 input, 3x3 kernel: no output
    _assert_error(client.post(URL, json=body), 422, "output_size", "padding")


def test_animation_works_on_a_sample_photo(client: TestClient) -> None:
    samples = client.get("/api/samples").json()
    assert samples, "the app ingests sample photos at start-up"
    body = {"image_id": samples[0]["id"], "color": "gray", "max_side": 8, "preset": "sobel_x",
            "padding": "same", "limit": 5}
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["x-svertka-frames"] == "5"


@pytest.mark.parametrize(
    ("value", "text"),
    [(7.0, "7"), (-3.0, "−3"), (0.5, "0.5"), (-0.0001, "0"), (2.345, "2.35"),
     (float("-inf"), "−∞"), (float("nan"), "")],
)
def test_format_number_is_short_and_uses_a_real_minus(value: float, text: str) -> None:
    assert format_number(value) == text
