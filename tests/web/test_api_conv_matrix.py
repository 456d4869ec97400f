"""POST /api/conv/matrix: the dense matrix of a convolution, its counts, limits and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from server.core import conv
from server.web.schemas.conv_matrix import MAX_MATRIX_ENTRIES


def post(client: Any, **body: Any) -> Any:
    return client.post("/api/conv/matrix", json=body)


def test_lesson_example_answers_matrix_and_counts(client: Any) -> None:
    response = post(client, input_shape=[3, 3], kernel=[[1, 2], [3, 4]])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {"inputs": 9, "outputs": 4, "fully_connected": 36,
                              "connections": 16, "shared_weights": 4}
    assert (body["rows"], body["columns"]) == (4, 9)
    assert body["input_shape"] == [1, 3, 3] and body["kernel_shape"] == [1, 1, 2, 2]
    assert body["output_shape"] == [1, 2, 2] and body["padding"] == [[0, 0], [0, 0]]
    assert body["matrix"][0] == [1, 2, 0, 3, 4, 0, 0, 0, 0]
    assert body["index"][3] == [-1, -1, -1, -1, 0, 1, -1, 2, 3]
    assert body["limit"] is None


def test_kernel_size_alone_answers_index_without_values(client: Any) -> None:
    body = post(client, input_shape=[5, 5], kernel_size=3).json()
    assert (body["counts"]["fully_connected"], body["counts"]["shared_weights"]) == (225, 9)
    assert body["matrix"] is None
    index = np.array(body["index"])
    assert index.shape == (9, 25) and (index >= 0).sum() == 81


@pytest.mark.parametrize("geometry", [
    {"stride": 2, "padding": "same"},
    {"padding": [[1, 0], [0, 2]], "dilation": [1, 2]},
    {"groups": 2},
])
def test_matrix_times_input_is_the_convolution(client: Any, geometry: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 6, 5)), rng.standard_normal((2, 4 // geometry.get(
        "groups", 1), 3, 3))
    body = post(client, input_shape=[6, 5], kernel=w.tolist(), **geometry).json()
    assert body["input_shape"] == [4, 6, 5]
    expected = conv(x, w, **geometry)
    np.testing.assert_allclose(np.array(body["matrix"]) @ x.ravel(), expected.ravel(),
                               rtol=1e-9, atol=1e-9)
    assert body["output_shape"] == list(expected.shape)


def test_photo_size_answers_counts_and_null_matrix(client: Any) -> None:
    body = post(client, input_shape=[224, 224], channels=3, filters=32, kernel_size=3,
                padding="same").json()
    assert body["matrix"] is None and body["index"] is None
    assert str(MAX_MATRIX_ENTRIES) in body["limit"]["message"]
    counts = body["counts"]
    assert counts["fully_connected"] == (3 * 224 * 224) * (32 * 224 * 224)
    assert counts["connections"] == 32 * 3 * (3 * 224 - 2) ** 2
    assert counts["shared_weights"] == 32 * 3 * 9


def test_include_always_refuses_a_big_matrix_with_limit(client: Any, assert_error: Any) -> None:
    response = post(client, input_shape=[64, 64], kernel_size=3, include="always")
    body = assert_error(response, 422, "input_shape")
    assert body["code"] == "limit"


def test_include_counts_leaves_the_matrix_out(client: Any) -> None:
    body = post(client, input_shape=[3, 3], kernel_size=2, include="counts").json()
    assert body["index"] is None and body["limit"] is None
    assert body["counts"]["connections"] == 16


@pytest.mark.parametrize(("body", "field"), [
    ({"input_shape": [3, 3]}, "kernel"),
    ({"input_shape": [3, 3], "kernel": [[1]], "kernel_size": 1}, "kernel"),
    ({"input_shape": [3, 3], "kernel": [1, 2, 3]}, "kernel"),
    ({"input_shape": [3, 3], "kernel": [[[[1]]]], "channels": 2}, "channels"),
    ({"input_shape": [3, 3], "kernel": [[1]], "filters": 2}, "filters"),
    ({"input_shape": [3, 3], "kernel_size": 4}, "padding"),
    ({"input_shape": [3, 3], "kernel_size": 2, "stride": 0}, "stride"),
    ({"input_shape": [3, 3], "kernel_size": [2, 2, 2]}, "kernel_size"),
    ({"input_shape": [4, 4], "kernel_size": 2, "channels": 3, "groups": 2}, "groups"),
    ({"input_shape": [4, 4], "kernel_size": 2, "groups": 2}, "channels"),
    ({"input_shape": [3, 3], "kernel": [[1, "a"]]}, "kernel"),
    ({"input_shape": [3, 3], "kernel_size": 2, "padding_mode": "reflect"}, "padding_mode"),
])
def test_bad_request_names_the_field(client: Any, assert_error: Any, body: dict[str, Any],
                                     field: str) -> None:
    assert_error(client.post("/api/conv/matrix", json=body), 422, field)
