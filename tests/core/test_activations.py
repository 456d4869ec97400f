"""activate and the ACTIVATIONS registry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from server.core import ACTIVATIONS, ParameterError, activate

REFERENCE = {
    "relu": lambda v, **_: max(v, 0.0),
    "leaky_relu": lambda v, negative_slope=0.01: v if v >= 0 else negative_slope * v,
    "sigmoid": lambda v, **_: 1 / (1 + math.exp(-v)) if v > -700 else 0.0,
    "tanh": lambda v, **_: math.tanh(v),
    "identity": lambda v, **_: v,
}


def test_activations_registry_lists_every_name() -> None:
    assert list(ACTIVATIONS) == ["relu", "leaky_relu", "sigmoid", "tanh", "identity"]
    assert dict(ACTIVATIONS["leaky_relu"].params) == {"negative_slope": 0.01}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_has_descriptions_in_both_languages(name: str) -> None:
    spec = ACTIVATIONS[name]
    assert spec.name == name
    for text in (spec.description_en, spec.description_ru):
        assert text and "\n" not in text
    assert any("\u0400" <= ch <= "\u04ff" for ch in spec.description_ru)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activate_matches_scalar_reference(name: str) -> None:
    values = np.array([-50.0, -3.0, -0.5, 0.0, 0.25, 2.0, 40.0])
    out = activate(values, name)
    expected = [REFERENCE[name](float(v)) for v in values]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-300)


def test_leaky_relu_takes_negative_slope() -> None:
    np.testing.assert_allclose(activate([-2.0, 3.0], "leaky_relu", negative_slope=0.2),
                               [-0.4, 3.0])


def test_sigmoid_is_stable_for_huge_inputs() -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = activate(np.array([-1e308, -1000.0, 1000.0, 1e308]), "sigmoid")
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 1.0])


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5),
                  elements=st.floats(-1e6, 1e6)))
def test_sigmoid_properties(x: np.ndarray) -> None:
    s = activate(x, "sigmoid")
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + activate(-x, "sigmoid"), 1.0, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5),
                  elements=st.floats(-1e6, 1e6)))
def test_relu_and_leaky_relu_properties(x: np.ndarray) -> None:
    r = activate(x, "relu")
    assert np.all(r >= 0)
    np.testing.assert_array_equal(r - activate(-x, "relu"), x)
    np.testing.assert_array_equal(activate(x, "leaky_relu", negative_slope=1.0), x)
    np.testing.assert_array_equal(activate(x, "leaky_relu", negative_slope=0.0), r)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize(("dtype", "expected"),
                         [(np.float32, np.float32), (np.float64, np.float64),
                          (np.int64, np.float64), (np.uint8, np.float64)])
def test_activate_dtype_and_shape(name: str, dtype: Any, expected: Any) -> None:
    x = (np.arange(12).reshape(3, 4) - 6).astype(dtype) if dtype != np.uint8 else np.arange(
        12, dtype=np.uint8).reshape(3, 4)
    out = activate(x, name)
    assert out.dtype == expected and out.shape == (3, 4)


def test_activate_does_not_modify_its_input() -> None:
    x = np.array([-1.0, 2.0])
    for name in ACTIVATIONS:
        out = activate(x, name)
        out[...] = 7
    np.testing.assert_array_equal(x, [-1.0, 2.0])


def test_activate_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.linspace(-30, 30, 121)
    t = torch.from_numpy(x)
    functional = torch.nn.functional
    np.testing.assert_allclose(activate(x, "relu"), functional.relu(t).numpy())
    np.testing.assert_allclose(activate(x, "leaky_relu"), functional.leaky_relu(t).numpy())
    np.testing.assert_allclose(activate(x, "sigmoid"), torch.sigmoid(t).numpy(), rtol=1e-12)
    np.testing.assert_allclose(activate(x, "tanh"), torch.tanh(t).numpy(), rtol=1e-12)


def test_activate_rejects_unknown_name() -> None:
    with pytest.raises(ParameterError, match='"relu", "leaky_relu"') as err:
        activate([1.0], "softmax")
    assert err.value.param == "activation"


def test_activate_rejects_unknown_parameter() -> None:
    with pytest.raises(ParameterError, match="does not take alpha") as err:
        activate([1.0], "relu", alpha=0.1)
    assert err.value.param == "activation_params"


def test_activate_rejects_non_finite_slope() -> None:
    with pytest.raises(ParameterError, match="finite number"):
        activate([1.0], "leaky_relu", negative_slope=float("nan"))


def test_activate_rejects_non_numeric_slope() -> None:
    with pytest.raises(ParameterError, match="finite number"):
        activate([1.0], "leaky_relu", negative_slope="0.1")


def test_activate_rejects_non_numeric_input() -> None:
    with pytest.raises(ParameterError, match="real numbers"):
        activate(["a"], "relu")
