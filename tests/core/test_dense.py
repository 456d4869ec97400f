"""dense (Keras-shaped kernel) and flatten."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import ParameterError, ShapeError, dense, flatten


def naive_dense(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    out = np.zeros(w.shape[1])
    for u in range(w.shape[1]):
        out[u] = sum(float(x[i]) * float(w[i, u]) for i in range(w.shape[0]))
        if b is not None:
            out[u] += float(b[u])
    return out


@settings(max_examples=30, deadline=None)
@given(n_in=st.integers(1, 12), units=st.integers(1, 6), with_bias=st.booleans())
def test_dense_matches_naive_loop(n_in: int, units: int, with_bias: bool) -> None:
    rng = np.random.default_rng(n_in * 7 + units)
    x, w = rng.standard_normal(n_in), rng.standard_normal((n_in, units))
    b = rng.standard_normal(units) if with_bias else None
    np.testing.assert_allclose(dense(x, w, b), naive_dense(x, w, b), rtol=1e-12, atol=1e-12)


def test_dense_keeps_leading_axes_like_keras() -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 5, 3)), rng.standard_normal((3, 2)), np.array([1.0, -1.0])
    out = dense(x, w, b)
    assert out.shape == (4, 5, 2)
    np.testing.assert_allclose(out[2, 3], naive_dense(x[2, 3], w, b))


def test_dense_matches_torch_linear() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    ref = torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w.T.copy()),
                                     torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(dense(x, w, b), ref, rtol=1e-12)


def test_dense_scalar_bias_and_dtype() -> None:
    x32 = np.ones(3, np.float32)
    out = dense(x32, np.ones((3, 2), np.float32), np.float32(0.5))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [3.5, 3.5])
    assert dense([1, 2], [[1], [1]]).dtype == np.float64


def test_dense_rejects_weights_not_2d() -> None:
    with pytest.raises(ShapeError, match=r"\(in, units\)") as err:
        dense(np.ones(3), np.ones(3))
    assert err.value.param == "weights"


def test_dense_rejects_input_of_wrong_length() -> None:
    with pytest.raises(ShapeError, match="must have 4 values") as err:
        dense(np.ones(3), np.ones((4, 2)))
    assert err.value.param == "input"


def test_dense_rejects_bias_of_wrong_length() -> None:
    with pytest.raises(ShapeError, match="one per unit") as err:
        dense(np.ones(3), np.ones((3, 2)), [1.0, 2.0, 3.0])
    assert err.value.param == "bias"


def test_dense_rejects_non_numeric_weights() -> None:
    with pytest.raises(ParameterError, match="real numbers"):
        dense(np.ones(2), np.array([["a"], ["b"]]))


def test_flatten_channel_major_like_pytorch() -> None:
    x = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(flatten(x), np.arange(24))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        flatten(x), torch.nn.Flatten(0)(torch.from_numpy(x)).numpy()
    )


def test_flatten_channels_last_like_keras() -> None:
    x = np.arange(24).reshape(2, 3, 4)  # (C, H, W)
    np.testing.assert_array_equal(flatten(x, channels_last=True),
                                  x.transpose(1, 2, 0).reshape(-1))


def test_flatten_then_dense_equals_dense_on_map() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 3)), rng.standard_normal((18, 4))
    np.testing.assert_allclose(dense(flatten(x), w), x.reshape(-1) @ w)


def test_flatten_rejects_non_numeric_input() -> None:
    with pytest.raises(ParameterError, match="real numbers"):
        flatten(np.array(["a"]))
