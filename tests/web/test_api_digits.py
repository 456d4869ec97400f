"""The digit network's endpoints: the model, predictions on UCI grids and drawings, training
and kernel learning streamed as Server-Sent Events, and every bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from server.nn import digits


def events(response: Any) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a Server-Sent Events body."""
    out = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_the_shipped_model_reaches_97_percent_on_the_held_out_digits() -> None:
    model, facts = digits.bundled_model()
    data = digits.load()
    probs = model.predict(data.inputs("test"))
    accuracy = float((probs.argmax(axis=1) == data.test_y).mean())
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(facts["test_accuracy"], abs=1e-9)
    assert (len(data.train_y), len(data.test_y)) == (1347, 450)
    # stratified: a quarter of every digit is held out
    assert all(abs((data.test_y == d).sum() / ((data.test_y == d).sum() + (data.train_y == d)
                                                .sum()) - 0.25) < 0.01 for d in range(10))


def test_model_endpoint_gives_layers_and_weights(client: Any) -> None:
    body = client.get("/api/digits/model").json()
    assert body["input_shape"] == [8, 8, 1] and body["pixel_scale"] == 1 / 16
    assert [la["name"] for la in body["layers"]] == [
        "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense"]
    assert np.array(body["weights"]["conv2d"][0]).shape == (3, 3, 1, 8)
    assert body["test_accuracy"] >= 0.97


@pytest.mark.parametrize("index", [0, 7, 42, 100])
def test_predict_reads_test_digits_as_the_model_does(client: Any, index: int) -> None:
    data = digits.load()
    pixels = data.test_x[index]
    body = client.post("/api/digits/predict", json={"pixels": pixels.tolist()}).json()
    model, _ = digits.bundled_model()
    want = model.run(pixels / 16)[-1].output
    np.testing.assert_allclose(body["probabilities"], want, rtol=1e-5, atol=1e-7)
    assert body["label"] == int(np.argmax(want))
    assert [la["output_shape"] for la in body["layers"]] == [
        [8, 8, 8], [4, 4, 8], [4, 4, 16], [2, 2, 16], [64], [10]]
    assert body["reduction"] is None


def test_a_drawn_digit_is_reduced_the_uci_way_and_read(client: Any) -> None:
    # a test digit drawn big: each UCI pixel becomes a 16x16 patch of ink in proportion
    data = digits.load()
    index = int(np.flatnonzero(data.test_y == 7)[0])
    big = np.kron(data.test_x[index] / 16, np.ones((16, 16)))
    body = client.post("/api/digits/predict", json={"drawing": big.round(3).tolist()}).json()
    assert body["label"] == 7
    reduction = body["reduction"]
    assert np.array(reduction["scaled"]).shape == (32, 32)
    assert np.array(body["pixels"]).shape == (8, 8) and np.max(body["pixels"]) <= 16
    top, left, bottom, right = reduction["box"]
    ink = np.argwhere(big >= 0.5)
    assert (top, left) == tuple(ink.min(axis=0)) and (bottom, right) == tuple(ink.max(axis=0) + 1)


def test_predict_uses_weights_of_a_training_run(client: Any) -> None:
    model = digits.new_model()
    model.init_weights(5)  # untrained: a different answer than the shipped weights
    weights = {k: [w.tolist() for w in ws] for k, ws in model.get_weights().items()}
    pixels = digits.load().test_x[3]
    body = client.post("/api/digits/predict", json={"pixels": pixels.tolist(),
                                                    "weights": weights}).json()
    np.testing.assert_allclose(body["probabilities"], model.run(pixels / 16)[-1].output,
                               rtol=1e-5)


@pytest.mark.parametrize(("body", "field"), [
    ({"pixels": np.zeros((8, 7)).tolist()}, "pixels"),
    ({"pixels": np.full((8, 8), 17).tolist()}, "pixels"),
    ({"pixels": np.full((8, 8), -1).tolist()}, "pixels"),
    ({"drawing": np.zeros((40, 40)).tolist()}, "drawing"),
    ({"drawing": np.zeros((4, 40)).tolist()}, "drawing"),
    ({"drawing": np.full((20, 20), 2.0).tolist()}, "drawing"),
    ({}, "pixels"),
    ({"pixels": np.zeros((8, 8)).tolist(), "drawing": np.ones((9, 9)).tolist()}, "pixels"),
    ({"pixels": np.zeros((8, 8)).tolist(), "weights": {"dense": [[[0.0]]]}},
     "weights.dense"),
])
def test_bad_predict_is_a_422_naming_the_field(client: Any, assert_error: Any,
                                               body: dict[str, Any], field: str) -> None:
    assert_error(client.post("/api/digits/predict", json=body), 422, field)


def test_training_streams_progress_and_ends_with_a_confusion_matrix(client: Any) -> None:
    response = client.post("/api/digits/train", json={"epochs": 1, "client": "page-0001",
                                                      "batch_size": 64})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = events(response)
    names = [name for name, _ in stream]
    assert names[0] == "start" and names[-1] == "done" and "epoch" in names
    assert names.count("batch") == stream[0][1]["batches"] == 22  # 1347 / 64, rounded up
    epoch = dict(stream)["epoch"]
    assert np.array(epoch["kernels"]).shape == (3, 3, 1, 8) and 0 < epoch["val_accuracy"] <= 1
    done = stream[-1][1]
    confusion = np.array(done["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 450
    assert np.trace(confusion) / 450 == pytest.approx(done["test_accuracy"])
    assert np.array(done["weights"]["dense"][0]).shape == (64, 10)


def test_one_training_run_per_page_and_a_few_in_all(make_client: Any, assert_error: Any
                                                    ) -> None:
    from server.web.routes.digits import _Jobs

    jobs = _Jobs()
    jobs.start("page-a", 2)
    with pytest.raises(Exception) as busy:
        jobs.start("page-a", 2)
    assert busy.value.status == 409  # type: ignore[attr-defined]
    jobs.start("page-b", 2)
    with pytest.raises(Exception) as full:
        jobs.start("page-c", 2)
    assert full.value.status == 503  # type: ignore[attr-defined]
    jobs.end("page-a")
    jobs.start("page-c", 2)


@pytest.mark.parametrize(("body", "field"), [
    ({"epochs": 0, "client": "page-0001"}, "epochs"),
    ({"epochs": 31, "client": "page-0001"}, "epochs"),
    ({"client": "x"}, "client"),
    ({"client": "page-0001", "optimizer": "rmsprop"}, "optimizer"),
])
def test_bad_training_request_is_a_422(client: Any, assert_error: Any, body: dict[str, Any],
                                       field: str) -> None:
    assert_error(client.post("/api/digits/train", json=body), 422, field)


def test_a_kernel_is_learned_from_a_photo_by_gradient_descent(client: Any) -> None:
    response = client.post("/api/learn/kernel", json={"target": "sobel_x", "steps": 120,
                                                      "max_side": 48})
    stream = events(response)
    start, done = stream[0][1], stream[-1][1]
    steps = [data for name, data in stream if name == "step"]
    assert len(steps) == 120 and steps[0]["loss"] > 100 * steps[-1]["loss"]
    target = np.array(start["target"])
    np.testing.assert_allclose(done["kernel"], target, atol=0.02)
    assert np.array(steps[0]["kernel"]).shape == (3, 3)


@pytest.mark.parametrize(("body", "field"), [
    ({"target": "no_such_kernel"}, "target"),
    ({"target": [[1, 2], [3, 4]]}, "target"),
    ({"steps": 0}, "steps"),
    ({"image_id": "0123456789abcdef0123"}, "image_id"),
])
def test_bad_learn_kernel_request(client: Any, assert_error: Any, body: dict[str, Any],
                                  field: str) -> None:
    status = 404 if field == "image_id" else 422
    assert_error(client.post("/api/learn/kernel", json=body), status, field)
