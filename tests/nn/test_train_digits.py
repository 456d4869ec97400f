"""The shipped digit weights: made again byte for byte by the script, trained on the training
split and on those same training digits traced and drawn again the page's way, never on the
test split."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from server.nn import digits, train_digits


def test_the_script_makes_the_shipped_weights_again_byte_for_byte(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture
                                                                 ) -> None:
    out = tmp_path / "digits.npz"
    train_digits.main(["--out", str(out)])
    shipped = resources.files("server.nn").joinpath("data", digits.WEIGHTS_FILE).read_bytes()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(shipped).hexdigest()
    assert "test accuracy 0.9844" in capsys.readouterr().out


def test_the_shipped_facts_tell_how_it_was_trained() -> None:
    _, facts = digits.bundled_model()
    data = digits.load()
    assert facts["epochs"] == train_digits.EPOCHS + train_digits.SETTLE_EPOCHS == 16
    assert facts["train_size"] == len(data.train_y) == 1347
    assert facts["traced_copies"] == train_digits.TRACED_COPIES == 2
    assert facts["traced_size"] == 2694 and facts["test_size"] == 450
    assert facts["test_accuracy"] >= 0.97


def test_traced_training_digits_are_the_training_digits_drawn_again() -> None:
    pixels, labels = digits.traced_training_digits(digits.SEED, 2)
    data = digits.load()
    assert pixels.shape == (2694, 8, 8) and pixels.dtype == np.float32
    np.testing.assert_array_equal(labels, np.tile(data.train_y, 2))
    assert pixels.min() >= 0 and pixels.max() <= 16 and np.all(pixels == np.round(pixels))
    # reduced as the page's drawings are: about UCI_INK pixels of ink, not copies of the scans
    ink = pixels.sum(axis=(1, 2))
    assert abs(np.median(ink) - digits.UCI_INK) <= 10
    assert not any(np.array_equal(p, x) for p, x in zip(pixels, np.tile(data.train_x, (2, 1, 1)),
                                                         strict=True))
    # a nearest-neighbour reader of the scans still reads most of them as their own digit
    flat = data.train_x.reshape(len(data.train_x), -1)
    sample = pixels[::10].reshape(-1, 64)
    nearest = ((sample[:, None, :] - flat[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (data.train_y[nearest] == labels[::10]).mean() >= 0.75


def test_tracing_is_seeded_and_never_reads_the_test_split(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    data = digits.load()
    full, _ = digits.traced_training_digits(digits.SEED, 2)  # the real split (made or cached)
    blind = digits.Digits(data.train_x[:25], data.train_y[:25],
                          np.full_like(data.test_x, np.nan), data.test_y)
    monkeypatch.setattr(digits, "load", lambda: blind)
    trace = digits.traced_training_digits.__wrapped__
    pixels, labels = trace(digits.SEED, 2)
    np.testing.assert_array_equal(pixels[:25], full[:25])  # the same draws, digit by digit
    np.testing.assert_array_equal(labels, np.tile(data.train_y[:25], 2))
    assert not np.array_equal(pixels[:25], pixels[25:])  # a second copy is drawn anew
    other, _ = trace(digits.SEED + 1, 1)
    assert not np.array_equal(other, pixels[:25])


def test_the_page_run_stays_on_the_scans_alone() -> None:
    """The Train button's run (no ``traced``) is the quick one: UCI's digits only."""
    seen: list[int] = []
    model, history, accuracy = train_digits.train(
        epochs=1, callback=lambda p: seen.append(p.batches) if p.kind == "epoch" else None)
    assert seen == [43]  # 1347 / 32, rounded up
    assert len(history) == 1 and 0 < accuracy <= 1
