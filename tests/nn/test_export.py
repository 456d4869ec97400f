"""The exported scripts reproduce Svertka's numbers: run in a subprocess, every layer compared.

Each stack is built and run by `server.nn` (weights seeded, BatchNormalization's statistics
random), exported as a zip, unpacked, and its script run with ``python script out.npz``; every
layer's output must equal `Sequential.run`'s within 1e-4 of the layer's largest value. PyTorch is
installed in CI; the Keras script runs when Keras 3 is importable (backend torch).
"""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.core import ParameterError
from server.nn._export_torch import identifier, uneven_same_average
from server.nn.export import export_zip, keras_script, pytorch_script, weights_npz
from server.nn.model import Sequential

STACKS: dict[str, tuple[list[int], list[dict[str, Any]]]] = {
    "2d": ([9, 8, 3], [
        {"type": "Conv2D", "filters": 4, "kernel_size": 4, "strides": 2, "padding": "same",
         "activation": "relu"},
        {"type": "BatchNormalization"},
        {"type": "ZeroPadding2D", "padding": [[1, 0], [2, 1]]},
        {"type": "Conv2D", "filters": 4, "kernel_size": [2, 3], "dilation_rate": 2,
         "groups": 2, "padding": "same", "activation": "tanh", "name": "grouped-conv_1"},
        {"type": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": "same"},
        {"type": "AveragePooling2D", "pool_size": 2, "strides": 1, "padding": "same"},
        {"type": "LeakyReLU", "negative_slope": 0.1},
        {"type": "ReLU", "max_value": 1.5, "negative_slope": 0.05, "threshold": 0.1},
        {"type": "Dropout", "rate": 0.3},
        {"type": "Dense", "units": 5, "activation": "gelu"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 6, "activation": "selu"},
        {"type": "BatchNormalization", "center": False, "epsilon": 0.01},
        {"type": "Activation", "activation": "softmax"},
    ]),
    "1d": ([17, 2], [
        {"type": "Conv1D", "filters": 3, "kernel_size": 3, "padding": "same",
         "activation": "elu"},
        {"type": "MaxPooling1D"},
        {"type": "AveragePooling1D", "pool_size": 3, "strides": 2, "padding": "same"},
        {"type": "ZeroPadding1D", "padding": [2, 1]},
        {"type": "Conv1D", "filters": 2, "kernel_size": 2, "dilation_rate": 2,
         "activation": "softplus", "use_bias": False},
        {"type": "GlobalAveragePooling1D"},
        {"type": "Dense", "units": 4, "activation": "mish"},
        {"type": "Activation", "activation": "hard_sigmoid"},
    ]),
    "3d": ([5, 6, 4, 2], [
        {"type": "Conv3D", "filters": 3, "kernel_size": [2, 3, 2], "strides": [1, 2, 1],
         "padding": "same", "activation": "sigmoid"},
        {"type": "MaxPooling3D", "pool_size": 2, "padding": "same"},
        {"type": "ZeroPadding3D", "padding": 1},
        {"type": "AveragePooling3D", "pool_size": 2},
        {"type": "BatchNormalization", "scale": False},
        {"type": "GlobalMaxPooling3D", "keepdims": True},
        {"type": "Softmax"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 3, "activation": "swish"},
    ]),
    "vector": ([6], [
        {"type": "Dense", "units": 5, "activation": "hard_silu"},
        {"type": "BatchNormalization"},
        {"type": "Activation", "activation": "relu6"},
        {"type": "Dense", "units": 4, "activation": "softsign"},
        {"type": "Activation", "activation": "log_softmax"},
        {"type": "Activation", "activation": "exponential"},
        {"type": "Dense", "units": 3, "activation": "leaky_relu"},
        {"type": "ReLU"},
        {"type": "Dropout", "rate": 0.5},
    ]),
    "global2d": ([6, 7, 1], [
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "activation": "silu"},
        {"type": "MaxPooling2D", "pool_size": 2, "padding": "same"},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 2, "activation": "linear"},
    ]),
}


def build(name: str, seed: int = 0) -> tuple[Sequential, np.ndarray]:
    input_shape, layers = STACKS[name]
    model = Sequential(input_shape, layers)
    model.init_weights(seed)
    rng = np.random.default_rng(seed + 1)
    for layer in model.layers:
        if layer.type == "BatchNormalization":  # statistics that change the numbers
            layer.weights = [
                (rng.uniform(0.5, 2.0, s) if n in ("gamma", "moving_variance")
                 else rng.normal(0, 0.5, s)).astype(np.float32)
                for n, s in zip(layer.weight_names, layer.weight_shapes, strict=True)]
    return model, rng.normal(0.2, 1.0, input_shape).astype(np.float32)


def run_export(tmp_path: Path, model: Sequential, x: np.ndarray, framework: str,
               env: dict[str, str] | None = None) -> tuple[dict[str, np.ndarray], str]:
    expected = {r.layer.name: r.output for r in model.run(x)}
    data = export_zip(model, framework, x=x, outputs=expected)  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / "svertka_export"
    script = folder / ("model_pytorch.py" if framework == "pytorch" else "model_keras.py")
    out = tmp_path / "out.npz"
    # run from elsewhere: the script must find its files beside itself
    result = subprocess.run([sys.executable, str(script), str(out)], cwd=tmp_path.parent,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stdout + result.stderr
    with np.load(out) as saved:
        return {k: saved[k] for k in saved.files}, result.stdout


def assert_same(model: Sequential, x: np.ndarray, got: dict[str, np.ndarray],
                until: int | None = None) -> None:
    for r in model.run(x)[:until]:
        want = r.output
        assert got[r.layer.name].shape == want.shape, r.layer.name
        scale = max(float(np.abs(want).max()), 1e-6)
        error = float(np.abs(got[r.layer.name] - want).max()) / scale
        assert error < 1e-4, (r.layer.name, r.layer.type, error)


@pytest.mark.parametrize("name", list(STACKS))
def test_pytorch_export_reproduces_every_layer(tmp_path: Path, name: str) -> None:
    pytest.importorskip("torch")
    model, x = build(name)
    got, stdout = run_export(tmp_path, model, x, "pytorch")
    assert_same(model, x, got)
    assert "largest difference from Svertka" in stdout
    assert f"{model.layers[-1].name}: output shape" in stdout


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="keras not installed")
@pytest.mark.parametrize("name", list(STACKS))
def test_keras_export_reproduces_every_layer(tmp_path: Path, name: str) -> None:
    model, x = build(name)
    got, _ = run_export(tmp_path, model, x, "keras", env={"KERAS_BACKEND": "torch"})
    # Keras's torch backend averages uneven "same" windows differently from TensorFlow, JAX and
    # Svertka (tests/nn/test_against_keras.py): compare the layers before such a layer
    differs = [i for i, layer in enumerate(model.layers) if uneven_same_average(layer)]
    assert_same(model, x, got, until=differs[0] if differs else None)


def test_pytorch_export_catches_a_wrong_weight(tmp_path: Path) -> None:
    """The comparison can fail: a changed weight in the zip changes the script's numbers."""
    pytest.importorskip("torch")
    model, x = build("global2d")
    expected = {r.layer.name: r.output for r in model.run(x)}
    model.layers[0].weights[0] = model.layers[0].weights[0] + 0.5  # only the export sees this
    got, _ = run_export(tmp_path, model, x, "pytorch")
    with pytest.raises(AssertionError):
        for name, want in expected.items():
            scale = max(float(np.abs(want).max()), 1e-6)
            assert float(np.abs(got[name] - want).max()) / scale < 1e-4


def test_scripts_without_input_use_the_same_noise() -> None:
    model, _ = build("vector")
    for script in (pytorch_script(model, has_input=False), keras_script(model, has_input=False)):
        assert "np.random.default_rng(0).random((6,), dtype=np.float32)" in script
        assert "input.npy" not in script


def test_scripts_write_the_layout_changes_out() -> None:
    model, _ = build("2d")
    torch_code = pytorch_script(model)
    assert ".permute(3, 2, 0, 1)" in torch_code  # (kh, kw, C_in, F) -> (F, C_in, kh, kw)
    assert "nn.ConstantPad2d((1, 1, 1, 2), 0.0)" in torch_code  # 9x8, k4, s2: W (1, 1), H (1, 2)
    assert "FlattenChannelsLast()" in torch_code and "SameAvgPool(" in torch_code
    assert "eps=0.01" in torch_code
    keras_code = keras_script(model)
    assert "layers.Conv2D(filters=4, kernel_size=4, strides=2, padding='same'" in keras_code
    assert "name='grouped-conv_1'" in keras_code


def test_weights_npz_holds_keras_layouts() -> None:
    model, _ = build("2d")
    with np.load(io.BytesIO(weights_npz(model))) as saved:
        assert saved["conv2d/kernel"].shape == (4, 4, 3, 4)
        assert saved["dense/kernel"].shape == (4, 5)
        assert {"batch_normalization/gamma", "batch_normalization/moving_variance"} <= set(
            saved.files)
        assert "batch_normalization_1/beta" not in saved.files  # center=False


def test_torch_names_are_identifiers() -> None:
    taken: set[str] = set()
    assert [identifier(n, taken) for n in ("a.b-c", "a_b_c", "1x")] == ["a_b_c", "a_b_c_1",
                                                                       "layer_1x"]


def test_keras_script_notes_where_its_torch_backend_differs() -> None:
    model, _ = build("2d")
    assert "the torch backend of Keras 3 pads" in keras_script(model)
    assert "the torch backend" not in keras_script(build("vector")[0])


def test_empty_stack_is_refused() -> None:
    with pytest.raises(ParameterError, match="layers"):
        pytorch_script(Sequential([4], []))
