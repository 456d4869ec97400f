"""summarize: Keras's model.summary() for layer stacks, checked against hand-computed summaries.

Every expected number below was worked out by hand from Keras's rules (and matches the summaries
Keras prints for these well-known models: the MNIST convnet example, LeNet-5, VGG16's first block).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import OutputSizeError, ParameterError, ShapeError, output_shape
from server.core.errors import CoreError
from server.nn.summary import LAYER_TYPES, keras_name, summarize

DESIGN_STACK = [
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "strides": 1, "padding": "valid",
     "activation": "relu", "use_bias": True},
    {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10},
]
LESSON_CONVNET = [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 64, "kernel_size": [3, 3], "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": [2, 2]},
    {"type": "Flatten"}, {"type": "Dropout", "rate": 0.5},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
LENET5 = [
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "activation": "tanh"},
    {"type": "AveragePooling2D"},
    {"type": "Conv2D", "filters": 16, "kernel_size": 5, "activation": "tanh"},
    {"type": "AveragePooling2D"}, {"type": "Flatten"},
    {"type": "Dense", "units": 120, "activation": "tanh"},
    {"type": "Dense", "units": 84, "activation": "tanh"},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]


def rows(summary: Any) -> list[tuple[str, list[int], int]]:
    return [(r.name, list(r.output_shape), r.params) for r in summary.layers]


def test_summary_of_design_example_matches_keras() -> None:
    s = summarize([32, 32, 3], DESIGN_STACK)
    assert rows(s) == [("conv2d", [28, 28, 6], 456), ("max_pooling2d", [14, 14, 6], 0),
                       ("flatten", [1176], 0), ("dense", [10], 11770)]
    assert s.layers[0].formula == "(5*5*3 + 1) * 6 = 456"
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (12226, 12226, 0)


def test_summary_of_lesson_convnet_matches_keras() -> None:
    s = summarize([28, 28, 1], LESSON_CONVNET)
    assert rows(s) == [
        ("conv2d", [26, 26, 32], 320), ("max_pooling2d", [13, 13, 32], 0),
        ("conv2d_1", [11, 11, 64], 18496), ("max_pooling2d_1", [5, 5, 64], 0),
        ("flatten", [1600], 0), ("dropout", [1600], 0), ("dense", [10], 16010)]
    assert s.total_params == 34826
    assert s.layers[4].formula == "5*5*64 = 1600"
    assert s.layers[6].formula == "(1600 + 1) * 10 = 16010"


def test_summary_of_lenet5_matches_keras() -> None:
    s = summarize([32, 32, 1], LENET5)
    assert [r.params for r in s.layers] == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert [r.name for r in s.layers][-3:] == ["dense", "dense_1", "dense_2"]
    assert list(s.layers[3].output_shape) == [5, 5, 16]
    assert s.total_params == 61706


def test_summary_of_vgg16_first_blocks_matches_keras() -> None:
    conv = {"type": "Conv2D", "kernel_size": 3, "padding": "same", "activation": "relu"}
    stack = [{**conv, "filters": 64}, {**conv, "filters": 64}, {"type": "MaxPooling2D"},
             {**conv, "filters": 128}, {**conv, "filters": 128}, {"type": "MaxPooling2D"}]
    s = summarize([224, 224, 3], stack)
    assert [r.params for r in s.layers] == [1792, 36928, 0, 73856, 147584, 0]
    assert list(s.layers[-1].output_shape) == [56, 56, 128]


def test_dense_only_needs_far_more_weights_than_the_convnet() -> None:
    dense = summarize([28, 28, 1], [{"type": "Flatten"}, {"type": "Dense", "units": 128},
                                    {"type": "Dense", "units": 10}])
    assert [r.params for r in dense.layers] == [0, 100480, 1290]
    assert dense.total_params == 101770 > summarize([28, 28, 1], LESSON_CONVNET).total_params


def test_dense_on_a_map_acts_on_the_last_axis_like_keras() -> None:
    s = summarize([5, 5, 64], [{"type": "Dense", "units": 10}])
    assert rows(s) == [("dense", [5, 5, 10], 650)]
    assert "last axis" in s.layers[0].note


@pytest.mark.parametrize(("n", "kernel", "strides", "padding", "dilation", "out"), [
    (7, 3, 2, "same", 1, 4),      # same: ceil(7 / 2)
    (7, 3, 2, "valid", 1, 3),
    (10, 3, 1, "valid", 2, 6),    # dilated window spans 5
    (10, 3, 1, "same", 3, 10),
    (5, 5, 1, "valid", 1, 1),
])
def test_conv2d_output_size_follows_keras(n: int, kernel: int, strides: int, padding: str,
                                          dilation: int, out: int) -> None:
    layer = {"type": "Conv2D", "filters": 2, "kernel_size": kernel, "strides": strides,
             "padding": padding, "dilation_rate": dilation}
    assert list(summarize([n, n, 1], [layer]).layers[0].output_shape) == [out, out, 2]


def test_conv2d_takes_pairs_per_axis() -> None:
    layer = {"type": "Conv2D", "filters": 4, "kernel_size": [3, 1], "strides": [1, 2]}
    row = summarize([9, 9, 2], [layer]).layers[0]
    assert (list(row.output_shape), row.params) == ([7, 5, 4], 3 * 1 * 2 * 4 + 4)
    assert row.explain[0].startswith("H: ") and row.explain[1].startswith("W: ")


def test_conv2d_without_bias_counts_only_weights() -> None:
    row = summarize([8, 8, 3], [{"type": "Conv2D", "filters": 6, "kernel_size": 5,
                                 "use_bias": False}]).layers[0]
    assert (row.params, row.formula) == (450, "5*5*3 * 6 = 450")


@pytest.mark.parametrize(("kind", "extra", "out"), [
    ("MaxPooling2D", {}, [3, 3, 4]),                                      # strides default = pool
    ("AveragePooling2D", {"pool_size": 3, "strides": 1}, [5, 5, 4]),
    ("MaxPooling2D", {"padding": "same"}, [4, 4, 4]),                     # ceil(7 / 2)
    ("AveragePooling2D", {"pool_size": [2, 3], "strides": [2, 3]}, [3, 2, 4]),
])
def test_pooling_output_and_no_params(kind: str, extra: dict[str, Any], out: list[int]) -> None:
    row = summarize([7, 7, 4], [{"type": kind, **extra}]).layers[0]
    assert (list(row.output_shape), row.params, row.formula) == (out, 0, "0")


@pytest.mark.parametrize("kind", ["GlobalMaxPooling2D", "GlobalAveragePooling2D"])
def test_global_pooling_leaves_one_value_per_channel(kind: str) -> None:
    s = summarize([5, 5, 64], [{"type": kind}, {"type": "Dense", "units": 10}])
    assert rows(s) == [(keras_name(kind), [64], 0), ("dense", [10], 650)]


def test_batch_normalization_splits_trainable_and_not() -> None:
    s = summarize([8, 8, 3], [{"type": "Conv2D", "filters": 64, "kernel_size": 3},
                              {"type": "BatchNormalization"}])
    bn = s.layers[1]
    assert (bn.params, bn.trainable_params, bn.non_trainable_params) == (256, 128, 128)
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (2048, 1920, 128)
    no_scale = summarize([4, 4, 10], [{"type": "BatchNormalization", "scale": False}]).layers[0]
    assert (no_scale.trainable_params, no_scale.non_trainable_params) == (10, 20)


@pytest.mark.parametrize("layer", [
    {"type": "Activation", "activation": "relu"}, {"type": "Activation", "activation": "softmax"},
    {"type": "Dropout", "rate": 0.0}, {"type": "Dropout", "rate": 0.25},
])
def test_activation_and_dropout_keep_shape_and_have_no_params(layer: dict[str, Any]) -> None:
    row = summarize([6, 5, 3], [layer]).layers[0]
    assert (list(row.output_shape), row.params) == ([6, 5, 3], 0)


def test_flatten_of_a_vector_is_the_vector() -> None:
    s = summarize([2, 3, 4], [{"type": "Flatten"}, {"type": "Flatten"}])
    assert [list(r.output_shape) for r in s.layers] == [[24], [24]]


def test_every_layer_type_gets_its_keras_name() -> None:
    names = {"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d",
             "AveragePooling2D": "average_pooling2d", "GlobalMaxPooling2D": "global_max_pooling2d",
             "GlobalAveragePooling2D": "global_average_pooling2d",
             "BatchNormalization": "batch_normalization", "Activation": "activation",
             "Dropout": "dropout", "Flatten": "flatten", "Dense": "dense",
             "ReLU": "re_lu", "LeakyReLU": "leaky_re_lu", "Softmax": "softmax"}
    for d in (1, 3):
        names |= {f"Conv{d}D": f"conv{d}d", f"MaxPooling{d}D": f"max_pooling{d}d",
                  f"AveragePooling{d}D": f"average_pooling{d}d",
                  f"GlobalMaxPooling{d}D": f"global_max_pooling{d}d",
                  f"GlobalAveragePooling{d}D": f"global_average_pooling{d}d"}
    names |= {f"ZeroPadding{d}D": f"zero_padding{d}d" for d in (1, 2, 3)}
    assert {k: keras_name(k) for k in LAYER_TYPES} == names


def test_empty_stack_has_no_params() -> None:
    s = summarize([4, 4, 1], [])
    assert (s.layers, s.total_params) == ([], 0)
    assert s.to_dict() == {"input_shape": [4, 4, 1], "layers": [], "total_params": 0,
                           "trainable_params": 0, "non_trainable_params": 0, "total_macs": 0}


def test_to_dict_is_json_ready() -> None:
    d = summarize([28, 28, 1], LESSON_CONVNET).to_dict()
    assert d["layers"][0]["output_shape"] == [26, 26, 32]
    assert set(d["layers"][0]) == {"type", "name", "output_shape", "params", "trainable_params",
                                   "non_trainable_params", "formula", "macs", "explain", "note"}


CONV = {"type": "Conv2D", "filters": 2, "kernel_size": 3}
# (id, input shape, layers, error class, param, suggestion or None)
BAD: list[tuple[str, Any, list[Any], type[CoreError], str, dict[str, Any] | None]] = [
    ("input-rank", [28, 28, 1, 1, 1], [], ShapeError, "input_shape", None),
    ("input-zero", [28, 0, 1], [], ShapeError, "input_shape[1]", {"input_shape[1]": 1}),
    ("input-float", [28, 2.5, 1], [], ShapeError, "input_shape[1]", None),
    ("layer-not-object", [8, 8, 1], [CONV, 3], ParameterError, "layers[1]", None),
    ("type-unknown", [8, 8, 1], [{"type": "Cnv2D"}], ParameterError, "layers[0].type",
     {"layers[0].type": "Conv2D"}),
    ("type-case", [8, 8, 1], [{"type": "dense", "units": 2}], ParameterError, "layers[0].type",
     {"layers[0].type": "Dense"}),
    ("argument-unknown", [8, 8, 1], [{**CONV, "stride": 2}], ParameterError, "layers[0].stride",
     None),
    ("filters-missing", [8, 8, 1], [{"type": "Conv2D", "kernel_size": 3}], ParameterError,
     "layers[0].filters", None),
    ("filters-zero", [8, 8, 1], [{**CONV, "filters": 0}], ParameterError, "layers[0].filters",
     {"layers[0].filters": 1}),
    ("kernel-zero", [8, 8, 1], [CONV, {**CONV, "kernel_size": [3, 0]}], ParameterError,
     "layers[1].kernel_size", {"layers[1].kernel_size": [3, 1]}),
    ("kernel-triple", [8, 8, 1], [{**CONV, "kernel_size": [3, 3, 3]}], ParameterError,
     "layers[0].kernel_size", None),
    ("strides-zero", [8, 8, 1], [{**CONV, "strides": 0}], ParameterError, "layers[0].strides",
     {"layers[0].strides": 1}),
    ("dilation-zero", [8, 8, 1], [{**CONV, "dilation_rate": 0}], ParameterError,
     "layers[0].dilation_rate", {"layers[0].dilation_rate": 1}),
    ("strides-with-dilation", [8, 8, 1], [{**CONV, "strides": 2, "dilation_rate": 2}],
     ParameterError, "layers[0].dilation_rate", {"layers[0].dilation_rate": 1}),
    ("padding-number", [8, 8, 1], [{**CONV, "padding": 1}], ParameterError, "layers[0].padding",
     {"layers[0].padding": "valid"}),
    ("padding-case", [8, 8, 1], [{**CONV, "padding": "SAME"}], ParameterError,
     "layers[0].padding", {"layers[0].padding": "same"}),
    ("activation-unknown", [8, 8, 1], [{**CONV, "activation": "rellu"}], ParameterError,
     "layers[0].activation", {"layers[0].activation": "relu"}),
    ("activation-layer-none", [8, 8, 1], [{"type": "Activation", "activation": None}],
     ParameterError, "layers[0].activation", None),
    ("use-bias-int", [8, 8, 1], [{**CONV, "use_bias": 1}], ParameterError, "layers[0].use_bias",
     None),
    ("shrinks-below-one", [8, 8, 1], [CONV, CONV, CONV, CONV], OutputSizeError,
     "layers[3].padding", {"layers[3].padding": "same"}),
    ("pool-too-big", [3, 3, 1], [{"type": "MaxPooling2D", "pool_size": 4}], OutputSizeError,
     "layers[0].padding", {"layers[0].padding": "same"}),
    ("pool-size-zero", [8, 8, 1], [{"type": "AveragePooling2D", "pool_size": 0}],
     ParameterError, "layers[0].pool_size", {"layers[0].pool_size": 1}),
    ("pool-strides-text", [8, 8, 1], [{"type": "MaxPooling2D", "strides": "2"}],
     ParameterError, "layers[0].strides", None),
    ("conv-after-flatten", [8, 8, 1], [{"type": "Flatten"}, CONV], ShapeError, "layers[1].type",
     None),
    ("global-after-dense", [8, 8, 1], [{"type": "GlobalMaxPooling2D"},
                                       {"type": "GlobalAveragePooling2D"}], ShapeError,
     "layers[1].type", None),
    ("units-negative", [8, 8, 1], [{"type": "Dense", "units": -3}], ParameterError,
     "layers[0].units", {"layers[0].units": 1}),
    ("units-float", [8, 8, 1], [{"type": "Dense", "units": 2.0}], ParameterError,
     "layers[0].units", None),
    ("rate-one", [8, 8, 1], [{"type": "Dropout", "rate": 1.0}], ParameterError,
     "layers[0].rate", {"layers[0].rate": 0.5}),
    ("rate-bool", [8, 8, 1], [{"type": "Dropout", "rate": True}], ParameterError,
     "layers[0].rate", None),
    ("bn-center-text", [8, 8, 1], [{"type": "BatchNormalization", "center": "yes"}],
     ParameterError, "layers[0].center", None),
]


@pytest.mark.parametrize(("shape", "layers", "error", "param", "suggestion"),
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_field_names_the_exact_param(shape: Any, layers: list[Any], error: type[CoreError],
                                         param: str, suggestion: dict[str, Any] | None) -> None:
    with pytest.raises(error) as info:
        summarize(shape, layers)
    assert info.value.param == param
    assert info.value.suggestion == suggestion
    message = str(info.value)
    assert param.split(".")[0] in message  # the layer (or input axis) it is about
    assert param.endswith(".type") or param.split(".")[-1].split("[")[0] in message


def test_shrinking_error_says_which_axis_and_what_fits() -> None:
    with pytest.raises(OutputSizeError) as info:
        summarize([9, 3, 1], [{"type": "Conv2D", "filters": 1, "kernel_size": 5}])
    err = info.value
    assert err.axis == 1
    assert err.formula == "W: floor((3 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = -1"
    assert err.alternatives == [{"layers[0].kernel_size": [5, 3]}]


def test_the_suggestion_really_fixes_the_stack() -> None:
    stack = [dict(CONV) for _ in range(4)]
    with pytest.raises(OutputSizeError) as info:
        summarize([8, 8, 1], stack)
    assert info.value.suggestion is not None
    ((path, value),) = info.value.suggestion.items()
    stack[3]["padding"] = value
    assert list(summarize([8, 8, 1], stack).layers[3].output_shape) == [2, 2, 2]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), cin=st.integers(1, 8), filters=st.integers(1, 8),
       kh=st.integers(1, 7), kw=st.integers(1, 7), s=st.integers(1, 3), d=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), use_bias=st.booleans())
def test_conv2d_params_and_shape_agree_with_the_formulas(
        n: int, cin: int, filters: int, kh: int, kw: int, s: int, d: int, padding: str,
        use_bias: bool) -> None:
    if s > 1:
        d = 1  # Keras refuses the combination; tested above
    layer = {"type": "Conv2D", "filters": filters, "kernel_size": [kh, kw], "strides": s,
             "dilation_rate": d, "padding": padding, "use_bias": use_bias}
    try:
        expected = output_shape((n, n + 1), (kh, kw), stride=s, dilation=d,
                                padding=padding)
    except OutputSizeError:
        with pytest.raises(OutputSizeError):
            summarize([n, n + 1, cin], [layer])
        return
    row = summarize([n, n + 1, cin], [layer]).layers[0]
    assert row.params == kh * kw * cin * filters + filters * use_bias
    assert tuple(row.output_shape) == (*expected, filters)
    if padding == "same":
        assert tuple(row.output_shape[:2]) == (-(-n // s), -(-(n + 1) // s))


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 30), min_size=3, max_size=3), units=st.integers(1, 50),
       use_bias=st.booleans(), flatten=st.booleans())
def test_dense_params_follow_the_last_axis(shape: list[int], units: int, use_bias: bool,
                                           flatten: bool) -> None:
    layers: list[dict[str, Any]] = [{"type": "Flatten"}] if flatten else []
    layers.append({"type": "Dense", "units": units, "use_bias": use_bias})
    s = summarize(shape, layers)
    cin = shape[0] * shape[1] * shape[2] if flatten else shape[2]
    assert s.layers[-1].params == cin * units + units * use_bias == s.total_params
    out = [units] if flatten else [*shape[:2], units]
    assert list(s.layers[-1].output_shape) == out
