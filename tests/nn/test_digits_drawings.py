"""Drawings read like the training data: mouse-like drawings of every digit (several shapes,
thin and thick, narrow and wide, slanted; rendered as the /digits page renders strokes) are
reduced by `reduce_drawing` and read by the shipped network and, independently of any network,
by the nearest UCI training digits. UCI test digits traced with the page's thin pen must still
be read. The network's thresholds sit just under what the shipped network reads since it is
trained on traced training digits too (116 of 132 drawings), above the network trained on UCI's
scans alone (107 of 132 with the reduction that redraws strokes with the UCI pen, 90 of 132
before it). These drawings are never trained on."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_digits import SHAPES, STYLES, drawings, place, render, uci_as_drawing
from sklearn.neighbors import KNeighborsClassifier

from server.nn import digits


@pytest.fixture(scope="module")
def drawn() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every synthetic drawing reduced: (8x8 pixels, labels, descriptions)."""
    labels, names, pixels = [], [], []
    for digit, name, drawing in drawings():
        labels.append(digit)
        names.append(name)
        pixels.append(digits.reduce_drawing(drawing).pixels)
    return np.array(pixels, dtype=np.float32), np.array(labels), names


@pytest.fixture(scope="module")
def uci_neighbours() -> KNeighborsClassifier:
    """Five nearest UCI training digits: a reader that knows nothing but the data (it reads
    98.7% of the held-out test digits)."""
    data = digits.load()
    return KNeighborsClassifier(5).fit(data.train_x.reshape(-1, 64), data.train_y)


def network_reads(pixels: np.ndarray) -> np.ndarray:
    model, _ = digits.bundled_model()
    return model.predict((pixels * digits.PIXEL_SCALE)[..., None]).argmax(axis=1)


def per_class(read: np.ndarray, labels: np.ndarray) -> dict[int, float]:
    return {d: float((read[labels == d] == d).mean()) for d in range(10)}


def test_every_digit_is_drawn_in_every_style() -> None:
    assert sorted(SHAPES) == list(range(10))
    assert len(list(drawings())) == sum(len(s) for s in SHAPES.values()) * len(STYLES) == 132


def test_drawn_digits_are_read_by_the_shipped_network(drawn: tuple) -> None:
    pixels, labels, names = drawn
    read = network_reads(pixels)
    accuracy = per_class(read, labels)
    wrong = [(n, int(r)) for n, r, y in zip(names, read, labels, strict=True) if r != y]
    # trained on UCI's scans alone: 0.68 in all with the first reduction, ones 0.44, nines
    # 0.42; 0.81 with the UCI pen, ones 0.72, sevens 0.67, nines 0.5. Trained on the traced
    # training digits too: 0.88, ones 0.72, sevens 0.89, nines 0.42 (5 of 12, mostly read as
    # 8: the weakest class, one fewer than before)
    assert (read == labels).mean() >= 0.86, wrong
    assert accuracy[1] >= 0.65, wrong
    assert accuracy[7] >= 0.85, wrong
    assert min(accuracy.values()) >= 0.4, (accuracy, wrong)


def test_drawn_digits_look_like_uci_digits(drawn: tuple,
                                           uci_neighbours: KNeighborsClassifier) -> None:
    pixels, labels, names = drawn
    read = uci_neighbours.predict(pixels.reshape(-1, 64))
    wrong = [(n, int(r)) for n, r, y in zip(names, read, labels, strict=True) if r != y]
    # before: 0.70 (zeros drawn wide, ones, eights, nines far from any UCI digit); now 0.85
    assert (read == labels).mean() >= 0.8, wrong


def test_reduced_drawings_hold_as_much_ink_and_span_as_the_uci_digits() -> None:
    uci_ink = digits.load().train_x.sum(axis=(1, 2))
    low, high = np.percentile(uci_ink, [1, 99])  # 251 and 397 pixels of 1024
    for _, name, drawing in drawings():
        scaled = digits.reduce_drawing(drawing).scaled
        rows, cols = np.nonzero(scaled)
        assert low <= scaled.sum() <= high, name
        assert rows.max() - rows.min() + 1 >= 30, name  # UCI digits fill the 32 rows
        assert cols.max() - cols.min() + 1 <= 26, name  # and span at most 6.5 blocks


def test_the_pen_width_hardly_changes_the_reading() -> None:
    """The same strokes drawn with a pen four times as wide give nearly the same 8x8 counts:
    before the stroke normalization 70% of the ink moved (67% to 79%), now 32% (2% to 52%)."""
    moved = []
    for shapes in SHAPES.values():
        for shape in shapes:
            strokes = place(shape, STYLES[0])
            thin, thick = (digits.reduce_drawing(render(strokes, line=line)).pixels
                           for line in (0.03, 0.12))
            moved.append(np.abs(thin - thick).sum() / max(thin.sum(), thick.sum()))
    assert np.mean(moved) <= 0.45 and max(moved) <= 0.6, np.round(moved, 2)


def test_a_thin_drawn_one_becomes_a_bar_like_the_uci_ones() -> None:
    one = render(place(SHAPES[1][0], STYLES[0]))
    assert (one >= 0.5).sum(axis=1).max() <= 0.07 * 128  # a pen a 15th of the pad wide
    pixels = digits.reduce_drawing(one).pixels
    uci_ones = digits.load().train_x[digits.load().train_y == 1]
    # UCI ones: two full blocks a row on average (about 9 pixels of 32 wide)
    assert (pixels >= 12).sum(axis=1).mean() == pytest.approx(
        (uci_ones >= 12).sum(axis=2).mean(), abs=0.5)
    assert network_reads(pixels[None])[0] == 1


def test_uci_digits_traced_with_the_page_pen_are_still_read(
        uci_neighbours: KNeighborsClassifier) -> None:
    """Fifteen held-out UCI digits of each class, thinned to their centre lines and drawn
    again with the page's pen: the reduction turns them back into digits the network and
    the UCI neighbours read. (Thinning fills the eights' small loops now and then.)"""
    data = digits.load()
    chosen = np.concatenate([np.flatnonzero(data.test_y == d)[:15] for d in range(10)])
    labels = data.test_y[chosen]
    pixels = np.array([digits.reduce_drawing(uci_as_drawing(data.test_x[i])).pixels
                       for i in chosen], dtype=np.float32)
    by_network = network_reads(pixels)
    by_neighbours = uci_neighbours.predict(pixels.reshape(-1, 64))
    # the first reduction: the network read 0.81 and only 7 of the 15 ones; with the UCI pen
    # 0.87, every class >= 11/15; trained on traced training digits too 0.96, >= 13/15
    assert (by_network == labels).mean() >= 0.93, per_class(by_network, labels)
    assert min(per_class(by_network, labels).values()) >= 0.8, per_class(by_network, labels)
    assert (by_neighbours == labels).mean() >= 0.8, per_class(by_neighbours, labels)
