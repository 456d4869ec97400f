"""POST /api/network/run: every layer of a stack on an input, against the core calls composed by
hand, with given or seeded weights, photos, PNG grids, .npz, limits and every bad input."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from server.core import conv, pool
from server.nn.model import Sequential

CONV = {"type": "Conv2D", "filters": 2, "kernel_size": 3, "activation": "relu"}
LESSON = [CONV, {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
          {"type": "Dense", "units": 3, "activation": "softmax"}]
X = np.arange(36, dtype=np.float32).reshape(6, 6) / 10


def run(client: Any, **body: Any) -> Any:
    return client.post("/api/network/run", json=body)


def kernel(rng: np.random.Generator, *shape: int) -> list[Any]:
    return rng.normal(size=shape).round(3).tolist()


def test_run_equals_the_core_calls_composed_by_hand(client: Any) -> None:
    rng = np.random.default_rng(0)
    k, b = kernel(rng, 3, 3, 1, 2), [0.5, -0.25]
    d, db = kernel(rng, 8, 3), [0.1, 0.0, -0.1]
    response = run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist(),
                   weights={"conv2d": [k, b], "dense": [d, db]})
    assert response.status_code == 200, response.text
    body = response.json()
    # by hand: the kernel to the core's (F, C, kh, kw), conv + relu, pool, Keras's flatten
    w = np.transpose(np.array(k, np.float32), (3, 2, 0, 1))
    c = np.maximum(conv(X[None], w, bias=np.array(b, np.float32)), 0)
    p = pool(c, mode="max", kernel_size=[2, 2])
    flat = np.moveaxis(p, 0, -1).reshape(-1)
    logits = flat @ np.array(d, np.float32) + np.array(db, np.float32)
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    expected = [np.moveaxis(c, 0, -1), np.moveaxis(p, 0, -1), flat, probs]
    names = ["conv2d", "max_pooling2d", "flatten", "dense"]
    assert [layer["name"] for layer in body["layers"]] == names
    for layer, want in zip(body["layers"], expected, strict=True):
        got = np.array(layer["output"])
        assert list(got.shape) == layer["output_shape"] == list(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert layer["range"] == pytest.approx([want.min(), want.max()], rel=1e-5, abs=1e-6)
    assert [la["params"] for la in body["layers"]] == [20, 0, 0, 27]
    assert [la["macs"] for la in body["layers"]] == [4 * 4 * 2 * 9, 0, 0, 8 * 3]
    assert body["total_macs"] == 4 * 4 * 2 * 9 + 24
    assert "forward;dur=" in response.headers["server-timing"]


def test_seeded_weights_are_keras_glorot_and_reproducible(client: Any) -> None:
    body = {"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(), "seed": 7}
    first, again = run(client, **body).json(), run(client, **body).json()
    other = run(client, **{**body, "seed": 8}).json()
    assert first["layers"][-1]["output"] == again["layers"][-1]["output"]
    assert first["layers"][-1]["output"] != other["layers"][-1]["output"]
    model = Sequential([6, 6, 1], LESSON)
    model.init_weights(7)
    kernel0, bias0 = model.layers[0].weights
    limit = np.sqrt(6 / (9 * 1 + 9 * 2))  # fan_in = 3*3*1, fan_out = 3*3*2
    assert np.abs(kernel0).max() <= limit and np.abs(kernel0).max() > 0.5 * limit
    assert not bias0.any()
    np.testing.assert_allclose(first["layers"][-1]["output"], model.run(X)[-1].output,
                               rtol=1e-6)


def test_npz_holds_every_layer_and_the_input(client: Any) -> None:
    response = client.post("/api/network/run?format=npz", json={
        "input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist()})
    assert response.status_code == 200
    arrays = np.load(io.BytesIO(response.content))
    assert set(arrays.files) == {"input", "conv2d", "max_pooling2d", "flatten", "dense"}
    assert arrays["conv2d"].shape == (4, 4, 2) and arrays["input"].shape == (6, 6, 1)
    body = run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist()).json()
    np.testing.assert_array_equal(arrays["dense"], np.array(body["layers"][-1]["output"],
                                                            np.float32))


def test_render_gives_a_png_grid_per_map_layer(client: Any) -> None:
    body = run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist(),
               render={"mode": "stretch"}).json()
    conv_row = body["layers"][0]
    assert conv_row["grid"]["count"] == 2 and conv_row["grid"]["height"] == 4
    png = base64.b64decode(conv_row["png"].split(",", 1)[1])
    picture = np.asarray(Image.open(io.BytesIO(png)))
    g = conv_row["grid"]
    assert picture.shape[:2] == (g["rows"] * g["height"] + (g["rows"] - 1) * g["gap"],
                                 g["columns"] * g["width"] + (g["columns"] - 1) * g["gap"])
    # the first tile is channel 0 stretched over the layer's range
    out = np.array(conv_row["output"])[..., 0]
    lo, hi = conv_row["range"]
    np.testing.assert_allclose(picture[:4, :4], np.round((out - lo) / (hi - lo) * 255), atol=1)
    assert body["layers"][2]["png"] is None  # a vector is drawn by the page as bars


def test_outputs_selects_the_layers_whose_numbers_come_back(client: Any) -> None:
    body = run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist(),
               outputs=["dense"]).json()
    assert [la["output"] is None for la in body["layers"]] == [True, True, True, False]
    assert all(la["range"] for la in body["layers"])


def test_big_outputs_beyond_the_json_limit_are_left_out(make_client: Any) -> None:
    client = make_client(max_json_elements=40)
    body = run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist()).json()
    # first come, first served: 32 values fit, then 8 more; nothing is left for the rest
    assert [la["output"] is not None for la in body["layers"]] == [True, True, False, False]


def test_training_dropout_returns_its_mask(client: Any) -> None:
    layers = [{"type": "Dropout", "rate": 0.5}]
    x = np.ones((4, 4, 2)).tolist()
    inference = run(client, input_shape=[4, 4, 2], layers=layers, input=x).json()["layers"][0]
    assert inference["mask"] is None and np.all(np.array(inference["output"]) == 1)
    train = run(client, input_shape=[4, 4, 2], layers=layers, input=x, training=True,
                seed=3).json()["layers"][0]
    mask, out = np.array(train["mask"]), np.array(train["output"])
    assert mask.shape == (4, 4, 2) and mask.dtype == bool and 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(out, np.where(mask, 2.0, 0.0))  # kept values scaled by 1/(1-p)


@pytest.fixture
def photo_id(client: Any, make_image: Any) -> str:
    response = client.post("/api/images", files={"file": ("p.png", make_image(size=(40, 30)),
                                                          "image/png")})
    return str(response.json()["id"])


def test_photo_takes_its_own_shape_when_none_is_given(client: Any, photo_id: str) -> None:
    body = run(client, image_id=photo_id, layers=[CONV], max_side=20).json()
    assert body["input_shape"] == [15, 20, 3]
    assert body["input_source"] == {"image_id": photo_id, "original": [30, 40],
                                    "size": [15, 20], "color": "rgb", "resized": False}
    assert body["layers"][0]["output_shape"] == [13, 18, 2]


def test_photo_is_resized_and_greyed_to_the_input_shape(client: Any, photo_id: str) -> None:
    body = run(client, image_id=photo_id, input_shape=[8, 8, 1], pixel_scale=1 / 255,
               layers=[{"type": "Flatten"}]).json()
    source = body["input_source"]
    assert source["size"] == [8, 8] and source["resized"] and source["grey"]
    grey = Image.open(io.BytesIO(client.get(f"/api/images/{photo_id}").content)).convert("L")
    want = np.asarray(grey.resize((8, 8), Image.Resampling.LANCZOS, reducing_gap=2.0),
                      np.float32) / 255
    np.testing.assert_allclose(body["layers"][0]["output"], want.reshape(-1), atol=1e-6)


def test_1d_and_3d_stacks_run(client: Any) -> None:
    signal = np.linspace(-1, 1, 12, dtype=np.float32).reshape(12, 1)
    body = run(client, input_shape=[12, 1], input=signal.tolist(), layers=[
        {"type": "Conv1D", "filters": 2, "kernel_size": 3, "padding": "same"},
        {"type": "GlobalAveragePooling1D"}]).json()
    assert [la["output_shape"] for la in body["layers"]] == [[12, 2], [2]]
    assert body["layers"][0]["grid"] is None  # no render asked
    volume = np.ones((4, 4, 4, 1)).tolist()
    body = run(client, input_shape=[4, 4, 4, 1], input=volume, layers=[
        {"type": "Conv3D", "filters": 1, "kernel_size": 2, "use_bias": False}],
        weights={"conv3d": [np.ones((2, 2, 2, 1, 1)).tolist()]}).json()
    assert np.all(np.array(body["layers"][0]["output"]) == 8)


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(),
      "weights": {"conv2d": [np.zeros((3, 3, 2, 2)).tolist(), [0, 0]]}}, 422,
     "weights.conv2d[0]"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(),
      "weights": {"conv2d": [np.zeros((3, 3, 1, 2)).tolist()]}}, 422, "weights.conv2d"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(),
      "weights": {"conv9": []}}, 422, "weights.conv9"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X[:5].tolist()}, 422, "input"),
    ({"input_shape": [6, 6, 1], "layers": LESSON}, 422, "input"),
    ({"layers": LESSON, "input": X.tolist()}, 422, "input_shape"),
    ({"input_shape": [6, 6, 1], "input": X.tolist()}, 422, "layers"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(), "max_side": 4}, 422,
     "max_side"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(), "outputs": ["dense2"]},
     422, "outputs[0]"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "input": X.tolist(), "seed": -1}, 422,
     "seed"),
    ({"input_shape": [6, 6, 1], "layers": [CONV, {**CONV, "name": "conv2d"}],
      "input": X.tolist()}, 422, "layers[1].name"),
    ({"model_id": "0123456789abcdef0123", "input": X.tolist()}, 404, "model_id"),
    ({"input_shape": [6, 6, 1], "layers": LESSON, "image_id": "0123456789abcdef0123"}, 404,
     "image_id"),
])
def test_bad_run_gets_an_envelope_naming_the_field(client: Any, assert_error: Any,
                                                   body: dict[str, Any], status: int,
                                                   field: str) -> None:
    assert_error(run(client, **body), status, field)


def test_wrong_weight_shape_names_layer_and_expected_shape(client: Any) -> None:
    response = run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist(),
                   weights={"dense": [np.zeros((9, 3)).tolist(), [0, 0, 0]]})
    message = response.json()["message"]
    assert "'dense'" in message and "[8, 3]" in message and "[9, 3]" in message


def test_work_limit_is_checked_before_computing(make_client: Any, assert_error: Any) -> None:
    client = make_client(max_work=100)
    body = assert_error(run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist()),
                        422, "layers[0]")
    assert body["code"] == "limit" and "288" in body["message"]


def test_output_limit_counts_every_layer(make_client: Any, assert_error: Any) -> None:
    client = make_client(max_output_elements=40)
    body = assert_error(run(client, input_shape=[6, 6, 1], layers=LESSON, input=X.tolist()),
                        422, "layers")
    assert "51" in body["message"]  # 32 + 8 + 8 + 3 values


def test_huge_overflowing_weights_are_a_422(client: Any, assert_error: Any) -> None:
    assert_error(run(client, input_shape=[2], layers=[{"type": "Dense", "units": 1},
                                                      {"type": "Dense", "units": 1}],
                     input=[1e30, 1e30], weights={"dense": [[[1e30], [1e30]], [0]]}),
                 422, "weights")
