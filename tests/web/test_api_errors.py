"""Every bad input gets a 4xx in the one envelope, naming the field; the server stays up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

I3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
K2 = [[1, 0], [0, 1]]
CONV = {"input": I3, "kernel": K2}
POOL = {"input": [[[1, 2], [3, 4]]], "mode": "max", "kernel_size": 2}

# (id, method, path, json body, status, field, code)
CASES: list[tuple[str, str, str, Any, int, str | None, str]] = [
    ("input-null", "POST", "/api/conv", {**CONV, "input": [[1, None]]}, 422, "input",
     "validation"),
    ("input-ragged", "POST", "/api/conv", {**CONV, "input": [[1, 2], [3]]}, 422, "input",
     "validation"),
    ("input-text", "POST", "/api/conv", {**CONV, "input": [[1, "a"]]}, 422, "input",
     "validation"),
    ("input-scalar", "POST", "/api/conv", {**CONV, "input": 5}, 422, "input", "validation"),
    ("input-empty", "POST", "/api/conv", {**CONV, "input": []}, 422, "input", "shape"),
    ("input-and-image", "POST", "/api/conv", {**CONV, "image_id": "0" * 20}, 422, "input",
     "validation"),
    ("no-input", "POST", "/api/conv", {"kernel": K2}, 422, "input", "validation"),
    ("kernel-and-preset", "POST", "/api/conv", {**CONV, "preset": "sobel_x"}, 422, "kernel",
     "validation"),
    ("no-kernel", "POST", "/api/conv", {"input": I3}, 422, "kernel", "validation"),
    ("preset-unknown", "POST", "/api/conv", {"input": I3, "preset": "blurry"}, 422, "preset",
     "parameter"),
    ("stride-zero", "POST", "/api/conv", {**CONV, "stride": 0}, 422, "stride", "parameter"),
    ("stride-text", "POST", "/api/conv", {**CONV, "stride": "two"}, 422, "stride",
     "validation"),
    ("stride-axes", "POST", "/api/conv", {**CONV, "stride": [1, 1, 1]}, 422, "stride",
     "parameter"),
    ("dilation-zero", "POST", "/api/conv", {**CONV, "dilation": 0}, 422, "dilation",
     "parameter"),
    ("padding-word", "POST", "/api/conv", {**CONV, "padding": "bogus"}, 422, "padding",
     "parameter"),
    ("padding-negative", "POST", "/api/conv", {**CONV, "padding": -1}, 422, "padding",
     "parameter"),
    ("padding-mode", "POST", "/api/conv", {**CONV, "padding_mode": "mirror"}, 422,
     "padding_mode", "validation"),
    ("reflect-too-wide", "POST", "/api/conv", {**CONV, "padding": 3, "padding_mode": "reflect"},
     422, "padding", "padding"),
    ("empty-output", "POST", "/api/conv", {"input": I3, "kernel": [[1] * 5] * 5}, 422,
     "padding", "output_size"),
    ("shapes-unpaired", "POST", "/api/conv", {"input": [[[1]]], "kernel": [[1, 2]]}, 422,
     "kernel", "shape"),
    ("groups-indivisible", "POST", "/api/conv",
     {"input": [[[1, 2]]] * 3, "kernel": [[[[1]]]] * 2, "groups": 2}, 422, "groups", "shape"),
    ("groups-zero", "POST", "/api/conv", {**CONV, "groups": 0}, 422, "groups", "parameter"),
    ("bias-length", "POST", "/api/conv", {**CONV, "bias": [1, 2]}, 422, "bias", "shape"),
    ("unknown-field", "POST", "/api/conv", {**CONV, "strid": 2}, 422, "strid", "validation"),
    ("activation-unknown", "POST", "/api/conv", {**CONV, "activation": "gelu"}, 422,
     "activation", "validation"),
    ("activation-param", "POST", "/api/conv",
     {**CONV, "activation": {"name": "relu", "negative_slope": 0.1}}, 422, "activation",
     "parameter"),
    ("flip-text", "POST", "/api/conv", {**CONV, "flip": "maybe"}, 422, "flip", "validation"),
    ("kernel-mode", "POST", "/api/conv", {**CONV, "kernel_mode": "sideways"}, 422,
     "kernel_mode", "validation"),
    ("depthwise-groups", "POST", "/api/conv",
     {"input": [[[1, 2]]] * 3, "kernel": [[1]], "kernel_mode": "depthwise", "groups": 2}, 422,
     "groups", "parameter"),
    ("max-side-zero", "POST", "/api/conv", {**CONV, "max_side": 0}, 422, "max_side",
     "validation"),
    ("color-unknown", "POST", "/api/conv", {**CONV, "color": "cmyk"}, 422, "color",
     "validation"),
    ("image-unknown", "POST", "/api/conv", {"image_id": "0" * 20, "kernel": K2}, 404,
     "image_id", "not_found"),
    ("overflow", "POST", "/api/conv", {"input": [[1e300, 1e300]], "kernel": [[1e300]]}, 422,
     "input", "parameter"),
    ("body-not-object", "POST", "/api/conv", [1, 2], 422, "body", "validation"),
    ("pool-kernel-zero", "POST", "/api/conv",
     {**CONV, "pool": {"mode": "max", "kernel_size": 0}}, 422, "pool.kernel_size", "parameter"),
    ("pool-empty", "POST", "/api/conv", {**CONV, "pool": {"mode": "max", "kernel_size": 5}},
     422, "pool.padding", "output_size"),
    ("pool-no-kernel-size", "POST", "/api/pool", {**POOL, "kernel_size": None}, 422,
     "kernel_size", "validation"),
    ("pool-mode", "POST", "/api/pool", {**POOL, "mode": "median"}, 422, "mode", "validation"),
    ("pool-pad-over-half", "POST", "/api/pool", {**POOL, "padding": 2}, 422, "padding",
     "padding"),
    ("avg-pool-dilation", "POST", "/api/pool", {**POOL, "mode": "avg", "dilation": 2}, 422,
     "dilation", "parameter"),
    ("frames-filter", "POST", "/api/frames", {**CONV, "filters": [3]}, 422, "filters",
     "parameter"),
    ("frames-position", "POST", "/api/frames", {**CONV, "positions": [[5, 5]]}, 422,
     "positions", "parameter"),
    ("frames-offset", "POST", "/api/frames", {**CONV, "offset": -1}, 422, "offset",
     "validation"),
    ("dropout-p", "POST", "/api/dropout", {"input": [[1, 2]], "p": 1}, 422, "p", "validation"),
    ("dropout-seed", "POST", "/api/dropout", {"input": [[1, 2]], "p": 0.5, "seed": -1}, 422,
     "seed", "validation"),
    ("transpose-output-padding", "POST", "/api/conv_transpose",
     {"input": [[1, 2]], "kernel": [[1, 1]], "output_padding": 1}, 422, "output_padding",
     "parameter"),
    ("transpose-empty", "POST", "/api/conv_transpose",
     {"input": [[1, 2]], "kernel": [[1, 1]], "padding": 5}, 422, "padding", "output_size"),
    ("transpose-kernel", "POST", "/api/conv_transpose",
     {"input": [[[1, 2]]] * 2, "kernel": [[[[1]]]] * 3}, 422, "kernel", "shape"),
    # found by the adversarial pass: each was a 500, a silent 200 or a crash before
    ("input-huge-int", "POST", "/api/conv", {**CONV, "input": [[1, 10**400]]}, 422, "input",
     "validation"),
    ("input-booleans", "POST", "/api/conv", {**CONV, "input": [[True, False]]}, 422, "input",
     "validation"),
    ("kernel-booleans", "POST", "/api/conv", {**CONV, "kernel": [[True]]}, 422, "kernel",
     "validation"),
    ("input-too-deep", "POST", "/api/conv",
     {**CONV, "input": json.loads("[" * 100 + "1" + "]" * 100)}, 422, "input", "validation"),
    ("stride-boolean", "POST", "/api/conv", {**CONV, "stride": True}, 422, "stride",
     "validation"),
    ("groups-boolean", "POST", "/api/conv", {**CONV, "groups": True}, 422, "groups",
     "validation"),
    ("bias-text", "POST", "/api/conv", {**CONV, "bias": "1"}, 422, "bias", "validation"),
    ("padding-enormous", "POST", "/api/conv",
     {"input": [[1]], "kernel": [[1]], "padding": 10_000, "stride": 10_000}, 422, "padding",
     "limit"),
    ("pool-average-overflow", "POST", "/api/pool",
     {"input": [[[1.7e308, 1.7e308]] * 2], "mode": "avg", "kernel_size": 2}, 422, "input",
     "parameter"),
    ("dropout-overflow", "POST", "/api/dropout", {"input": [[1.7e308]], "p": 0.5, "seed": 1},
     422, "input", "parameter"),
    ("frames-overflow", "POST", "/api/frames", {"input": [[1e308, 1e308]], "kernel": [[1e308]]},
     422, "input", "parameter"),
    ("render-per-channel-overflow", "POST", "/api/conv/render",
     {"input": [[1e308, 1e308]], "kernel": [[1e308]], "display": {"per_channel": True}}, 422,
     "input", "parameter"),
    ("transpose-groups-zero", "POST", "/api/conv_transpose",
     {"input": [[1, 2]], "kernel": [[1, 1]], "groups": 0}, 422, "groups", "parameter"),
    ("frames-beyond-2**53", "POST", "/api/frames",
     {"input": [[[1]]], "kernel": [[[1]]], "padding": 10**9}, 422, "padding", "limit"),
    ("pool-render-per-channel", "POST", "/api/pool/render",
     {**POOL, "display": {"per_channel": True}}, 422, "display.per_channel", "parameter"),
    ("pool-window-only-padding", "POST", "/api/pool",
     {"input": [[[5]]], "mode": "max", "kernel_size": 2, "dilation": 2, "padding": 1}, 422,
     "padding", "padding"),
    ("conv-pool-window-only-padding", "POST", "/api/conv",
     {"input": [[5]], "kernel": [[1]],
      "pool": {"mode": "max", "kernel_size": 2, "dilation": 2, "padding": 1}}, 422,
     "pool.padding", "padding"),
    ("pool-padding-word", "POST", "/api/pool", {**POOL, "padding": "bogus"}, 422, "padding",
     "parameter"),
    ("unknown-route", "GET", "/api/nothing", None, 404, None, "not_found"),
    ("wrong-method", "GET", "/api/conv", None, 405, None, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "field", "code"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_request_gets_envelope_when_invalid(client: Any, assert_error: Any, method: str,
                                                path: str, body: Any, status: int,
                                                field: str | None, code: str) -> None:
    response = client.request(method, path, json=body)
    envelope = assert_error(response, status, field)
    assert envelope["code"] == code
    assert client.get("/api/health").status_code == 200


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_rejects_non_finite_when_literal(client: Any, assert_error: Any,
                                              literal: str) -> None:
    body = f'{{"input": [[1, {literal}]], "kernel": [[1]]}}'.encode()
    response = client.post("/api/conv", content=body,
                           headers={"content-type": "application/json"})
    envelope = assert_error(response, 422, "body")
    assert literal in envelope["message"] and "finite" in envelope["accepted"]


def test_json_rejects_overflowing_number_when_too_large(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv", content=b'{"input": [[1, 1e400]], "kernel": [[1]]}',
                           headers={"content-type": "application/json"})
    assert_error(response, 422, "input")


def test_json_rejects_body_when_malformed(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv", content=b'{"input": ',
                           headers={"content-type": "application/json"})
    assert_error(response, 422, "body")


def test_json_rejects_scalar_nan_when_in_bias(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv", content=b'{"input": [[1]], "kernel": [[1]], '
                           b'"bias": NaN}', headers={"content-type": "application/json"})
    assert_error(response, 422, "body")


def test_empty_output_error_explains_formula_when_kernel_too_big(client: Any,
                                                                 assert_error: Any) -> None:
    envelope = assert_error(client.post("/api/conv", json={"input": I3,
                                                           "kernel": [[1] * 5] * 5}),
                            422, "padding")
    assert envelope["formula"] == "axis 0: floor((3 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = -1"
    assert envelope["axis"] == 0
    assert envelope["suggestion"] == {"padding": 1}
    assert envelope["formula"] in envelope["message"]
    fixed = client.post("/api/conv", json={"input": I3, "kernel": [[1] * 5] * 5,
                                           **envelope["suggestion"]})
    assert fixed.status_code == 200


def test_validation_lists_every_problem_when_several(client: Any, assert_error: Any) -> None:
    envelope = assert_error(client.post("/api/conv", json={**CONV, "strid": 1, "flip": "x"}),
                            422, "flip")
    assert {e["field"] for e in envelope["errors"]} == {"flip", "strid"}


BODY_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-1e3, 1e3) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4), max_leaves=12)
FIELDS = ["input", "kernel", "bias", "stride", "padding", "padding_mode", "dilation", "groups",
          "flip", "activation", "preset", "kernel_mode", "pool", "color", "max_side"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), BODY_VALUES, max_size=6))
def test_conv_never_fails_with_500_when_fuzzed(client: Any, body: dict[str, Any]) -> None:
    response = client.post("/api/conv", json={"input": I3, "kernel": K2, **body})
    assert response.status_code in (200, 404, 413, 422), response.text
    if response.status_code != 200:
        assert {"status", "code", "field", "message"} <= set(response.json())


def test_empty_output_envelope_lists_alternatives(client: Any, assert_error: Any) -> None:
    body = {"input": [[1.0] * 5] * 5, "kernel": [[1.0] * 3] * 3, "dilation": 3}
    envelope = assert_error(client.post("/api/conv", json=body), 422, "padding")
    assert envelope["suggestion"] == {"padding": 1}
    assert envelope["alternatives"] == [{"dilation": 2}]
    fixed = client.post("/api/conv", json={**body, **envelope["alternatives"][0]})
    assert fixed.status_code == 200, fixed.text
