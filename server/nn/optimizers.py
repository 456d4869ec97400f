"""Gradient descent steps as Keras 3 computes them: SGD with momentum, and Adam.

An optimizer keeps its state (velocities, moments) per weight array, keyed by the array's
position, and updates the arrays in place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["SGD", "Adam", "Optimizer", "make_optimizer"]


class Optimizer:
    """Base: ``step(weights, grads)`` changes every array of ``weights`` in place."""

    name = "optimizer"

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = float(learning_rate)
        self.iterations = 0

    def step(self, weights: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        self.iterations += 1
        for i, (w, g) in enumerate(zip(weights, grads, strict=True)):
            self.update(i, w, g)

    def update(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """``v = momentum * v - lr * g; w += v`` (Keras's form; momentum 0 is plain descent).

    >>> w = np.array([1.0]); opt = SGD(0.1, momentum=0.5)
    >>> opt.step([w], [np.array([2.0])]); opt.step([w], [np.array([2.0])]); w
    array([0.5])
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0) -> None:
        super().__init__(learning_rate)
        self.momentum = float(momentum)
        self.velocity: dict[int, np.ndarray] = {}

    def update(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        if not self.momentum:
            w -= self.learning_rate * g
            return
        v = self.velocity.setdefault(i, np.zeros_like(w))
        v *= self.momentum
        v -= self.learning_rate * g
        w += v


class Adam(Optimizer):
    """Adam as Keras 3 writes it: bias-corrected step size, ``epsilon`` outside the root.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
    ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)``.
    """

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.m: dict[int, np.ndarray] = {}
        self.v: dict[int, np.ndarray] = {}
        self._flat: tuple[tuple[tuple[int, ...], ...], np.ndarray, np.ndarray] | None = None

    def step(self, weights: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        shapes = tuple(w.shape for w in weights)
        if self._flat is None and not self.m and len(weights) == len(grads) and all(
                a.dtype == np.float32 for a in (*weights, *grads)):
            # one moment buffer for every array, `m[i]` and `v[i]` views into it: a network's
            # dozen small arrays cost one pass of each operation instead of a dozen
            total = sum(w.size for w in weights)
            m, v = np.zeros(total, np.float32), np.zeros(total, np.float32)
            start = 0
            for i, w in enumerate(weights):
                self.m[i] = m[start:start + w.size].reshape(w.shape)
                self.v[i] = v[start:start + w.size].reshape(w.shape)
                start += w.size
            self._flat = (shapes, m, v)
        if self._flat is None or self._flat[0] != shapes or not all(
                a.dtype == np.float32 for a in (*weights, *grads)):
            super().step(weights, grads)
            return
        self.iterations += 1
        _, m, v = self._flat
        g = np.concatenate([a.reshape(-1) for a in grads])
        step = self._step(m, v, g)
        start = 0
        for w in weights:
            w -= step[start:start + w.size].reshape(w.shape)
            start += w.size

    def _step(self, m: np.ndarray, v: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Update the moments in place; the amount to subtract from the weights."""
        t = self.iterations
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        alpha = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        step: np.ndarray = alpha * m / (np.sqrt(v) + self.epsilon)
        return step

    def update(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        m = self.m.setdefault(i, np.zeros_like(w))
        v = self.v.setdefault(i, np.zeros_like(w))
        w -= self._step(m, v, g).astype(w.dtype, copy=False)


def make_optimizer(name: str, learning_rate: float | None = None,
                   momentum: float = 0.9) -> Optimizer:
    """``"sgd"`` (with ``momentum``) or ``"adam"``, Keras's default learning rates."""
    if name == "adam":
        return Adam(0.001 if learning_rate is None else learning_rate)
    if name == "sgd":
        return SGD(0.01 if learning_rate is None else learning_rate, momentum=momentum)
    raise ValueError(f"unknown optimizer {name!r}: 'sgd' or 'adam'")
