"""Backpropagation through the layers against PyTorch autograd, the optimizers against Keras's
update rules, and a seeded training loop that is reproducible and learns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from server.nn.layers import to_internal
from server.nn.losses import cross_entropy
from server.nn.model import Sequential
from server.nn.optimizers import SGD, Adam
from server.nn.training import fit, train_step

torch = pytest.importorskip("torch")

STACK = [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 4, "kernel_size": 2, "strides": 2, "activation": "tanh"},
    {"type": "ZeroPadding2D", "padding": 1},
    {"type": "AveragePooling2D", "pool_size": 2, "strides": 1},
    {"type": "Flatten"}, {"type": "Dense", "units": 6, "activation": "sigmoid"},
    {"type": "LeakyReLU", "negative_slope": 0.1},
    {"type": "Dense", "units": 4, "activation": "softmax"},
]


def torch_forward(model: Sequential, x: np.ndarray) -> tuple[Any, list[Any]]:
    """The same stack in torch, written out by hand, with leaf tensors for every weight."""
    f = torch.nn.functional
    leaves = []
    h = torch.tensor(x, dtype=torch.float64)  # (N, C, H, W)
    for layer in model.layers:
        ws = [torch.tensor(w.astype(np.float64), requires_grad=True) for w in layer.weights]
        leaves.append(ws)
        if layer.type == "Conv2D":
            k = ws[0].permute(3, 2, 0, 1)
            pad = layer._pads(tuple(h.shape[2:]))
            h = f.pad(h, (pad[1][0], pad[1][1], pad[0][0], pad[0][1]))
            h = f.conv2d(h, k, ws[1], stride=layer.strides)
            h = torch.relu(h) if layer.activation == "relu" else torch.tanh(h)
        elif layer.type == "MaxPooling2D":
            h = f.max_pool2d(h, 2)
        elif layer.type == "ZeroPadding2D":
            h = f.pad(h, (1, 1, 1, 1))
        elif layer.type == "AveragePooling2D":
            h = f.avg_pool2d(h, 2, stride=1)
        elif layer.type == "Flatten":
            h = h.permute(0, 2, 3, 1).reshape(len(h), -1)
        elif layer.type == "LeakyReLU":
            h = f.leaky_relu(h, 0.1)
        else:
            h = h @ ws[0] + ws[1]
            h = torch.sigmoid(h) if layer.activation == "sigmoid" else torch.softmax(h, dim=1)
    return h, leaves


def test_gradients_of_every_layer_equal_torch_autograd() -> None:
    rng = np.random.default_rng(0)
    model = Sequential([8, 8, 2], STACK)
    model.init_weights(1)
    x = to_internal(rng.normal(size=(5, 8, 8, 2)).astype(np.float32))
    y = rng.integers(0, 4, 5)
    probs = model.forward(x, training=True)[-1]
    loss, grad = cross_entropy(probs, y)
    for layer in reversed(model.layers):
        grad = layer.backward(grad)
    out, leaves = torch_forward(model, x)
    torch_loss = torch.nn.functional.nll_loss(torch.log(out), torch.tensor(y))
    torch_loss.backward()
    assert loss == pytest.approx(float(torch_loss.detach()), rel=1e-5)
    for layer, ws in zip(model.layers, leaves, strict=True):
        assert len(layer.grads) == len(ws) or not ws
        for ours, theirs in zip(layer.grads, ws, strict=False):
            want = theirs.grad.numpy()
            np.testing.assert_allclose(ours, want, atol=1e-5 * max(np.abs(want).max(), 1e-3),
                                       err_msg=layer.name)


def test_input_gradient_equals_finite_differences() -> None:
    rng = np.random.default_rng(2)
    model = Sequential([6, 6, 1], STACK[:2] + [{"type": "Flatten"},
                                               {"type": "Dense", "units": 3,
                                                "activation": "softmax"}])
    model.init_weights(0)
    x = to_internal(rng.normal(size=(2, 6, 6, 1))).astype(np.float64)
    y = np.array([0, 2])

    def loss_of(xs: np.ndarray) -> float:
        return cross_entropy(model.forward(xs)[-1].astype(np.float64), y)[0]

    model.forward(x.astype(np.float32), training=True)
    _, grad = cross_entropy(model.forward(x.astype(np.float32), training=True)[-1], y)
    for layer in reversed(model.layers):
        grad = layer.backward(grad)
    eps = 1e-2
    for index in [(0, 0, 1, 1), (1, 0, 4, 2), (0, 0, 5, 5)]:
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        numeric = (loss_of(up.astype(np.float32)) - loss_of(down.astype(np.float32))) / (2 * eps)
        assert grad[index] == pytest.approx(numeric, abs=2e-3)


def test_sgd_momentum_and_adam_follow_keras_rules() -> None:
    w = np.array([1.0, -2.0])
    sgd = SGD(0.1, momentum=0.9)
    v = np.zeros(2)
    expected = w.copy()
    for g in (np.array([1.0, 0.5]), np.array([-0.2, 0.1])):
        sgd.step([w], [g])
        v = 0.9 * v - 0.1 * g
        expected = expected + v
    np.testing.assert_allclose(w, expected)
    w = np.array([0.5])
    adam = Adam(0.01)
    m = s = 0.0
    expected = np.array([0.5])
    for t, g in enumerate([0.3, -0.1, 0.2], start=1):
        adam.step([w], [np.array([g])])
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        alpha = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        expected = expected - alpha * m / (np.sqrt(s) + 1e-7)
    np.testing.assert_allclose(w, expected, rtol=1e-12)


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of 4x4 pictures: bright on the left or on the right."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(scale=0.3, size=(n, 4, 4, 1)).astype(np.float32)
    x[y == 0, :, :2] += 1
    x[y == 1, :, 2:] += 1
    return x, y


SMALL = [{"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same",
          "activation": "relu"}, {"type": "GlobalAveragePooling2D"},
         {"type": "Dense", "units": 2, "activation": "softmax"}]


def test_fit_learns_and_is_reproducible() -> None:
    x, y = blobs(64, 0)
    runs = []
    for _ in range(2):
        model = Sequential([4, 4, 1], SMALL)
        model.init_weights(3)
        reports: list[Any] = []
        history = fit(model, x, y, Adam(0.05), epochs=15, batch_size=16, seed=5,
                      validation=blobs(32, 1), callback=reports.append)
        runs.append((history, model.get_weights()))
    (first, w1), (second, w2) = runs
    assert [h.loss for h in first] == [h.loss for h in second]
    for name in w1:
        for a, b in zip(w1[name], w2[name], strict=True):
            np.testing.assert_array_equal(a, b)
    assert first[-1].loss < first[0].loss / 2 and first[-1].val_accuracy >= 0.9
    assert len(reports) == 15 * 4 + 15  # four batches and one epoch report per epoch


def test_callback_false_stops_after_the_batch() -> None:
    x, y = blobs(64, 0)
    model = Sequential([4, 4, 1], SMALL)
    model.init_weights(0)
    seen: list[Any] = []
    history = fit(model, x, y, SGD(0.1), epochs=5, batch_size=16,
                  callback=lambda p: seen.append(p) or len(seen) < 3)
    assert history == [] and len(seen) == 3


def test_training_a_batch_normalization_is_refused_by_name() -> None:
    model = Sequential([4, 4, 1], [{"type": "BatchNormalization"}, {"type": "Flatten"},
                                   {"type": "Dense", "units": 2, "activation": "softmax"}])
    model.init_weights(0)
    x, y = blobs(4, 0)
    with pytest.raises(ValueError, match="batch_normalization.*cannot be trained"):
        train_step(model, to_internal(x), y, SGD(0.1), np.random.default_rng(0))


def test_overlapping_runs_restore_the_blas_threads_once_both_end() -> None:
    from threadpoolctl import threadpool_info

    from server.nn.training import one_blas_thread

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    second.__enter__()
    assert all(n == 1 for n in blas_threads())
    first.__exit__(None, None, None)  # the other run still goes on: still one thread
    assert all(n == 1 for n in blas_threads())
    second.__exit__(None, None, None)
    assert blas_threads() == before
