"""POST /api/network/run's `return_weights` and `return_input`: the numbers a page needs to
show a layer's arithmetic (the seeded weights are otherwise known only to the server)."""

from __future__ import annotations

from typing import Any

import numpy as np

STACK = [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 4, "activation": "softmax"},
]
X = np.arange(6 * 6 * 2, dtype=np.float32).reshape(6, 6, 2) / 10.0


def run(client: Any, **extra: Any) -> dict[str, Any]:
    body = {"input_shape": [6, 6, 2], "layers": STACK, "input": X.tolist(), "seed": 7, **extra}
    response = client.post("/api/network/run", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def conv_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras's Conv2D ('valid', stride 1) by loops: x (H, W, C), kernel (kh, kw, C, F)."""
    kh, kw, _, filters = kernel.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1, filters))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            window = x[i:i + kh, j:j + kw, :, None]
            out[i, j] = (window * kernel).sum(axis=(0, 1, 2)) + bias
    return out


def test_returned_weights_reproduce_the_layer_outputs(client: Any) -> None:
    body = run(client, return_weights=True)
    rows = {row["name"]: row for row in body["layers"]}
    kernel, bias = (np.array(a) for a in rows["conv2d"]["weights"])
    assert kernel.shape == (3, 3, 2, 3) and bias.shape == (3,)
    expected = np.maximum(conv_valid(X.astype(np.float64), kernel, bias), 0)
    np.testing.assert_allclose(rows["conv2d"]["output"], expected, rtol=1e-5, atol=1e-5)
    dense_kernel, dense_bias = (np.array(a) for a in rows["dense"]["weights"])
    assert dense_kernel.shape == (2 * 2 * 3, 4)
    logits = np.array(rows["flatten"]["output"]) @ dense_kernel + dense_bias
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(rows["dense"]["output"], probabilities, rtol=1e-5, atol=1e-6)
    assert rows["max_pooling2d"]["weights"] == [] and rows["flatten"]["weights"] == []


def test_seeded_weights_are_the_same_for_the_same_seed(client: Any) -> None:
    first = run(client, return_weights=True)["layers"][0]["weights"]
    again = run(client, return_weights=True)["layers"][0]["weights"]
    other = run(client, return_weights=True, seed=8)["layers"][0]["weights"]
    assert first == again
    assert first != other


def test_given_weights_come_back_as_given(client: Any) -> None:
    kernel = np.linspace(-1, 1, 3 * 3 * 2 * 3, dtype=np.float32).reshape(3, 3, 2, 3)
    given = {"conv2d": [kernel.tolist(), [0.5, -0.25, 0.0]]}
    row = run(client, return_weights=True, weights=given)["layers"][0]
    np.testing.assert_allclose(row["weights"][0], kernel)
    assert row["weights"][1] == [0.5, -0.25, 0.0]


def test_weights_of_the_named_layers_only(client: Any) -> None:
    body = run(client, return_weights=["dense"], outputs=[])
    rows = {row["name"]: row for row in body["layers"]}
    assert rows["conv2d"]["weights"] is None and rows["conv2d"]["output"] is None
    assert len(rows["dense"]["weights"]) == 2 and rows["dense"]["output"] is None


def test_weights_of_an_unknown_layer_name_the_field(client: Any, assert_error: Any) -> None:
    body = {"input_shape": [6, 6, 2], "layers": STACK, "input": X.tolist(),
            "return_weights": ["conv2d", "conv9"]}
    envelope = assert_error(client.post("/api/network/run", json=body), 422,
                            "return_weights[1]")
    assert "conv9" in envelope["message"] and "conv2d" in envelope["accepted"]


def test_nothing_extra_unless_asked(client: Any) -> None:
    body = run(client)
    assert "input" not in body
    assert all("weights" not in row for row in body["layers"])


def test_input_comes_back_as_the_stack_received_it(client: Any) -> None:
    np.testing.assert_allclose(run(client, return_input=True)["input"], X, rtol=1e-6)


def test_photo_input_comes_back_resized_and_scaled(client: Any) -> None:
    sample = client.get("/api/samples").json()[0]
    body = {"input_shape": [8, 8, 1], "layers": STACK[:1], "image_id": sample["id"],
            "pixel_scale": 1 / 255, "return_input": True, "outputs": ["conv2d"]}
    answer = client.post("/api/network/run", json=body).json()
    x = np.array(answer["input"])
    assert x.shape == (8, 8, 1) and x.min() >= 0.0 and x.max() <= 1.0
    assert answer["input_source"]["resized"] is True


def test_weights_beyond_the_json_limit_are_null(make_client: Any) -> None:
    client = make_client(max_json_elements=100)
    row = run(client, return_weights=["conv2d"], outputs=["conv2d"])["layers"][0]
    # the output (48 values) is counted first and fits; the kernel and bias (54 + 3) do not
    assert row["output"] is not None and row["weights"] is None


def test_input_beyond_the_json_limit_is_null(make_client: Any) -> None:
    client = make_client(max_json_elements=80)
    sample = client.get("/api/samples").json()[0]
    body = {"input_shape": [10, 10, 1], "layers": STACK[:1], "image_id": sample["id"],
            "return_input": True, "outputs": []}
    answer = client.post("/api/network/run", json=body).json()
    assert answer["input"] is None
