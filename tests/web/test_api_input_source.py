"""`input` or `image_id`: the photo options (`max_side`, `color`) are refused next to an inline
`input` instead of being silently ignored, on every endpoint that takes an input."""

from __future__ import annotations

from typing import Any

import pytest

I3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
K2 = [[1, 0], [0, 1]]
CONV = {"input": I3, "kernel": K2}
POOL = {"input": [[[1, 2], [3, 4]]], "mode": "max", "kernel_size": 2}

# every endpoint whose body has `input` / `image_id`, with a valid inline body
ENDPOINTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/conv", CONV),
    ("/api/conv/render", CONV),
    ("/api/frames", CONV),
    ("/api/frames/animation", CONV),
    ("/api/frames/animation", {"op": "pool", "input": [[1, 2], [3, 4]], "mode": "max",
                               "kernel_size": 2}),
    ("/api/pool", POOL),
    ("/api/pool", {**POOL, "kernel_size": None, "global_pool": True}),
    ("/api/pool/render", POOL),
    ("/api/pool/frames", POOL),
    ("/api/conv_transpose", {"input": [[1, 2]], "kernel": [[1, 1]]}),
    ("/api/dropout", {"input": [[1, 2]], "p": 0.5}),
]
IDS = ["conv", "conv-render", "frames", "animation-conv", "animation-pool", "pool",
       "pool-global", "pool-render", "pool-frames", "conv-transpose", "dropout"]

# the explicit default ("rgb") counts too: the client asked for something an input cannot do
PHOTO_OPTIONS = [("max_side", 4), ("max_side", 16384), ("color", "gray"), ("color", "rgb")]


@pytest.mark.parametrize(("path", "body"), ENDPOINTS, ids=IDS)
@pytest.mark.parametrize(("field", "value"), PHOTO_OPTIONS,
                         ids=[f"{f}={v}" for f, v in PHOTO_OPTIONS])
def test_inline_input_refuses_photo_option_when_set(client: Any, assert_error: Any, path: str,
                                                    body: dict[str, Any], field: str,
                                                    value: Any) -> None:
    envelope = assert_error(client.post(path, json={**body, field: value}), 422, field)
    assert envelope["code"] == "validation"
    assert "image_id" in envelope["message"] and "inline `input`" in envelope["message"]
    assert envelope["accepted"] == (f"`{field}` only with image_id; an inline input is used "
                                    "as given")
    assert envelope["suggestion"] == {field: None}
    # the suggestion is a merge patch (null: leave the field out), and then the request works
    patched = {**body, field: value}
    for key, new in envelope["suggestion"].items():
        if new is None:
            patched.pop(key)
    assert client.post(path, json=patched).status_code == 200


@pytest.mark.parametrize(("path", "body"), ENDPOINTS, ids=IDS)
def test_inline_input_accepts_max_side_when_null(client: Any, path: str,
                                                 body: dict[str, Any]) -> None:
    # null is "no downscaling", which is what an inline input gets: nothing is ignored
    response = client.post(path, json={**body, "max_side": None})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("path", "body"), ENDPOINTS, ids=IDS)
def test_photo_accepts_photo_options_when_image_id(client: Any, path: str,
                                                   body: dict[str, Any]) -> None:
    sample = client.get("/api/samples").json()[0]["id"]
    photo = {k: v for k, v in body.items() if k != "input"}
    response = client.post(path, json={**photo, "image_id": sample, "color": "gray",
                                       "max_side": 4})
    assert response.status_code == 200, response.text


def test_inline_input_names_max_side_first_when_both_set(client: Any,
                                                         assert_error: Any) -> None:
    envelope = assert_error(client.post("/api/conv", json={**CONV, "max_side": 8,
                                                           "color": "gray"}), 422, "max_side")
    assert envelope["message"].startswith("`max_side` 8 applies only")
