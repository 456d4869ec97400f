"""POST /api/network/export: Keras and PyTorch scripts with the weights, or the weights alone."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

LAYERS = [{"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same",
           "activation": "relu"},
          {"type": "MaxPooling2D"}, {"type": "Flatten"}, {"type": "Dense", "units": 4}]
INPUT = np.arange(5 * 4 * 2, dtype=np.float32).reshape(5, 4, 2) / 10


def export(client: Any, fmt: str, **extra: Any) -> Any:
    return client.post(f"/api/network/export?format={fmt}",
                       json={"input_shape": [5, 4, 2], "layers": LAYERS, "seed": 3, **extra})


def files(response: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_npz_holds_the_weights_run_uses(client: Any) -> None:
    response = export(client, "npz")
    assert response.status_code == 200, response.text
    assert 'filename="weights.npz"' in response.headers["content-disposition"]
    run = client.post("/api/network/run?format=npz", json={
        "input_shape": [5, 4, 2], "layers": LAYERS, "seed": 3, "input": INPUT.tolist()})
    with np.load(io.BytesIO(response.content)) as weights, np.load(io.BytesIO(
            run.content)) as outputs:
        assert set(weights.files) == {"conv2d/kernel", "conv2d/bias", "dense/kernel",
                                      "dense/bias"}
        assert weights["conv2d/kernel"].shape == (3, 3, 2, 3)
        # the last layer recomputed from the exported weights equals the run's
        flat = outputs["flatten"]
        np.testing.assert_allclose(flat @ weights["dense/kernel"] + weights["dense/bias"],
                                   outputs["dense"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmt", ["keras", "pytorch"])
def test_zip_without_input_has_script_and_weights(client: Any, fmt: str) -> None:
    response = export(client, fmt)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    got = files(response)
    assert set(got) == {f"model_{fmt}.py", "weights.npz"}
    compile(got[f"model_{fmt}.py"].decode(), f"model_{fmt}.py", "exec")


def test_pytorch_zip_with_input_prints_svertka_numbers(client: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    response = export(client, "pytorch", input=INPUT.tolist())
    got = files(response)
    assert set(got) == {"model_pytorch.py", "weights.npz", "input.npy", "svertka_outputs.npz"}
    for name, data in got.items():
        (tmp_path / name).write_bytes(data)
    np.testing.assert_array_equal(np.load(tmp_path / "input.npy"), INPUT)
    result = subprocess.run([sys.executable, "model_pytorch.py", "out.npz"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    run = client.post("/api/network/run", json={
        "input_shape": [5, 4, 2], "layers": LAYERS, "seed": 3, "input": INPUT.tolist()}).json()
    with np.load(tmp_path / "out.npz") as out:
        np.testing.assert_allclose(out["dense"], run["layers"][-1]["output"], rtol=1e-4,
                                   atol=1e-5)
    assert result.stdout.count("largest difference from Svertka") == len(LAYERS)


def test_photo_input_is_exported_as_run_resizes_it(client: Any) -> None:
    samples = client.get("/api/samples").json()
    image_id = samples[0]["id"]
    response = client.post("/api/network/export?format=keras", json={
        "input_shape": [6, 5, 3], "layers": LAYERS, "image_id": image_id,
        "pixel_scale": 1 / 255})
    assert response.status_code == 200, response.text
    x = np.load(io.BytesIO(files(response)["input.npy"]))
    assert x.shape == (6, 5, 3) and x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"input_shape": [5, 4, 2], "layers": []}, "layers", 422),
    ({"layers": LAYERS}, "input_shape", 422),
    ({"input_shape": [5, 4, 2], "layers": LAYERS, "weights": {"conv2d": [[1.0]]}},
     "weights.conv2d", 422),
    ({"input_shape": [5, 4, 2], "layers": LAYERS, "input": [[1.0]]}, "input", 422),
])
def test_bad_export_names_the_field(client: Any, assert_error: Any, body: dict[str, Any],
                                    field: str, status: int) -> None:
    assert_error(client.post("/api/network/export?format=pytorch", json=body), status, field)


def test_unknown_format_is_refused(client: Any, assert_error: Any) -> None:
    response = client.post("/api/network/export?format=onnx",
                           json={"input_shape": [5, 4, 2], "layers": LAYERS})
    assert_error(response, 422, "format")
