"""Limits from settings are enforced before any work, each with its own 4xx."""

from __future__ import annotations

from typing import Any

import numpy as np


def _sample_id(client: Any) -> str:
    return client.get("/api/samples").json()[0]["id"]


def test_conv_refuses_work_when_over_max_work(make_client: Any, assert_error: Any) -> None:
    client = make_client(max_work=10_000)
    response = client.post("/api/conv", json={"image_id": _sample_id(client), "color": "gray",
                                              "kernel": np.ones((9, 9)).tolist()})
    envelope = assert_error(response, 422, "kernel")
    assert envelope["code"] == "limit" and "max_side" in envelope["suggestion"]


def test_conv_accepts_suggested_max_side_when_over_max_work(make_client: Any) -> None:
    client = make_client(max_work=1_000_000)
    request = {"image_id": _sample_id(client), "color": "gray", "kernel": np.ones((9, 9)).tolist()}
    suggestion = client.post("/api/conv/render", json=request).json()["suggestion"]
    assert client.post("/api/conv/render", json={**request, **suggestion}).status_code == 200


def test_conv_refuses_output_when_over_max_output_elements(make_client: Any,
                                                           assert_error: Any) -> None:
    client = make_client(max_output_elements=100)
    response = client.post("/api/conv", json={"input": np.ones((20, 20)).tolist(),
                                              "kernel": [[1.0]]})
    assert assert_error(response, 422, "input")["code"] == "limit"


def test_conv_refuses_json_when_over_max_json_elements(make_client: Any,
                                                       assert_error: Any) -> None:
    client = make_client(max_json_elements=1000)
    request = {"image_id": _sample_id(client), "color": "gray", "preset": "identity"}
    envelope = assert_error(client.post("/api/conv", json=request), 422, "format")
    assert envelope["suggestion"] == {"format": "npy"}
    assert client.post("/api/conv", params={"format": "npy"}, json=request).status_code == 200


def test_conv_refuses_input_when_over_max_json_elements(make_client: Any,
                                                        assert_error: Any) -> None:
    client = make_client(max_json_elements=50)
    response = client.post("/api/conv", json={"input": np.ones((10, 10)).tolist(),
                                              "kernel": [[1.0]]})
    assert assert_error(response, 422, "input")["code"] == "limit"


def test_json_body_refused_when_over_max_upload_bytes(make_client: Any,
                                                      assert_error: Any) -> None:
    client = make_client(max_upload_bytes=1000)
    body = b'{"input": [' + b",".join([b"1.0"] * 30_000) + b'], "kernel": [1.0]}'
    response = client.post("/api/conv", content=body,
                           headers={"content-type": "application/json"})
    assert assert_error(response, 413, "body")["code"] == "too_large"


def test_pool_refuses_work_when_over_max_work(make_client: Any, assert_error: Any) -> None:
    client = make_client(max_work=1000)
    response = client.post("/api/pool", json={"input": np.ones((1, 30, 30)).tolist(),
                                              "mode": "max", "kernel_size": 5, "stride": 1})
    assert assert_error(response, 422, "kernel_size")["code"] == "limit"


def test_frames_skip_work_limit_when_paging(make_client: Any) -> None:
    client = make_client(max_work=1000)  # the whole conv is over; one page is not
    response = client.post("/api/frames", json={"image_id": _sample_id(client),
                                                "preset": "sobel_x", "limit": 3})
    assert response.status_code == 200 and len(response.json()["frames"]) == 3


def test_cpu_work_is_bounded_when_concurrency_set(make_client: Any) -> None:
    client = make_client(max_concurrency=2)
    assert client.app.state.limiter.total_tokens == 2


def test_chunked_body_refused_when_over_max_upload_bytes(make_client: Any,
                                                         assert_error: Any) -> None:
    client = make_client(max_upload_bytes=1000)

    def chunks() -> Any:  # no Content-Length: the limit must hold while streaming
        yield b'{"input": ['
        for _ in range(30_000):
            yield b"1.0,"
        yield b'1.0], "kernel": [1.0]}'

    response = client.post("/api/conv", content=chunks(),
                           headers={"content-type": "application/json"})
    assert assert_error(response, 413, "body")["code"] == "too_large"


def test_photo_too_large_as_array_is_refused_before_converting(
    make_client: Any, assert_error: Any
) -> None:
    client = make_client(max_output_elements=30_000)
    photo = client.get("/api/samples").json()[0]  # 512 px: 3 x 512 x 512 values
    body = {"image_id": photo["id"], "color": "rgb", "preset": "identity", "padding": "same"}
    envelope = assert_error(client.post("/api/conv", json=body), 422, "max_side")
    assert envelope["code"] == "limit"
    side = envelope["suggestion"]["max_side"]
    fixed = client.post("/api/conv", json={**body, "max_side": side})
    assert fixed.status_code == 200, fixed.text
    assert max(fixed.json()["shape"][-2:]) <= side
