"""Time one training step of the digit network against PyTorch, and a whole training run.

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_train.py`` (``--quick`` for a smoke run).
One step is a batch of 32 digits through Conv 3x3x8 same + ReLU, MaxPool 2, Conv 3x3x16 same +
ReLU, MaxPool 2, Flatten, Dense 10 + softmax: forward, cross-entropy, backward, an Adam update.
PyTorch runs the same network (same weights at the start) with ``torch.optim.Adam``; both sides
get the same number of threads (``--threads``, default 2 for PyTorch and NumPy's BLAS alike),
except that our steps run their BLAS calls on one thread, as `training.fit` does (more threads
only cost time on products this small).
Steps alternate between the two sides, round after round; the medians are reported, with the
CPU time per step too (steadier on a busy machine). The training run is `train_digits.train`
from scratch (the shipped recipe) with its test accuracy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

THREADS = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--threads=")), 2)
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.nn import digits  # noqa: E402
from server.nn.layers import to_internal  # noqa: E402
from server.nn.optimizers import Adam  # noqa: E402
from server.nn.train_digits import train  # noqa: E402
from server.nn.training import one_blas_thread, train_step  # noqa: E402

try:
    import torch

    torch.set_num_threads(THREADS)
except ImportError:
    torch = None


def torch_twin(model: object) -> tuple[object, object]:
    """The same network in PyTorch, starting from our weights."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 10))
    weights = model.get_weights()  # type: ignore[attr-defined]
    with torch.no_grad():
        for conv, name in ((net[0], "conv2d"), (net[3], "conv2d_1")):
            conv.weight.copy_(torch.from_numpy(weights[name][0].transpose(3, 2, 0, 1).copy()))
            conv.bias.copy_(torch.from_numpy(weights[name][1]))
        # Keras flattens (H, W, C); torch (C, H, W): reorder the dense kernel's rows
        dense = weights["dense"][0].reshape(2, 2, 16, 10).transpose(2, 0, 1, 3).reshape(64, 10)
        net[7].weight.copy_(torch.from_numpy(dense.T.copy()))
        net[7].bias.copy_(torch.from_numpy(weights["dense"][1]))
    return net, torch.optim.Adam(net.parameters(), lr=0.01, eps=1e-7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few steps, no training run")
    parser.add_argument("--threads", default=THREADS)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    rounds = 10 if args.quick else args.rounds
    data = digits.load()
    x_keras = data.inputs("train")[:32]
    x, y = to_internal(x_keras), data.train_y[:32]
    model = digits.new_model()
    model.init_weights(0)
    optimizer, rng = Adam(0.01), np.random.default_rng(0)
    sides: dict[str, tuple[list[float], list[float]]] = {"ours": ([], [])}
    steps = {"ours": lambda: train_step(model, x, y, optimizer, rng)}
    if torch is not None:
        net, adam = torch_twin(model)
        tx, ty = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()

        def torch_step() -> None:
            adam.zero_grad()
            loss_fn(net(tx), ty).backward()
            adam.step()

        steps["torch"] = torch_step
        sides["torch"] = ([], [])
    # as `fit` runs: NumPy's BLAS on one thread (PyTorch's own OpenMP threads are not touched:
    # its convolutions keep their threads, its process has no other BLAS in this one)
    with one_blas_thread():
        for step in steps.values():
            for _ in range(5):
                step()  # warm-up: caches, thread pools
        for _ in range(rounds):
            for name, step in steps.items():
                wall, cpu = time.perf_counter(), time.process_time()
                step()
                sides[name][0].append(time.perf_counter() - wall)
                sides[name][1].append(time.process_time() - cpu)
    print(f"one training step, batch 32, digit CNN, {args.threads} thread(s) (ours: BLAS on "
          f"one, as training runs), median of {rounds} alternating rounds")
    print("| side | wall ms | wall ms, quartiles | cpu ms |\n|---|---|---|---|")
    medians = {}
    for name, (wall, cpu) in sides.items():
        medians[name] = statistics.median(wall)
        low, _, high = statistics.quantiles(wall, n=4)
        print(f"| {name} | {medians[name] * 1e3:.3f} | {low * 1e3:.3f} to {high * 1e3:.3f} | "
              f"{statistics.median(cpu) * 1e3:.3f} |")
    if "torch" in medians:
        # each round's own ratio too: both sides of a round saw the same load on the machine
        paired = statistics.median(a / b for a, b in zip(*(sides[n][0] for n in ("ours", "torch")),
                                                          strict=True))
        print(f"ratio ours / torch (wall): {medians['ours'] / medians['torch']:.2f} "
              f"(median of the rounds' own ratios: {paired:.2f})")
    if not args.quick:
        start = time.perf_counter()
        _, history, accuracy = train()
        seconds = time.perf_counter() - start
        print(f"training run: {len(history)} epochs in {seconds:.2f} s, test accuracy "
              f"{accuracy:.4f} (target >= 0.97 in under 10 s)")


if __name__ == "__main__":
    main()
