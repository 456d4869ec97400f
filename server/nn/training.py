"""Training a Sequential model: mini-batches, backpropagation, an optimizer, progress reports.

`fit` is seeded and reproducible: the same seed, data and model give the same weights, loss and
accuracy on every machine (NumPy's generator and float32 arithmetic). Progress goes to a
callback after every batch and every epoch, which is how the server streams it to the page; the
callback may ask to stop (return ``False``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .layers import to_internal
from .losses import cross_entropy
from .model import Sequential
from .optimizers import Optimizer

__all__ = ["Progress", "evaluate", "fit", "one_blas_thread", "train_step"]


_limit_lock = threading.Lock()
_limit_users = 0
_limiter: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the enclosed NumPy calls on one BLAS thread.

    A training step is hundreds of small matrix products (a batch of 8x8 digits); OpenBLAS
    splits some of them over its threads, which then spend longer waking and spinning than
    computing, and on a shared 2-core server they also take the core other requests need.
    Measured on the digit network: 2.9 s for the whole run on one thread, 24 s on two.

    The limit is the process's (OpenBLAS has one thread count), so overlapping runs share one:
    the first sets it, the last restores what was there before.
    """
    global _limit_users, _limiter
    with _limit_lock:
        if _limit_users == 0:
            _limiter = threadpool_limits(limits=1, user_api="blas")
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                _limiter.restore_original_limits()
                _limiter = None


@dataclass(frozen=True)
class Progress:
    """One report: where the loop is and how it is doing."""

    kind: str  # "batch" or "epoch"
    epoch: int  # from 1
    batch: int  # from 1 within the epoch; the number of batches for "epoch"
    batches: int
    loss: float  # of this batch, or the mean over the epoch
    accuracy: float
    seconds: float
    val_loss: float | None = None
    val_accuracy: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def train_step(model: Sequential, x: np.ndarray, y: np.ndarray, optimizer: Optimizer,
               rng: np.random.Generator) -> tuple[float, float]:
    """One forward, backward and update on a channel-first batch; ``(loss, accuracy)``.

    The first layer computes its weights' gradients only: nothing needs the data's.
    """
    outputs = model.forward(x, training=True, rng=rng)
    probs = outputs[-1]
    loss, grad = cross_entropy(probs, y)
    for layer in reversed(model.layers[1:]):
        grad = layer.backward(grad)
    model.layers[0].backward_weights(grad)  # the data needs no gradient
    weights, grads = [], []
    for layer in model.layers:
        if layer.weights and layer.grads:
            # moving statistics are not learned: only the arrays backward gave a gradient for
            weights.extend(layer.weights[: len(layer.grads)])
            grads.extend(layer.grads)
    optimizer.step(weights, grads)
    accuracy = float((probs.argmax(axis=1) == y).mean())
    return loss, accuracy


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray, *,
             batch_size: int = 256) -> tuple[float, float, np.ndarray]:
    """Loss, accuracy and predicted labels on examples in Keras's order ``(N, *input_shape)``."""
    losses, predicted = [], []
    for start in range(0, len(x), batch_size):
        probs = model.forward(to_internal(x[start:start + batch_size]))[-1]
        losses.append(cross_entropy(probs, y[start:start + batch_size])[0] * len(probs))
        predicted.append(probs.argmax(axis=1))
    labels = np.concatenate(predicted)
    return float(sum(losses) / len(x)), float((labels == y).mean()), labels


def fit(model: Sequential, x: np.ndarray, y: np.ndarray, optimizer: Optimizer, *,
        epochs: int, batch_size: int = 32, seed: int = 0,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        callback: Callable[[Progress], bool | None] | None = None) -> list[Progress]:
    """Train ``model`` on ``x`` (Keras's order, ``(N, *input_shape)``) and integer labels ``y``.

    Each epoch shuffles the examples with the seeded generator and walks them in batches of
    ``batch_size`` (the last one smaller). Returns the epoch reports; ``callback`` also gets
    every batch's and may return ``False`` to stop after the current batch.

    Notes
    -----
    Cost per epoch: about three times the forward pass's multiply-adds (forward, the gradient
    of the input, the gradient of the weights); memory: every layer's output for one batch.
    """
    with one_blas_thread():
        return _fit(model, x, y, optimizer, epochs=epochs, batch_size=batch_size, seed=seed,
                    validation=validation, callback=callback)


def _fit(model: Sequential, x: np.ndarray, y: np.ndarray, optimizer: Optimizer, *,
         epochs: int, batch_size: int, seed: int,
         validation: tuple[np.ndarray, np.ndarray] | None,
         callback: Callable[[Progress], bool | None] | None) -> list[Progress]:
    rng = np.random.default_rng(seed)
    data = to_internal(np.asarray(x, dtype=np.float32))
    labels = np.asarray(y, dtype=np.int64)
    batches = -(-len(data) // batch_size)
    history: list[Progress] = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(data))
        total_loss = total_right = 0.0
        for b in range(batches):
            index = order[b * batch_size:(b + 1) * batch_size]
            loss, accuracy = train_step(model, data[index], labels[index], optimizer, rng)
            total_loss += loss * len(index)
            total_right += accuracy * len(index)
            report = Progress("batch", epoch, b + 1, batches, loss, accuracy,
                              time.perf_counter() - start)
            if callback is not None and callback(report) is False:
                return history
        val_loss = val_accuracy = None
        if validation is not None:
            val_loss, val_accuracy, _ = evaluate(model, *validation)
        summary = Progress("epoch", epoch, batches, batches, total_loss / len(data),
                           total_right / len(data), time.perf_counter() - start,
                           val_loss, val_accuracy)
        history.append(summary)
        if callback is not None and callback(summary) is False:
            break
    return history
