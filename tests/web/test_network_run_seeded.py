"""Seeded weights kept for reruns of a stack: the same draws as a fresh model's, copies that a
request cannot spoil, and a byte limit."""

from __future__ import annotations

import json

import numpy as np

from server.nn.model import Sequential
from server.web.network_run import SeededWeights

STACK = [{"type": "Conv2D", "filters": 4, "kernel_size": 3}, {"type": "Flatten"},
         {"type": "Dense", "units": 3}]


def model() -> Sequential:
    return Sequential([8, 8, 1], STACK)


def fresh(seed: int) -> dict[str, list[np.ndarray]]:
    m = model()
    m.init_weights(seed)
    return m.get_weights()


def same(a: dict[str, list[np.ndarray]], b: dict[str, list[np.ndarray]]) -> bool:
    return a.keys() == b.keys() and all(
        len(a[k]) == len(b[k])
        and all(np.array_equal(x, y) for x, y in zip(a[k], b[k], strict=True)) for k in a)


def test_kept_weights_are_the_seeds_draws_and_copies() -> None:
    cache = SeededWeights(1 << 20)
    first, second = model(), model()
    cache.apply(first, "k", 5)
    first.layers[0].weights[0][...] = 99.0  # a request spoiling its own model
    cache.apply(second, "k", 5)  # kept this time
    assert len(cache.kept) == 1
    assert same(second.get_weights(), fresh(5))
    assert not same(second.get_weights(), fresh(6))
    x = np.arange(64, dtype=np.float32).reshape(8, 8)
    reference = model()
    reference.init_weights(5)
    np.testing.assert_array_equal(second.run(x)[-1].output, reference.run(x)[-1].output)


def test_the_byte_limit_drops_the_oldest_and_skips_the_too_big() -> None:
    size = sum(a.nbytes for arrays in fresh(0).values() for a in arrays)
    cache = SeededWeights(2 * size)
    for seed in range(3):
        cache.apply(model(), json.dumps(seed), seed)
    assert list(cache.kept) == ["1", "2"] and cache.size == 2 * size
    tiny = SeededWeights(size - 1)
    m = model()
    tiny.apply(m, "k", 0)
    assert not tiny.kept and same(m.get_weights(), fresh(0))
