"""The batched training path of convolutions and tiling pools (`server.nn.layers._batched`)
gives what the core's validated calls give (forward, weight and input gradients), PyTorch's
autograd, max pooling's first-maximum rule on ties and NaN, and Adam's one-buffer update is
the per-array update bit for bit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.nn.layers import to_internal
from server.nn.layers.conv import Conv
from server.nn.layers.pooling import Pooling
from server.nn.losses import cross_entropy
from server.nn.model import Sequential
from server.nn.optimizers import Adam
from server.nn.training import train_step

torch = pytest.importorskip("torch")


def conv(filters: int, size: Any, **more: Any) -> dict[str, Any]:
    return {"type": "Conv2D", "filters": filters, "kernel_size": size, **more}


HEAD = [{"type": "Flatten"}, {"type": "Dense", "units": 4, "activation": "softmax"}]
STACKS = {
    "digits": ([8, 8, 1], [conv(3, 3, padding="same", activation="relu"),
                           {"type": "MaxPooling2D", "pool_size": 2},
                           conv(4, 3, padding="same", activation="relu"),
                           {"type": "MaxPooling2D", "pool_size": 2}, *HEAD]),
    "dilated-valid-tanh": ([9, 10, 2], [conv(3, [3, 2], dilation_rate=2, activation="tanh"),
                                        {"type": "AveragePooling2D", "pool_size": [1, 2]},
                                        *HEAD]),
    "same-even-kernel-linear": ([6, 6, 3], [conv(2, 4, padding="same", use_bias=False),
                                            {"type": "MaxPooling2D", "pool_size": 3},
                                            conv(5, 1, activation="sigmoid"), *HEAD]),
    "conv1d": ([12, 2], [{"type": "Conv1D", "filters": 3, "kernel_size": 3, "padding": "same",
                          "activation": "relu"}, {"type": "MaxPooling1D", "pool_size": 2},
                         *HEAD]),
    "conv3d": ([4, 4, 4, 1], [{"type": "Conv3D", "filters": 2, "kernel_size": 3,
                               "padding": "same", "activation": "relu"},
                              {"type": "AveragePooling3D", "pool_size": 2}, *HEAD]),
    "softmax-channels": ([5, 5, 2], [conv(3, 3, padding="same", activation="softmax"),
                                     *HEAD]),
}


def step(name: str, batched: bool, monkeypatch: pytest.MonkeyPatch,
         x: np.ndarray | None = None) -> tuple[list[np.ndarray], list[list[np.ndarray]],
                                                list[np.ndarray]]:
    """Every layer's training output, weight gradients and input gradient, by either path."""
    with monkeypatch.context() as patch:
        if not batched:
            patch.setattr(Conv, "_batched", lambda self, x: False)
            patch.setattr(Pooling, "_tiles", lambda self, x: False)
        shape, stack = STACKS[name]
        model = Sequential(shape, stack)
        model.init_weights(4)
        rng = np.random.default_rng(1)
        if x is None:
            x = to_internal(rng.normal(size=(6, *shape)).astype(np.float32))
        outputs = model.forward(x, training=True)
        for layer in model.layers:  # every stack here fits the batched path
            if isinstance(layer, Conv | Pooling):
                taken = (layer._cols if isinstance(layer, Conv) else layer._pooled) is not None
                assert taken == batched, layer.name
        _, grad = cross_entropy(outputs[-1], rng.integers(0, 4, len(x)))
        inputs = []
        for layer in reversed(model.layers):
            grad = layer.backward(grad)
            inputs.append(grad)
        return outputs, [layer.grads for layer in model.layers], inputs


def close(ours: np.ndarray, want: np.ndarray) -> None:
    assert ours.shape == want.shape and ours.dtype == want.dtype == np.float32
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6 * max(np.abs(want).max(), 1))


@pytest.mark.parametrize("name", list(STACKS))
def test_batched_path_equals_the_core_calls(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, core = step(name, True, monkeypatch), step(name, False, monkeypatch)
    for ours, want in zip(fast[0] + fast[2], core[0] + core[2], strict=True):
        close(ours, want)
    for ours_layer, want_layer in zip(fast[1], core[1], strict=True):
        assert len(ours_layer) == len(want_layer)
        for ours, want in zip(ours_layer, want_layer, strict=True):
            close(ours, want)


def test_the_batched_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above compares something: the digit stack's layers do go batched."""
    model = Sequential(*STACKS["digits"])
    model.init_weights(0)
    x = np.zeros((3, 1, 8, 8), np.float32)
    model.forward(x, training=True)
    assert model.layers[0]._cols is not None and model.layers[1]._pooled is not None
    model.forward(x)  # inference: the core's path, the training cache kept for backward
    assert model.layers[0]._cols is not None


def test_batched_gradients_equal_torch_autograd() -> None:
    """A dilated, biased, tanh convolution and a tiling average, checked against autograd."""
    shape, stack = STACKS["dilated-valid-tanh"]
    model = Sequential(shape, stack)
    model.init_weights(2)
    rng = np.random.default_rng(3)
    x = to_internal(rng.normal(size=(5, *shape)).astype(np.float32))
    y = rng.integers(0, 4, 5)
    probs = model.forward(x, training=True)[-1]
    _, grad = cross_entropy(probs, y)
    for layer in reversed(model.layers):
        grad = layer.backward(grad)
    f = torch.nn.functional
    conv_layer, _, _, dense = model.layers
    k = torch.tensor(conv_layer.weights[0].astype(np.float64), requires_grad=True)
    b = torch.tensor(conv_layer.weights[1].astype(np.float64), requires_grad=True)
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    h = torch.tanh(f.conv2d(tx, k.permute(3, 2, 0, 1), b, dilation=2))
    h = f.avg_pool2d(h, (1, 2)).permute(0, 2, 3, 1).reshape(5, -1)
    out = torch.softmax(h @ torch.tensor(dense.weights[0].astype(np.float64))
                        + torch.tensor(dense.weights[1].astype(np.float64)), dim=1)
    f.nll_loss(torch.log(out), torch.tensor(y)).backward()
    for ours, theirs in ((conv_layer.grads[0], k), (conv_layer.grads[1], b), (grad, tx)):
        want = theirs.grad.numpy()
        np.testing.assert_allclose(ours, want, atol=1e-5 * np.abs(want).max())


def test_max_pool_ties_go_to_the_first_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal values in a window (ReLU's zeros, repeated pixels) and NaN: as the core does."""
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=(4, 1, 8, 8)), 0).astype(np.float32)  # many exact ties
    x[1, 0, 2:4, 4:6] = 7.0
    fast, core = step("digits", True, monkeypatch, x), step("digits", False, monkeypatch, x)
    for ours, want in zip(fast[2], core[2], strict=True):
        close(ours, want)
    nan = x.copy()
    nan[2, 0, 0, 0] = np.nan
    fast, core = step("digits", True, monkeypatch, nan), step("digits", False, monkeypatch, nan)
    np.testing.assert_array_equal(np.isnan(fast[2][-1]), np.isnan(core[2][-1]))


def test_max_pool_gradient_goes_to_one_tap_per_window() -> None:
    model = Sequential([4, 4, 1], [{"type": "MaxPooling2D", "pool_size": 2}])
    x = np.array([[1, 3, 3, 0], [3, 0, 2, 2], [5, 5, 5, 5], [5, 5, 5, 5]], np.float32)
    model.forward(x[None, None], training=True)
    assert model.layers[0]._pooled is not None
    grad = model.layers[0].backward(np.array([[[[10, 20], [30, 40]]]], np.float32))
    np.testing.assert_array_equal(grad[0, 0], [[0, 10, 20, 0], [0, 0, 0, 0],
                                               [30, 0, 40, 0], [0, 0, 0, 0]])


def test_first_layer_weight_gradients_alone_equal_the_full_backward() -> None:
    model = Sequential(*STACKS["digits"])
    model.init_weights(0)
    x = np.random.default_rng(0).random((4, 1, 8, 8), dtype=np.float32)
    model.forward(x, training=True)
    g = np.random.default_rng(1).normal(size=(4, 3, 8, 8)).astype(np.float32)
    first = model.layers[0]
    assert first.backward(g).shape == x.shape
    full = [a.copy() for a in first.grads]
    first.backward_weights(g)
    for a, b in zip(first.grads, full, strict=True):
        np.testing.assert_array_equal(a, b)


def test_adam_one_buffer_is_the_per_array_update_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    shapes = [(3, 3, 1, 8), (8,), (64, 10)]
    weights = [rng.normal(size=s).astype(np.float32) for s in shapes]
    by_array = [w.copy() for w in weights]
    flat, single = Adam(0.01), Adam(0.01)
    for _ in range(5):
        grads = [rng.normal(size=s).astype(np.float32) for s in shapes]
        flat.step(weights, grads)
        single.iterations += 1
        for i, (w, g) in enumerate(zip(by_array, grads, strict=True)):
            single.update(i, w, g)
    assert flat._flat is not None and single._flat is None
    for a, b in zip(weights, by_array, strict=True):
        np.testing.assert_array_equal(a, b)
    for i in range(len(shapes)):
        np.testing.assert_array_equal(flat.m[i], single.m[i])
        np.testing.assert_array_equal(flat.v[i], single.v[i])


def test_train_step_on_the_batched_path_learns() -> None:
    model = Sequential(*STACKS["digits"])
    model.init_weights(0)
    rng = np.random.default_rng(0)
    x = rng.random((16, 1, 8, 8), dtype=np.float32)
    y = (x[:, 0, :4].sum(axis=(1, 2)) > x[:, 0, 4:].sum(axis=(1, 2))).astype(np.int64)
    optimizer = Adam(0.02)
    losses = [train_step(model, x, y, optimizer, rng)[0] for _ in range(60)]
    assert losses[-1] < losses[0] / 2


def test_bench_train_quick_run_completes() -> None:
    """bench/bench_train.py keeps working (a few steps, never timed; see bench/README.md)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "bench" / "bench_train.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| ours |" in done.stdout and "ratio ours / torch" in done.stdout
