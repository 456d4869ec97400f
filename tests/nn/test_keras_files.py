"""Reading Keras model files: the committed fixtures (made by Keras 3), Keras 2's vocabulary, and
every config the reader must refuse with a message naming the layer."""

from __future__ import annotations

import io
import json
from typing import Any

import h5py
import numpy as np
import pytest
from keras_helpers import (
    FIXTURES,
    MODELS,
    edit_keras,
    expected,
    fixture,
    layer_config,
    read,
)

from server.nn._keras_graph import read_chain
from server.nn.keras_files import SUPPORTED, ModelFileError, _layers

# The argument names each class may carry in Svertka's vocabulary (the body of /api/network).
ARGS = {
    **{f"Conv{r}D": {"filters", "kernel_size", "strides", "padding", "dilation_rate", "groups",
                     "activation", "use_bias"} for r in (1, 2, 3)},
    "Dense": {"units", "activation", "use_bias"},
    **{f"{k}Pooling{r}D": {"pool_size", "strides", "padding"}
       for k in ("Max", "Average") for r in (1, 2, 3)},
    **{f"Global{k}Pooling{r}D": {"keepdims"} for k in ("Max", "Average") for r in (1, 2, 3)},
    "Flatten": set(), "Dropout": {"rate"}, "Activation": {"activation"},
    "ReLU": {"max_value", "negative_slope", "threshold"}, "LeakyReLU": {"negative_slope"},
    "Softmax": {"axis"}, "BatchNormalization": {"axis", "momentum", "epsilon", "center", "scale"},
    **{f"ZeroPadding{r}D": {"padding"} for r in (1, 2, 3)},
}


def _refusal(data: bytes, filename: str = "model.keras") -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        read(data, filename)
    assert info.value.param in info.value.message  # the envelope's field, named
    return info.value


# ---- the fixtures -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_fixture_layers_are_the_models_own_in_order(name: str) -> None:
    model = read(fixture(name), name)
    stored = expected(name)
    outputs = [key.split("/", 1)[1] for key in stored if key.startswith("output/")]
    assert [layer["name"] for layer in model.layers] == outputs
    assert model.input_shape == stored["input"].shape
    assert model.format == name.rsplit(".", 1)[1]
    assert model.keras_version is not None and model.keras_version.startswith("3.")


@pytest.mark.parametrize("name", MODELS)
def test_fixture_weights_equal_keras_own(name: str) -> None:
    model = read(fixture(name), name)
    stored = expected(name)
    keys = sorted(k for k in stored if k.startswith("weight/"))
    got = sorted(f"weight/{layer}/{k}" for layer, arrays in model.weights.items()
                 for k in range(len(arrays)))
    assert got == keys
    for layer, arrays in model.weights.items():
        for k, array in enumerate(arrays):
            assert array.dtype == np.float32
            np.testing.assert_array_equal(array, stored[f"weight/{layer}/{k}"])
    assert model.total_params == sum(stored[k].size for k in keys)


@pytest.mark.parametrize("name", MODELS)
def test_fixture_shapes_implied_by_config_equal_keras_outputs(name: str) -> None:
    """The shapes the reader checks weights against are the shapes Keras computed."""
    data = fixture(name)
    if name.endswith(".keras"):
        config = json.loads(io.BytesIO(_member(data, "config.json")).read())
    else:
        with h5py.File(io.BytesIO(data), "r") as file:
            config = json.loads(file.attrs["model_config"])
    stored = expected(name)
    translated = _layers(read_chain(config), max_params=10**9)
    for t in translated:
        assert t.output_shape == stored[f"output/{t.layer['name']}"].shape, t.layer["name"]


def _member(data: bytes, name: str) -> bytes:
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


@pytest.mark.parametrize("name", MODELS)
def test_fixture_layers_carry_only_svertka_arguments(name: str) -> None:
    for layer in read(fixture(name), name).layers:
        assert set(layer) - {"type", "name"} == ARGS[layer["type"]], layer


def test_fixtures_cover_every_supported_class() -> None:
    seen = {layer["type"] for name in MODELS for layer in read(fixture(name), name).layers}
    assert seen == set(SUPPORTED) == set(ARGS)


def test_convnet2d_arguments_in_keras_3_names() -> None:
    layers = {layer["name"]: layer for layer in read(fixture("convnet2d.keras")).layers}
    assert layers["zero_padding2d"] == {"type": "ZeroPadding2D", "name": "zero_padding2d",
                                        "padding": [[1, 0], [2, 1]]}
    assert layers["conv_a"] == {"type": "Conv2D", "name": "conv_a", "filters": 4,
                                "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
                                "use_bias": True}
    assert layers["conv2d"]["groups"] == 2 and layers["conv2d"]["use_bias"] is False
    assert layers["conv2d_1"]["dilation_rate"] == [2, 2]
    assert layers["conv2d_2"]["strides"] == [1, 2] and layers["conv2d_2"]["kernel_size"] == [2, 3]
    assert layers["max_pooling2d"] == {"type": "MaxPooling2D", "name": "max_pooling2d",
                                       "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}
    assert layers["average_pooling2d"]["strides"] == [1, 1]
    assert layers["average_pooling2d"]["padding"] == "same"
    assert layers["leaky_re_lu"]["negative_slope"] == pytest.approx(0.2)
    assert layers["re_lu"] == {"type": "ReLU", "name": "re_lu", "max_value": 1.5,
                               "negative_slope": pytest.approx(0.1),
                               "threshold": pytest.approx(0.05)}
    assert layers["batch_normalization"] == {
        "type": "BatchNormalization", "name": "batch_normalization", "axis": -1,
        "momentum": pytest.approx(0.99), "epsilon": pytest.approx(1e-3), "center": True,
        "scale": True}
    assert layers["dropout"]["rate"] == pytest.approx(0.3)
    assert layers["softmax"] == {"type": "Softmax", "name": "softmax", "axis": -1}
    assert layers["global_average_pooling2d"]["keepdims"] is False


def test_batch_norm_weights_only_those_center_and_scale_keep() -> None:
    conv1d = read(fixture("conv1d.keras"))
    conv3d = read(fixture("conv3d.keras"))
    # center=False: gamma, moving mean, moving variance; scale=False: beta, mean, variance
    assert len(conv1d.weights["batch_normalization"]) == 3
    assert len(conv3d.weights["batch_normalization"]) == 3
    bn1 = next(x for x in conv1d.layers if x["type"] == "BatchNormalization")
    assert (bn1["center"], bn1["scale"]) == (False, True)


def test_conv_kernels_in_keras_layout() -> None:
    model = read(fixture("conv3d.keras"))
    assert model.weights["conv3d"][0].shape == (2, 3, 3, 1, 3)
    assert model.weights["conv3d"][1].shape == (3,)
    assert read(fixture("conv1d.keras")).weights["conv1d"][0].shape == (3, 3, 4)
    convnet = read(fixture("convnet2d.keras"))
    assert convnet.weights["conv2d"] == convnet.weights["conv2d"][:1]  # no bias
    assert convnet.weights["conv2d"][0].shape == (3, 3, 2, 4)  # groups=2: C_in/groups


def test_functional_chain_keeps_its_names_and_input() -> None:
    model = read(fixture("chain.keras"))
    assert [x["name"] for x in model.layers] == ["features", "global_max_pooling2d", "flatten",
                                                 "logits", "probabilities"]
    assert model.layers[1]["keepdims"] is True


def test_legacy_h5_defaults() -> None:
    model = read(fixture("legacy.h5"), "legacy.h5")
    leaky = next(x for x in model.layers if x["type"] == "LeakyReLU")
    assert leaky["negative_slope"] == pytest.approx(0.3)


def test_filename_is_optional() -> None:
    assert read(fixture("legacy.h5"), None).format == "h5"
    assert read(fixture("chain.keras"), None).format == "keras"


# ---- files that must be refused, made by Keras --------------------------------------------------

def test_lambda_layer_refused_by_name() -> None:
    error = _refusal(fixture("lambda.keras"))
    assert (error.status, error.code, error.param) == (422, "unsupported_layer", "layers[1]")
    assert "'double' (Lambda" in error.message and "code" in error.message
    assert "Conv2D" in error.accepted


def test_custom_class_refused_by_name() -> None:
    error = _refusal(fixture("custom.keras"))
    assert (error.status, error.param) == (422, "layers[1]")
    assert "'scale' (Scale" in error.message and "custom class" in error.message


def test_branching_graph_refused_where_it_branches() -> None:
    error = _refusal(fixture("branching.keras"))
    assert (error.status, error.param) == (422, "layers[0]")
    assert "'left' (Conv2D" in error.message and "branches" in error.message


# ---- configs edited one key at a time -----------------------------------------------------------

def _edit_layer(name: str, layer: str, change: dict[str, Any]) -> bytes:
    def apply(model: dict[str, Any]) -> None:
        layer_config(model, layer).update(change)
    return edit_keras(fixture(name), config=apply)


@pytest.mark.parametrize(("name", "layer", "change", "words"), [
    ("convnet2d.keras", "conv_a", {"data_format": "channels_first"}, ["data_format"]),
    ("convnet2d.keras", "conv_a", {"padding": "full"}, ["padding", "valid"]),
    ("conv1d.keras", "conv1d", {"padding": "causal"}, ["causal"]),
    ("convnet2d.keras", "conv_a", {"frobnicate": 3}, ["frobnicate"]),
    ("convnet2d.keras", "conv_a", {"activation": "celu"}, ["celu"]),
    ("convnet2d.keras", "conv_a", {"activation": {"module": "builtins", "class_name": "function",
                                                  "config": "myact",
                                                  "registered_name": "function"}}, ["myact"]),
    ("convnet2d.keras", "dropout", {"noise_shape": [1, 1, 6]}, ["noise_shape"]),
    ("convnet2d.keras", "batch_normalization", {"renorm": True}, ["renorm"]),
    ("convnet2d.keras", "conv_a", {"dtype": {"module": "keras", "class_name": "DTypePolicy",
                                             "config": {"name": "int8_from_float32"}}},
     ["quantized"]),
    ("convnet2d.keras", "dense", {"lora_rank": 4}, ["lora_rank"]),
])
def test_unsupported_argument_refused_naming_layer(name: str, layer: str, change: dict[str, Any],
                                                   words: list[str]) -> None:
    error = _refusal(_edit_layer(name, layer, change))
    assert error.status == 422 and error.param.startswith("layers[")
    assert f"'{layer}'" in error.message
    for word in words:
        assert word in error.message


@pytest.mark.parametrize(("change", "words"), [
    ({"filters": 0}, ["filters"]),
    ({"kernel_size": [3]}, ["kernel_size"]),
    ({"use_bias": "yes"}, ["use_bias"]),
    ({"groups": 3}, ["groups"]),
    ({"strides": [2, 2], "dilation_rate": [2, 2]}, ["dilation_rate"]),
    ({"kernel_size": [40, 40]}, ["empty"]),
])
def test_invalid_argument_value_refused(change: dict[str, Any], words: list[str]) -> None:
    error = _refusal(_edit_layer("convnet2d.keras", "conv_a", change))
    assert error.status == 422 and error.param == "layers[1]"
    for word in words:
        assert word in error.message


def test_unsupported_class_lists_what_is_supported() -> None:
    def lstm(model: dict[str, Any]) -> None:
        model["config"]["layers"][3]["class_name"] = "LSTM"
    error = _refusal(edit_keras(fixture("convnet2d.keras"), config=lstm))
    assert error.param == "layers[2]" and "(LSTM" in error.message
    assert "Conv3D" in error.accepted and "ZeroPadding1D" in error.accepted


def test_custom_module_with_builtin_name_refused() -> None:
    def spoof(model: dict[str, Any]) -> None:
        model["config"]["layers"][2]["module"] = "evil.layers"
    error = _refusal(edit_keras(fixture("convnet2d.keras"), config=spoof))
    assert error.param == "layers[1]" and "evil.layers" in error.message


def test_nested_model_refused() -> None:
    def nest(model: dict[str, Any]) -> None:
        inner = json.loads(json.dumps(model))
        model["config"]["layers"].insert(2, {"module": "keras", "class_name": "Sequential",
                                             "config": {**inner["config"], "name": "inner"}})
    error = _refusal(edit_keras(fixture("convnet2d.keras"), config=nest))
    assert "'inner' (Sequential" in error.message and "nested" in error.message


def test_free_input_axes_refused() -> None:
    def free(model: dict[str, Any]) -> None:
        model["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 3]
    error = _refusal(edit_keras(fixture("convnet2d.keras"), config=free))
    assert error.param == "file" and "None" in error.message


def test_several_outputs_refused() -> None:
    def two(model: dict[str, Any]) -> None:
        model["config"]["output_layers"] = [["logits", 0, 0], ["probabilities", 0, 0]]
    error = _refusal(edit_keras(fixture("chain.keras"), config=two))
    assert "2 output(s)" in error.message


def test_shared_layer_refused() -> None:
    def share(model: dict[str, Any]) -> None:
        logits = next(e for e in model["config"]["layers"] if e["name"] == "logits")
        logits["inbound_nodes"] = logits["inbound_nodes"] * 2
    error = _refusal(edit_keras(fixture("chain.keras"), config=share))
    assert "'logits' (Dense" in error.message


def test_parameter_limit_checked_before_weights() -> None:
    def huge(model: dict[str, Any]) -> None:
        layer_config(model, "dense")["units"] = 10**9
    error = _refusal(edit_keras(fixture("convnet2d.keras"), config=huge))
    assert (error.status, error.code) == (413, "too_large")
    assert "parameters" in error.message


# ---- Keras 2 / tf.keras vocabulary ---------------------------------------------------------

def _keras2_layers() -> list[dict[str, Any]]:
    init = {"class_name": "GlorotUniform", "config": {"seed": None}}
    return [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6, 6, 1],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}},
        {"class_name": "Conv2D", "config": {
            "name": "conv2d", "trainable": True, "dtype": "float32", "filters": 2,
            "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
            "activation": "relu", "use_bias": True, "kernel_initializer": init,
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}},
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [3],
            "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
            "beta_initializer": {"class_name": "Zeros", "config": {}},
            "gamma_initializer": {"class_name": "Ones", "config": {}},
            "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
            "moving_variance_initializer": {"class_name": "Ones", "config": {}},
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
            "gamma_constraint": None}},
        {"class_name": "LeakyReLU", "config": {"name": "leaky_re_lu", "trainable": True,
                                               "dtype": "float32", "alpha": 0.1}},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True,
                                             "dtype": "float32",
                                             "data_format": "channels_last"}},
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 3,
            "activation": "softmax", "use_bias": True, "kernel_initializer": init,
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}},
    ]


KERAS2_WEIGHTS = {
    "conv2d": [("kernel:0", (3, 3, 1, 2)), ("bias:0", (2,))],
    "batch_normalization": [("gamma:0", (2,)), ("beta:0", (2,)), ("moving_mean:0", (2,)),
                            ("moving_variance:0", (2,))],
    "dense": [("kernel:0", (32, 3)), ("bias:0", (3,))],
}


def keras2_h5(functional: bool = False) -> tuple[bytes, dict[str, list[np.ndarray]]]:
    """An .h5 file laid out as tf.keras 2 writes it (written with h5py: no TensorFlow here)."""
    layers = _keras2_layers()
    if functional:
        previous = None
        for entry in layers:
            entry["name"] = entry["config"]["name"]
            entry["inbound_nodes"] = [] if previous is None else [[[previous, 0, 0, {}]]]
            previous = entry["name"]
        config = {"class_name": "Functional", "config": {
            "name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]],
            "output_layers": [["dense", 0, 0]]}}
    else:
        config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    rng = np.random.default_rng(5)
    arrays: dict[str, list[np.ndarray]] = {}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.attrs["model_config"] = json.dumps(config).encode()
        file.attrs["keras_version"] = b"2.13.1"
        file.attrs["backend"] = b"tensorflow"
        root = file.create_group("model_weights")
        names = [e["config"]["name"] for e in layers]
        root.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name in names:
            group = root.create_group(name)
            specs = KERAS2_WEIGHTS.get(name, [])
            group.attrs["weight_names"] = np.array([f"{name}/{w}".encode() for w, _ in specs])
            for weight, shape in specs:
                value = rng.normal(size=shape).astype(np.float32)
                if "variance" in weight:
                    value = np.abs(value) + 0.5
                group.create_dataset(f"{name}/{weight}", data=value)
                arrays.setdefault(name, []).append(value)
    return buffer.getvalue(), arrays


@pytest.mark.parametrize("functional", [False, True])
def test_keras2_h5_vocabulary_maps_to_keras3(functional: bool) -> None:
    data, arrays = keras2_h5(functional)
    model = read(data, "old.h5")
    assert model.format == "h5" and model.keras_version == "2.13.1"
    assert model.input_shape == (6, 6, 1)
    assert [x["type"] for x in model.layers] == ["Conv2D", "BatchNormalization", "LeakyReLU",
                                                 "Flatten", "Dense"]
    assert model.layers[1]["axis"] == -1  # [3] counted with the batch axis: the last one
    assert model.layers[2] == {"type": "LeakyReLU", "name": "leaky_re_lu",
                               "negative_slope": pytest.approx(0.1)}
    for name, values in arrays.items():
        for got, want in zip(model.weights[name], values, strict=True):
            np.testing.assert_array_equal(got, want)


def test_keras2_weight_order_checked_against_names() -> None:
    data, _ = keras2_h5()

    def swap(file: h5py.File) -> None:
        group = file["model_weights/conv2d"]
        group.attrs["weight_names"] = np.array([b"conv2d/bias:0", b"conv2d/kernel:0"])

    from keras_helpers import edit_h5
    error = _refusal(edit_h5(data, swap), "old.h5")
    assert error.param == "layers[0]" and "kernel" in error.message


def test_weights_only_h5_refused_with_advice() -> None:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.attrs["layer_names"] = np.array([b"dense"])
    error = _refusal(buffer.getvalue(), "weights.h5")
    assert "save_weights" in error.message


def test_fixture_folder_is_complete() -> None:
    for name in MODELS:
        assert (FIXTURES / name).is_file() and (FIXTURES / f"{name}.npz").is_file()
        assert (FIXTURES / name).stat().st_size < 100_000
