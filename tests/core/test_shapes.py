"""Shape arithmetic: per-axis parameters, padding forms, the output-size formula, shorthand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.core import (
    OutputSizeError,
    ParameterError,
    ShapeError,
    as_tuple,
    explain_output_shape,
    normalize_operands,
    output_shape,
    resolve_padding,
)


@pytest.mark.parametrize(
    ("value", "ndim", "expected"),
    [(2, 3, (2, 2, 2)), ([1, 2], 2, (1, 2)), ((3,), 1, (3,)), (np.int64(4), 2, (4, 4))],
)
def test_as_tuple_spreads_ints_and_keeps_sequences(value: Any, ndim: int, expected: Any) -> None:
    assert as_tuple(value, ndim, "stride") == expected


def test_as_tuple_rejects_bool() -> None:
    with pytest.raises(ParameterError):
        as_tuple(True, 2, "stride")


@pytest.mark.parametrize(
    ("padding", "expected"),
    [
        (0, ((0, 0), (0, 0))),
        (2, ((2, 2), (2, 2))),
        ([1, 3], ((1, 1), (3, 3))),
        ([[1, 0], [0, 2]], ((1, 0), (0, 2))),
        ([1, [0, 2]], ((1, 1), (0, 2))),
        ("valid", ((0, 0), (0, 0))),
        ("VALID", ((0, 0), (0, 0))),
        ("full", ((2, 2), (4, 4))),
        ("same", ((1, 1), (2, 2))),
    ],
)
def test_resolve_padding_forms(padding: Any, expected: Any) -> None:
    got = resolve_padding(padding, spatial_shape=(6, 7), kernel_shape=(3, 3), dilation=[1, 2])
    assert got == expected


@pytest.mark.parametrize(
    ("n", "k", "s", "d", "expected"),
    [
        (7, 3, 2, 1, (1, 1)),  # out 4: total 2
        (6, 4, 2, 1, (1, 1)),  # out 3: total 2
        (7, 4, 2, 1, (1, 2)),  # out 4: total 3, odd pixel after
        (5, 1, 1, 1, (0, 0)),
        (5, 3, 5, 1, (0, 0)),  # out 1 reads 3 of 5: nothing to pad
        (5, 3, 1, 3, (3, 3)),
    ],
)
def test_resolve_padding_same_follows_keras(
    n: int, k: int, s: int, d: int, expected: tuple[int, int]
) -> None:
    pads = resolve_padding("same", spatial_shape=(n,), kernel_shape=(k,), stride=s, dilation=d)
    assert pads == (expected,)
    assert output_shape((n,), (k,), stride=s, padding=pads, dilation=d) == (math.ceil(n / s),)


@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 5), st.integers(1, 3))
def test_output_shape_same_is_ceil_n_over_s(n: int, k: int, s: int, d: int) -> None:
    assert output_shape((n,), (k,), stride=s, padding="same", dilation=d) == (math.ceil(n / s),)


@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 5), st.integers(1, 3))
def test_output_shape_full_formula(n: int, k: int, s: int, d: int) -> None:
    expected = (n + 2 * d * (k - 1) - d * (k - 1) - 1) // s + 1
    assert output_shape((n,), (k,), stride=s, padding="full", dilation=d) == (expected,)


def test_output_shape_formula_with_pairs() -> None:
    assert output_shape((10, 9), (3, 2), stride=[2, 3], padding=[[1, 0], [2, 2]]) == (5, 4)


def test_explain_output_shape_substitutes_numbers() -> None:
    lines = explain_output_shape((5, 4), (3, 3), stride=2, padding=1)
    assert lines == [
        "axis 0: floor((5 + 1 + 1 - 1*(3-1) - 1) / 2) + 1 = 3",
        "axis 1: floor((4 + 1 + 1 - 1*(3-1) - 1) / 2) + 1 = 2",
    ]


def test_explain_output_shape_does_not_raise_for_empty_output() -> None:
    (line,) = explain_output_shape((2,), (5,))
    assert line.endswith("= -2")


def test_output_shape_raises_for_empty_axis() -> None:
    with pytest.raises(OutputSizeError) as err:
        output_shape((4, 2), (3, 3))
    assert err.value.axis == 1


@pytest.mark.parametrize(
    ("xshape", "wshape", "full_x", "full_w", "squeeze"),
    [
        ((9,), (3,), (1, 9), (1, 1, 3), True),
        ((5, 6), (3, 3), (1, 5, 6), (1, 1, 3, 3), True),
        ((4, 5, 6), (2, 2, 2), (1, 4, 5, 6), (1, 1, 2, 2, 2), True),
        ((5, 6), (4, 1, 3, 3), (1, 5, 6), (4, 1, 3, 3), False),
        ((3, 5, 6), (4, 3, 3, 3), (3, 5, 6), (4, 3, 3, 3), False),
        ((2, 9), (4, 2, 3), (2, 9), (4, 2, 3), False),
    ],
)
def test_normalize_operands_shorthand(
    xshape: Any, wshape: Any, full_x: Any, full_w: Any, squeeze: bool
) -> None:
    ops = normalize_operands(np.zeros(xshape), np.zeros(wshape))
    assert (ops.x.shape, ops.w.shape, ops.squeeze) == (full_x, full_w, squeeze)


def test_normalize_operands_checks_groups() -> None:
    ops = normalize_operands(np.zeros((4, 5, 5)), np.zeros((6, 2, 3, 3)), groups=2)
    assert ops.spatial_ndim == 2
    with pytest.raises(ShapeError):
        normalize_operands(np.zeros((4, 5, 5)), np.zeros((6, 4, 3, 3)), groups=2)
