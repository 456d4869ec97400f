"""conv_matrix: a convolution as the dense matrix of a fully connected layer, and its counts."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from server.core import (
    OutputSizeError,
    ParameterError,
    ShapeError,
    conv,
    conv_matrix,
    conv_matrix_counts,
)

CASES: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((3, 3), (2, 2), {}),
    ((5, 5), (3, 3), {}),
    ((7,), (3,), {}),
    ((2, 9), (3, 2, 3), {"stride": 2, "padding": 1}),
    ((1, 6, 5), (2, 1, 3, 3), {"padding": "same", "stride": 2}),
    ((2, 6, 7), (4, 2, 2, 3), {"dilation": [2, 1], "padding": [[1, 0], [2, 1]]}),
    ((4, 5, 5), (6, 2, 3, 3), {"groups": 2, "padding": "full"}),
    ((4, 6, 6), (4, 1, 3, 3), {"groups": 4, "padding": "same"}),
    ((2, 4, 3, 5), (3, 2, 2, 2, 3), {"padding": 1, "stride": [1, 2, 2]}),
    ((6, 6), (3, 3), {"padding": "same", "dilation": 2}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "geometry"), CASES)
def test_matrix_product_equals_conv(x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                                    geometry: dict[str, Any]) -> None:
    rng = np.random.default_rng(sum(x_shape) * 31 + sum(w_shape))
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    m = conv_matrix(x_shape, w, **geometry)
    expected = conv(x, w, **geometry)
    assert m.matrix.shape == (expected.size, x.size)
    np.testing.assert_allclose(m.matrix @ x.ravel(), expected.ravel(), rtol=1e-10, atol=1e-10)
    assert math.prod(m.output_shape) == expected.size


@pytest.mark.parametrize(("x_shape", "w_shape", "geometry"), CASES)
def test_index_names_the_weight_of_each_entry(x_shape: tuple[int, ...],
                                              w_shape: tuple[int, ...],
                                              geometry: dict[str, Any]) -> None:
    w = np.arange(1.0, math.prod(w_shape) + 1).reshape(w_shape)  # every weight distinct, none 0
    m = conv_matrix(x_shape, w, **geometry)
    connected = m.index >= 0
    np.testing.assert_array_equal(m.matrix[connected], w.ravel()[m.index[connected]])
    assert (m.matrix[~connected] == 0).all()
    assert m.counts.connections == int(connected.sum())
    assert m.counts.fully_connected == m.matrix.size
    assert m.counts.shared_weights == w.size
    assert m.counts.as_dict() == conv_matrix_counts(x_shape, w_shape, **geometry).as_dict()


def naive_matrix(n: int, k: int) -> np.ndarray:
    """One channel, valid, stride 1, from the definition: entry (o, p) is w[p - o] if in range."""
    out = n - k + 1
    m = np.full((out * out, n * n), -1)
    for (oi, oj), (ki, kj) in itertools.product(itertools.product(range(out), repeat=2),
                                                itertools.product(range(k), repeat=2)):
        m[oi * out + oj, (oi + ki) * n + oj + kj] = ki * k + kj
    return m


@pytest.mark.parametrize(("n", "k"), [(3, 2), (4, 3), (5, 3), (6, 1)])
def test_index_matches_naive_definition(n: int, k: int) -> None:
    np.testing.assert_array_equal(conv_matrix((n, n), np.ones((k, k))).index, naive_matrix(n, k))


def test_lesson_three_by_three_input_two_by_two_kernel() -> None:
    """The lesson: 9 * 4 = 36 for a perceptron, 4 * 4 = 16 connections, 4 distinct weights."""
    counts = conv_matrix((3, 3), np.ones((2, 2))).counts
    assert (counts.inputs, counts.outputs) == (9, 4)
    assert (counts.fully_connected, counts.connections, counts.shared_weights) == (36, 16, 4)


def test_lesson_five_by_five_input_three_by_three_kernel() -> None:
    """The lesson: 25 * 9 = 225 weights for a fully connected layer, 9 for the convolution."""
    counts = conv_matrix_counts((5, 5), (3, 3))
    assert (counts.fully_connected, counts.shared_weights) == (225, 9)
    assert counts.connections == 81


def test_padding_taps_connect_to_nothing() -> None:
    # 1 input, 3 taps, padding 1: only the middle tap lands on the input
    m = conv_matrix((1,), np.array([1.0, 2.0, 3.0]), padding=1)
    np.testing.assert_array_equal(m.matrix, [[2.0]])
    assert m.counts.connections == 1 and m.counts.shared_weights == 3


def test_float32_kernel_keeps_float32() -> None:
    m = conv_matrix((4, 4), np.ones((2, 2), np.float32))
    assert m.matrix.dtype == np.float32 and m.index.dtype == np.int64


def test_counts_scale_to_photos_without_building() -> None:
    counts = conv_matrix_counts((3, 224, 224), (32, 3, 3, 3), padding="same")
    assert counts.fully_connected == (3 * 224 * 224) * (32 * 224 * 224)
    assert counts.connections == 32 * 3 * (224 * 3 - 2) ** 2
    assert counts.shared_weights == 864


@pytest.mark.parametrize(("kwargs", "error", "param"), [
    ({"input_shape": (5, 5), "w": np.ones((6, 6))}, OutputSizeError, "padding"),
    ({"input_shape": (2, 5, 5), "w": np.ones((1, 3, 3, 3))}, ShapeError, "kernel"),
    ({"input_shape": (5, 5), "w": np.ones((3, 3)), "stride": 0}, ParameterError, "stride"),
    ({"input_shape": (5, 5, 5, 5, 5), "w": np.ones((3, 3))}, ShapeError, "kernel"),
    ({"input_shape": (5, 0), "w": np.ones((3, 3))}, ParameterError, "input_shape"),
    ({"input_shape": (5, 5), "w": np.array([["a"]])}, ShapeError, "kernel"),
])
def test_bad_arguments_name_the_parameter(kwargs: dict[str, Any], error: type[Exception],
                                          param: str) -> None:
    with pytest.raises(error) as info:
        conv_matrix(**kwargs)
    assert info.value.param == param  # type: ignore[attr-defined]
