"""POST/GET /api/models and /api/network/run with `model_id`: Keras files uploaded, summarized,
stored like images, run layer by layer equal to Keras; hostile files refused with clear 4xx."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from keras_helpers import MODELS, expected, fixture  # noqa: E402


def upload(client: Any, name: str, data: bytes | None = None) -> Any:
    content = fixture(name) if data is None else data
    return client.post("/api/models", files={"file": (name, content, "application/octet-stream")})


@pytest.mark.parametrize("name", MODELS)
def test_upload_summarizes_with_the_models_own_names(client: Any, name: str) -> None:
    response = upload(client, name)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/models/{body['id']}"
    want = expected(name)
    names = [key.split("/", 1)[1] for key in want if key.startswith("output/")]
    assert [layer["name"] for layer in body["layers"]] == names
    assert body["input_shape"] == list(want["input"].shape)
    total = sum(want[k].size for k in want if k.startswith("weight/"))
    assert body["total_params"] == total
    assert body["format"] == ("h5" if name.endswith(".h5") else "keras")
    again = client.get(f"/api/models/{body['id']}").json()
    assert again == body
    assert upload(client, name).json()["id"] == body["id"]  # content-addressed


@pytest.mark.parametrize("name", MODELS)
def test_run_with_model_id_equals_keras_layer_by_layer(client: Any, name: str) -> None:
    model_id = upload(client, name).json()["id"]
    want = expected(name)
    response = client.post("/api/network/run", json={"model_id": model_id,
                                                     "input": want["input"].tolist()})
    assert response.status_code == 200, response.text
    for layer in response.json()["layers"]:
        reference = want[f"output/{layer['name']}"]
        tolerance = 1e-4 * max(float(np.abs(reference).max()), 1.0)
        np.testing.assert_allclose(np.array(layer["output"]), reference, atol=tolerance,
                                   rtol=0, err_msg=layer["name"])


def test_a_photo_is_resized_and_greyed_for_a_models_input(client: Any) -> None:
    model_id = upload(client, "convnet2d.keras").json()["id"]
    model = client.get(f"/api/models/{model_id}").json()
    sample = client.get("/api/samples").json()[0]["id"]
    body = client.post("/api/network/run", json={"model_id": model_id, "image_id": sample,
                                                 "pixel_scale": 1 / 255}).json()
    height, width, channels = model["input_shape"]
    assert body["input_source"]["size"] == [height, width]
    assert body["input_source"]["resized"] is True
    assert body["input_source"]["color"] == ("gray" if channels == 1 else "rgb")


@pytest.mark.parametrize("name", ["lambda.keras", "custom.keras", "branching.keras"])
def test_code_and_branches_are_refused_naming_the_layer(client: Any, assert_error: Any,
                                                        name: str) -> None:
    body = upload(client, name).json()
    assert body["status"] == 422 and body["field"].startswith("layers[")
    assert "layer '" in body["message"]


def test_a_zip_bomb_is_refused_before_inflating(client: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b"{}")
        archive.writestr("model.weights.h5", b"\0" * (600 * 1024 * 1024))
        archive.writestr("metadata.json", b"{}")
    response = upload(client, "bomb.keras", buffer.getvalue())
    assert response.status_code == 413, response.text
    assert response.json()["field"] == "file"


@pytest.mark.parametrize("data", [b"", b"not a model at all", b"PK\x03\x04 truncated"])
def test_garbage_is_a_clear_4xx(client: Any, data: bytes) -> None:
    response = upload(client, "x.keras", data)
    assert 400 <= response.status_code < 500 and response.json()["field"] == "file"


def test_model_size_limit_is_its_own_setting(make_client: Any) -> None:
    client = make_client(max_model_bytes=4096)
    response = upload(client, "convnet2d.keras")
    assert response.status_code == 413
    assert "4096" in response.json()["message"]


def test_unknown_model_is_a_404(client: Any, assert_error: Any) -> None:
    assert_error(client.get("/api/models/0123456789abcdef0123"), 404, "model_id")
    assert_error(client.get("/api/models/not-an-id"), 404, "model_id")
    assert_error(client.post("/api/network/run", json={"model_id": "0123456789abcdef0123",
                                                       "input": [[1.0]]}), 404, "model_id")


def test_model_id_with_its_own_layers_is_refused(client: Any, assert_error: Any) -> None:
    model_id = upload(client, "chain.keras").json()["id"]
    assert_error(client.post("/api/network/run", json={
        "model_id": model_id, "layers": [{"type": "Flatten"}], "input": [[1.0]]}), 422, "layers")


def test_models_survive_a_restart_of_the_app(make_client: Any) -> None:
    first = make_client()
    model_id = upload(first, "chain.h5").json()["id"]
    second = make_client()  # same data directory, fresh process state (no cache)
    assert second.get(f"/api/models/{model_id}").status_code == 200
