"""POST /api/conv_transpose/animation: both views drawn frame by frame, with their limits."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

BODY = {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 0, -1], [2, 1, 0], [0, 1, 1]],
        "stride": 2, "padding": 1, "output_padding": 1, "bias": 0.5}


@pytest.mark.parametrize(("view", "frames"), [("scatter", 9), ("gather", 36)])
@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_animation_draws_one_frame_per_step_when_view_given(client: Any, view: str, frames: int,
                                                            fmt: str) -> None:
    response = client.post("/api/conv_transpose/animation",
                           json={**BODY, "view": view, "format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"image/{fmt}"
    assert response.headers["x-svertka-frames"] == str(frames)
    image = Image.open(io.BytesIO(response.content))
    assert image.format == fmt.upper() and image.n_frames == frames


def test_animation_counts_stamps_per_filter_and_channel(client: Any) -> None:
    body = {"input": np.ones((2, 2, 3)).tolist(), "kernel": np.ones((2, 3, 2, 2)).tolist(),
            "view": "scatter"}
    response = client.post("/api/conv_transpose/animation", json=body)
    assert response.headers["x-svertka-frames"] == str(3 * 2 * 6)


def test_animation_draws_signals(client: Any) -> None:
    for view, frames in (("scatter", 4), ("gather", 9)):
        response = client.post("/api/conv_transpose/animation", json={
            "input": [1, 2, 3, 4], "kernel": [1, -1, 2], "stride": 2, "view": view})
        assert response.headers["x-svertka-frames"] == str(frames)


def test_animation_pages_when_offset_and_limit(client: Any) -> None:
    response = client.post("/api/conv_transpose/animation",
                           json={**BODY, "view": "gather", "offset": 30, "limit": 10})
    assert response.headers["x-svertka-frames"] == "6"


def test_animation_refuses_offset_past_end(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv_transpose/animation",
                           json={**BODY, "view": "scatter", "offset": 9})
    assert assert_error(response, 422, "offset")["suggestion"] == {"offset": 0}


def test_animation_refuses_large_pictures(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv_transpose/animation",
                           json={"input": np.ones((30, 30)).tolist(), "kernel": [[1, 1], [1, 1]],
                                 "stride": 2, "view": "gather"})
    assert assert_error(response, 422, "input")["code"] == "limit"


def test_animation_refuses_invalid_output_padding(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv_transpose/animation",
                           json={**BODY, "output_padding": 2, "view": "gather"})
    assert assert_error(response, 422, "output_padding")["suggestion"] == {"output_padding": 1}


def test_animation_refuses_volumes(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv_transpose/animation",
                           json={"input": np.ones((2, 2, 2)).tolist(),
                                 "kernel": np.ones((2, 2, 2)).tolist()})
    assert_error(response, 422, "input")
