"""POST /api/network: Keras's model.summary() as JSON, its limits and its error envelopes."""

from __future__ import annotations

from typing import Any

import pytest

from server.nn.summary import LAYER_TYPES

# DESIGN §3's example stack, word for word
DESIGN_LAYERS = [
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "strides": 1, "padding": "valid",
     "activation": "relu", "use_bias": True},
    {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10},
]


def post(client: Any, input_shape: Any, layers: Any) -> Any:
    return client.post("/api/network", json={"input_shape": input_shape, "layers": layers})


@pytest.mark.parametrize(("input_shape", "expected"), [
    ([32, 32, 3], [([28, 28, 6], 456), ([14, 14, 6], 0), ([1176], 0), ([10], 11770)]),
    ([28, 28, 1], [([24, 24, 6], 156), ([12, 12, 6], 0), ([864], 0), ([10], 8650)]),
])
def test_design_example_answers_keras_summary(client: Any, input_shape: list[int],
                                              expected: list[tuple[list[int], int]]) -> None:
    response = post(client, input_shape, DESIGN_LAYERS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["output_shape"], r["params"]) for r in body["layers"]] == expected
    assert [r["type"] for r in body["layers"]] == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert [r["name"] for r in body["layers"]] == ["conv2d", "max_pooling2d", "flatten", "dense"]
    total = sum(p for _, p in expected)
    assert (body["total_params"], body["trainable_params"], body["non_trainable_params"]) == (
        total, total, 0)
    assert body["input_shape"] == input_shape


def test_every_layer_type_in_one_stack(client: Any) -> None:
    layers = [
        {"type": "Conv2D", "filters": 8, "kernel_size": [3, 3], "padding": "same",
         "activation": "relu"},
        {"type": "BatchNormalization"},
        {"type": "Activation", "activation": "tanh"},
        {"type": "MaxPooling2D"},
        {"type": "AveragePooling2D", "pool_size": 2, "strides": 1},
        {"type": "Dropout", "rate": 0.25},
        {"type": "GlobalMaxPooling2D"},
        {"type": "Dense", "units": 4, "use_bias": False},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2, "activation": "softmax"},
    ]
    body = post(client, [16, 16, 3], layers).json()
    shapes = [r["output_shape"] for r in body["layers"]]
    assert shapes == [[16, 16, 8], [16, 16, 8], [16, 16, 8], [8, 8, 8], [7, 7, 8], [7, 7, 8],
                      [8], [4], [4], [2]]
    assert [r["params"] for r in body["layers"]] == [224, 32, 0, 0, 0, 0, 0, 32, 0, 10]
    assert (body["total_params"], body["trainable_params"], body["non_trainable_params"]) == (
        298, 282, 16)
    gap = post(client, [5, 5, 64], [{"type": "GlobalAveragePooling2D"}]).json()
    assert gap["layers"][0]["name"] == "global_average_pooling2d"
    assert gap["layers"][0]["output_shape"] == [64]


def test_rows_carry_formula_and_shape_explanation(client: Any) -> None:
    row = post(client, [32, 32, 3], DESIGN_LAYERS).json()["layers"][0]
    assert row["formula"] == "(5*5*3 + 1) * 6 = 456"
    assert row["explain"] == ["H: floor((32 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = 28",
                              "W: floor((32 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = 28"]
    assert "relu" in row["note"]


CONV = {"type": "Conv2D", "filters": 2, "kernel_size": 3}
# (id, input_shape, layers, field, code)
BAD: list[tuple[str, Any, Any, str, str]] = [
    ("type-unknown", [8, 8, 1], [CONV, {"type": "Conv4D"}], "layers[1].type", "validation"),
    ("type-missing", [8, 8, 1], [{"filters": 2}], "layers[0].type", "validation"),
    ("argument-misspelt", [8, 8, 1], [{**CONV, "stride": 2}], "layers[0].stride", "validation"),
    ("filters-zero", [8, 8, 1], [CONV, {**CONV, "filters": 0}], "layers[1].filters",
     "validation"),
    ("filters-text", [8, 8, 1], [{**CONV, "filters": "2"}], "layers[0].filters", "validation"),
    ("kernel-too-big", [8, 8, 1], [{**CONV, "kernel_size": 5000}], "layers[0].kernel_size",
     "validation"),
    ("padding-number", [8, 8, 1], [{**CONV, "padding": 1}], "layers[0].padding", "validation"),
    ("activation-unknown", [8, 8, 1], [{**CONV, "activation": "rellu"}],
     "layers[0].activation", "validation"),
    ("rate-one", [8, 8, 1], [{"type": "Dropout", "rate": 1}], "layers[0].rate", "validation"),
    ("units-zero", [8, 8, 1], [{"type": "Dense", "units": 0}], "layers[0].units", "validation"),
    ("input-rank", [8, 8, 1, 1, 1], [], "input_shape", "validation"),
    ("conv2d-on-a-signal", [8, 3], [CONV], "layers[0].type", "shape"),
    ("input-axis-zero", [8, 0, 1], [], "input_shape[1]", "validation"),
    ("input-too-wide", [8, 9000, 1], [], "input_shape[1]", "validation"),
    ("too-many-layers", [8, 8, 1], [{"type": "Flatten"}] * 65, "layers", "validation"),
    ("strides-with-dilation", [8, 8, 1], [{**CONV, "strides": 2, "dilation_rate": 2}],
     "layers[0].dilation_rate", "parameter"),
    ("shrinks-below-one", [8, 8, 1], [CONV, CONV, CONV, CONV], "layers[3].padding",
     "output_size"),
    ("conv-after-flatten", [8, 8, 1], [{"type": "Flatten"}, CONV], "layers[1].type", "shape"),
    ("params-past-2**53", [8192, 8192, 8192], [{"type": "Flatten"},
                                               {"type": "Dense", "units": 1 << 20}],
     "layers[1].units", "limit"),
]


@pytest.mark.parametrize(("input_shape", "layers", "field", "code"),
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_stack_gets_envelope_naming_the_field(client: Any, assert_error: Any,
                                                  input_shape: Any, layers: Any, field: str,
                                                  code: str) -> None:
    body = assert_error(post(client, input_shape, layers), 422, field)
    assert body["code"] == code
    assert body["accepted"], body


def test_shrinking_stack_suggests_same_padding(client: Any, assert_error: Any) -> None:
    body = assert_error(post(client, [8, 8, 1], [CONV] * 4), 422, "layers[3].padding")
    assert body["suggestion"] == {"layers[3].padding": "same"}
    assert body["alternatives"] == [{"layers[3].kernel_size": 2}]
    assert body["axis"] == 0 and body["formula"].endswith("= 0")
    fixed = [CONV, CONV, CONV, {**CONV, "padding": "same"}]
    assert post(client, [8, 8, 1], fixed).status_code == 200


def test_layer_limit_is_inclusive(client: Any) -> None:
    response = post(client, [8, 8, 1], [{"type": "Dropout", "rate": 0.1}] * 64)
    assert response.status_code == 200
    assert response.json()["layers"][-1]["name"] == "dropout_63"


def test_openapi_documents_the_route_and_layer_types(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/network"]["post"]
    assert operation["operationId"] == "post_network"
    assert operation["summary"] and "422" in operation["responses"]
    schemas = spec["components"]["schemas"]
    assert schemas["NetworkRequest"].get("examples")
    mapping = schemas["NetworkRequest"]["properties"]["layers"]["items"]["discriminator"]
    assert set(mapping["mapping"]) == set(LAYER_TYPES)
    assert "NetworkResponse" in schemas
