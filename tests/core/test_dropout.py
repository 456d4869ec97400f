"""dropout: inverted dropout with a seeded Bernoulli keep mask."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import ParameterError, dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keep_rate_matches_one_minus_p(p: float) -> None:
    _, mask = dropout(np.ones((200, 500)), p, seed=3)
    n = mask.size
    sd = np.sqrt(n * p * (1 - p))
    assert abs(mask.sum() - n * (1 - p)) < 5 * sd


def test_dropout_mask_is_not_correlated_along_axes() -> None:
    _, mask = dropout(np.ones((400, 400)), 0.5, seed=4)
    rows, cols = mask.mean(axis=1), mask.mean(axis=0)
    assert rows.std() < 0.1 and cols.std() < 0.1
    # neighbouring elements are independent: P(both kept) close to 1/4
    assert abs((mask[:, 1:] & mask[:, :-1]).mean() - 0.25) < 0.01


def test_dropout_scales_kept_values_by_one_over_keep_rate() -> None:
    x = np.random.default_rng(0).standard_normal((50, 50))
    out, mask = dropout(x, 0.25, seed=1)
    np.testing.assert_allclose(out[mask], x[mask] / 0.75)
    assert np.all(out[~mask] == 0)


def test_dropout_preserves_the_mean_in_expectation() -> None:
    x = np.full(200_000, 3.0)
    out, _ = dropout(x, 0.4, seed=9)
    assert abs(out.mean() - 3.0) < 0.03


def test_dropout_same_seed_same_mask() -> None:
    x = np.ones((8, 9))
    a = dropout(x, 0.3, seed=42)
    b = dropout(x, 0.3, seed=42)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_dropout_different_seed_different_mask() -> None:
    x = np.ones((20, 20))
    assert not np.array_equal(dropout(x, 0.5, seed=1)[1], dropout(x, 0.5, seed=2)[1])


def test_dropout_mask_follows_default_rng() -> None:
    _, mask = dropout(np.ones(10), 0.3, seed=7)
    np.testing.assert_array_equal(mask, np.random.default_rng(7).random(10) >= 0.3)


def test_dropout_none_seed_still_works() -> None:
    out, mask = dropout(np.ones(10), 0.5, seed=None)
    assert out.shape == mask.shape == (10,)


def test_dropout_evaluation_is_identity() -> None:
    x = np.random.default_rng(5).standard_normal((3, 4))
    out, mask = dropout(x, 0.9, seed=0, training=False)
    np.testing.assert_array_equal(out, x)
    assert mask.dtype == bool and mask.all() and mask.shape == x.shape
    assert not np.shares_memory(out, x)


def test_dropout_rate_zero_keeps_everything() -> None:
    x = np.arange(6.0)
    out, mask = dropout(x, 0.0, seed=0)
    np.testing.assert_array_equal(out, x)
    assert mask.all()


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.0, 0.99), seed=st.integers(0, 2**32), n=st.integers(1, 50))
def test_dropout_output_is_x_times_mask_over_keep(p: float, seed: int, n: int) -> None:
    x = np.linspace(-5, 5, n)
    out, mask = dropout(x, p, seed=seed)
    assert mask.dtype == bool and mask.shape == x.shape
    np.testing.assert_allclose(out, x * mask / (1 - p))


@pytest.mark.parametrize(("dtype", "expected"),
                         [(np.float32, np.float32), (np.float64, np.float64),
                          (np.int32, np.float64)])
def test_dropout_dtype(dtype: Any, expected: Any) -> None:
    out, _ = dropout(np.ones((3, 3), dtype=dtype), 0.5, seed=0)
    assert out.dtype == expected


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan"), "0.5", True, None])
def test_dropout_rejects_rate_outside_zero_one(p: Any) -> None:
    with pytest.raises(ParameterError, match="0 <= p < 1") as err:
        dropout(np.ones(3), p, seed=0)
    assert err.value.param == "p"


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_dropout_rejects_bad_seed(seed: Any) -> None:
    with pytest.raises(ParameterError, match="`seed`") as err:
        dropout(np.ones(3), 0.5, seed=seed)
    assert err.value.param == "seed"


def test_dropout_rejects_non_numeric_input() -> None:
    with pytest.raises(ParameterError, match="real numbers"):
        dropout(np.array(["x"]), 0.5, seed=0)
