"""Every layer type against Keras 3 itself (torch backend): the same stack and weights, every
layer's output compared within 1e-4 of the largest value.

Keras is a test dependency; the module skips where it cannot be imported.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from server.nn.model import Sequential  # noqa: E402

# Keras hands NumPy arrays to torch in a way NumPy 2 deprecates: their warning, not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

STACKS: dict[str, tuple[list[int], list[dict[str, Any]]]] = {
    "convnet-2d": ([12, 11, 3], [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same",
         "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2, "padding": "same"},
        {"type": "Conv2D", "filters": 6, "kernel_size": [3, 2], "strides": 2, "use_bias": False},
        {"type": "BatchNormalization", "epsilon": 0.01},
        {"type": "LeakyReLU", "negative_slope": 0.2},
        {"type": "Flatten"}, {"type": "Dropout", "rate": 0.3},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ]),
    "same-stride-dilation": ([9, 10, 2], [
        {"type": "Conv2D", "filters": 3, "kernel_size": 4, "strides": 3, "padding": "same"},
        {"type": "ZeroPadding2D", "padding": [[1, 2], [0, 3]]},
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same",
         "activation": "tanh"},
        # symmetric padding: see test_average_pooling_same_counts_only_the_input
        {"type": "AveragePooling2D", "pool_size": 3, "strides": 1, "padding": "same"},
        {"type": "GlobalMaxPooling2D"},
    ]),
    "groups-and-relu": ([7, 7, 4], [
        {"type": "Conv2D", "filters": 6, "kernel_size": 3, "groups": 2, "activation": "elu"},
        {"type": "ReLU", "max_value": 0.5, "negative_slope": 0.1, "threshold": 0.05},
        {"type": "GlobalAveragePooling2D", "keepdims": True},
        {"type": "Dense", "units": 3, "activation": "gelu"},
        {"type": "Softmax"},
    ]),
    "dense-on-a-map": ([4, 5, 3], [
        {"type": "Dense", "units": 2, "activation": "sigmoid"},
        {"type": "Activation", "activation": "softplus"},
        {"type": "BatchNormalization", "center": False},
        {"type": "Flatten"},
    ]),
    "conv-1d": ([20, 2], [
        {"type": "Conv1D", "filters": 3, "kernel_size": 5, "strides": 2, "padding": "same",
         "activation": "swish"},
        {"type": "ZeroPadding1D", "padding": [2, 1]},
        {"type": "MaxPooling1D", "pool_size": 3, "strides": 1},
        {"type": "AveragePooling1D", "pool_size": 2},
        {"type": "GlobalMaxPooling1D"},
        {"type": "Dense", "units": 4, "activation": "selu"},
    ]),
    "conv-3d": ([6, 7, 5, 2], [
        {"type": "Conv3D", "filters": 3, "kernel_size": [3, 2, 2], "padding": "same",
         "activation": "relu6"},
        {"type": "ZeroPadding3D", "padding": 1},
        {"type": "MaxPooling3D", "pool_size": 2, "padding": "same"},
        {"type": "AveragePooling3D", "pool_size": [2, 1, 2]},
        {"type": "GlobalAveragePooling3D"},
        {"type": "Dense", "units": 2, "activation": "mish"},
    ]),
    "vector": ([6], [
        {"type": "Dense", "units": 5, "activation": "hard_sigmoid"},
        {"type": "Dense", "units": 4, "activation": "hard_silu", "use_bias": False},
        {"type": "Activation", "activation": "log_softmax"},
        {"type": "Activation", "activation": "softsign"},
        {"type": "Activation", "activation": "exponential"},
    ]),
}


def keras_model(input_shape: list[int], layers: list[dict[str, Any]]) -> Any:
    keras.backend.clear_session()  # Keras numbers its automatic names per session
    made = []
    for spec in layers:
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        for key, value in kwargs.items():
            if isinstance(value, list):
                kwargs[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        made.append(getattr(keras.layers, spec["type"])(**kwargs))
    return keras.Sequential([keras.Input(tuple(input_shape)), *made])


@pytest.mark.parametrize("name", list(STACKS))
def test_every_layer_equals_keras(name: str) -> None:
    input_shape, layers = STACKS[name]
    ours = Sequential(input_shape, layers)
    ours.init_weights(seed=3)
    rng = np.random.default_rng(1)
    # batch norm's moving statistics are not the initial ones, so the test can tell them apart
    for layer in ours.layers:
        if layer.type == "BatchNormalization":
            layer.weights = [rng.uniform(0.5, 1.5, w.shape).astype(np.float32)
                             for w in layer.weights]
    theirs = keras_model(input_shape, layers)
    assert [la.name for la in theirs.layers] == [la.name for la in ours.layers]
    for ours_layer, keras_layer in zip(ours.layers, theirs.layers, strict=True):
        keras_layer.set_weights(ours_layer.weights)
    x = rng.normal(size=input_shape).astype(np.float32)
    probe = keras.Model(theirs.inputs, [la.output for la in theirs.layers])
    expected = [e[0] for e in probe.predict(x[None], verbose=0)]
    for got, want in zip(ours.run(x), expected, strict=True):
        assert got.output.shape == want.shape, got.layer.name
        assert tuple(got.layer.summary.output_shape) == want.shape, got.layer.name
        tol = 1e-4 * max(float(np.abs(want).max()), 1.0)
        np.testing.assert_allclose(got.output, want, atol=tol, rtol=0, err_msg=got.layer.name)


@pytest.mark.parametrize("name", list(STACKS))
def test_summary_equals_keras_counts(name: str) -> None:
    input_shape, layers = STACKS[name]
    ours = Sequential(input_shape, layers)
    theirs = keras_model(input_shape, layers)
    assert [la.params for la in ours.layers] == [la.count_params() for la in theirs.layers]
    assert [la.summary.output_shape for la in ours.layers] == [
        tuple(la.output.shape[1:]) for la in theirs.layers]


def test_average_pooling_same_counts_only_the_input() -> None:
    """Uneven "same" padding: the mean of the input values under the window, as TensorFlow and
    JAX compute it. (Keras's torch backend instead pads by repeating the edge there, so its
    answer differs from its other backends'; we follow the other two.)"""
    x = np.arange(20, dtype=np.float32).reshape(4, 5, 1)
    model = Sequential([4, 5, 1], [{"type": "AveragePooling2D", "pool_size": 2, "strides": 2,
                                    "padding": "same"}])
    got = model.run(x)[0].output[..., 0]
    # out = ceil(n / 2): rows 0-1, 2-3; columns 0-1, 2-3 and the lone column 4
    want = np.array([[x[0:2, 0:2].mean(), x[0:2, 2:4].mean(), x[0:2, 4:5].mean()],
                     [x[2:4, 0:2].mean(), x[2:4, 2:4].mean(), x[2:4, 4:5].mean()]])
    np.testing.assert_allclose(got, want, rtol=1e-6)
