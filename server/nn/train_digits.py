"""Make the shipped digit weights: ``python -m server.nn.train_digits [--out PATH]``.

Trains `digits.new_model` from `digits.SEED` with Adam on the fixed training split and on the
same training digits traced and drawn again the page's way, twice (`digits.traced_training_digits`,
so the network reads drawings from the /digits page as well as UCI's scans), 12 epochs and 4
more at a tenth of the learning rate, and writes the
weights with the facts of the run (seed, epochs, sizes, test accuracy) to ``data/digits.npz``.
The test split is never augmented nor trained on. The run is deterministic: the same versions
of NumPy, SciPy and Pillow give the same file, whatever the number of threads.

The page's Train button calls `train` without ``traced``: UCI's 1347 digits alone, so a run
takes a second or two and nothing has to be drawn first (tracing costs a few seconds).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import numpy as np

from . import digits
from .model import Sequential
from .optimizers import Adam
from .training import Progress, evaluate, fit

EPOCHS = 12  # a run on UCI's digits alone (the page's, the benchmark's) and the shipped one
SETTLE_EPOCHS = 4  # the shipped run then goes on at a tenth of the learning rate
TRACED_COPIES = 2  # traced copies of each training digit in the shipped run
LEARNING_RATE = 0.01
BATCH_SIZE = 32


def train(*, seed: int = digits.SEED, epochs: int = EPOCHS, learning_rate: float = LEARNING_RATE,
          batch_size: int = BATCH_SIZE, callback: Any = None, optimizer: Any = None,
          model: Sequential | None = None, traced: int = 0, settle: int = 0
          ) -> tuple[Sequential, list[Progress], float]:
    """Train the digit network (or ``model``, a fresh `digits.new_model`) from scratch;
    ``(model, epoch reports, test accuracy)``. ``traced`` > 0 adds that many traced copies of
    every training digit (`digits.traced_training_digits`, made with the same ``seed``);
    ``settle`` > 0 epochs more at a tenth of the learning rate (shuffled with ``seed + 1``)
    end the run where the last epochs' readings stop swinging."""
    data = digits.load()
    model = model or digits.new_model()
    model.init_weights(seed)
    test = (data.inputs("test"), data.test_y)
    inputs, labels = data.inputs("train"), data.train_y
    if traced:
        pixels, more = digits.traced_training_digits(seed, traced)
        inputs = np.concatenate([inputs, (pixels * digits.PIXEL_SCALE)[..., None]])
        labels = np.concatenate([labels, more])
    optimizer = optimizer or Adam(learning_rate)
    history = fit(model, inputs, labels, optimizer, epochs=epochs, batch_size=batch_size,
                  seed=seed, validation=test, callback=callback)
    if settle and len(history) == epochs:
        optimizer.learning_rate /= 10
        history += fit(model, inputs, labels, optimizer, epochs=settle, batch_size=batch_size,
                       seed=seed + 1, validation=test, callback=callback)
    _, accuracy, _ = evaluate(model, *test)
    return model, history, accuracy


def to_npz(model: Sequential, facts: dict[str, Any]) -> bytes:
    """Weights as ``<layer>/<index>`` arrays and facts as ``meta/<name>`` scalars."""
    arrays: dict[str, Any] = {f"{name}/{i}": w for name, ws in model.get_weights().items()
                              for i, w in enumerate(ws)}
    arrays |= {f"meta/{key}": np.array(value) for key, value in facts.items()}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "data" / digits.WEIGHTS_FILE)
    args = parser.parse_args(argv)
    epochs = iter(range(1, EPOCHS + SETTLE_EPOCHS + 1))  # the settling epochs count on
    model, history, accuracy = train(
        settle=SETTLE_EPOCHS, traced=TRACED_COPIES, callback=lambda p: print(
            f"epoch {next(epochs)}: loss {p.loss:.4f}, accuracy {p.accuracy:.4f}, test "
            f"{p.val_accuracy:.4f}") if p.kind == "epoch" else None)
    facts = {"seed": digits.SEED, "epochs": EPOCHS + SETTLE_EPOCHS,
             "settle_epochs": SETTLE_EPOCHS, "learning_rate": LEARNING_RATE,
             "batch_size": BATCH_SIZE, "optimizer": "adam", "test_accuracy": accuracy,
             "train_size": len(digits.load().train_y), "test_size": len(digits.load().test_y),
             "traced_copies": TRACED_COPIES,
             "traced_size": TRACED_COPIES * len(digits.load().train_y)}
    args.out.write_bytes(to_npz(model, facts))
    print(f"test accuracy {accuracy:.4f}; wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
