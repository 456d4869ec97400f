"""The step-through page with a 1-D signal and a 3-D volume, in a real Chromium.

Every expected number is computed here with NumPy (np.correlate, np.pad and naive loops), never
read back from the page or the API.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

READY = '[data-testid="step-page"][aria-busy="false"]'
FORMULA = '[data-testid="frame-formula"]'
INPUT = '[data-testid="input-grid-0"] .st-cell'
KERNEL = '[data-testid="kernel-grid-0"] .st-cell'
OUTPUT = '[data-testid="output-grid"] .st-cell'

# The lesson scenes' numbers, as the page promises to show them (asserted on the stage below).
SIGNAL = [2, 4, 7, 3, 1, 0, 5, 6, 2]
TAPS = [1, 2, -1]
VOLUME = np.array([
    [[1, 0, 2, 1], [0, 3, 1, 0], [2, 1, 0, 2], [1, 0, 1, 3]],
    [[0, 2, 1, 0], [1, 1, 0, 2], [3, 0, 2, 1], [0, 1, 2, 0]],
    [[2, 1, 0, 1], [0, 0, 3, 1], [1, 2, 1, 0], [2, 0, 1, 1]],
], dtype=float)
CUBE = np.array([[[1, 0], [0, -1]], [[0, 1], [-1, 0]]], dtype=float)


# ---- an independent oracle ------------------------------------------------------------------

def fmt(value: float) -> str:
    """The page's English number format: at most two decimals, a real minus sign."""
    rounded = math.floor(value * 100 + 0.5) / 100
    if rounded == 0:
        return "0"
    return f"{rounded:.2f}".rstrip("0").rstrip(".").replace("-", "−")


def wrap(value: float) -> str:
    return f"({fmt(value)})" if value < 0 else fmt(value)


def terms(patch: Any, weights: Any) -> str:
    flat_w = np.asarray(weights, dtype=float).ravel()
    return " + ".join(f"{wrap(x)}·{wrap(w)}"
                      for x, w in zip(np.asarray(patch, dtype=float).ravel(), flat_w, strict=True))


NP_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pads_1d(n: int, k: int, stride: int, dilation: int, padding: Any) -> tuple[int, int]:
    """[before, after] of one axis, from the contract's words (Keras's "same")."""
    span = dilation * (k - 1)
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return span, span
    if padding == "same":
        out = -(-n // stride)
        total = max((out - 1) * stride + span + 1 - n, 0)
        return total // 2, total - total // 2
    return int(padding), int(padding)


def conv1d(x: Any, w: Any, *, stride: int = 1, dilation: int = 1, padding: Any = 0,
           mode: str = "zeros") -> tuple[np.ndarray, np.ndarray, int]:
    """Outputs, the padded signal and the padding before it, by a naive loop over positions."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    before, after = pads_1d(len(x), len(w), stride, dilation, padding)
    xp = np.pad(x, (before, after), mode=NP_MODE[mode])
    length = (len(xp) - dilation * (len(w) - 1) - 1) // stride + 1
    out = np.array([sum(w[k] * xp[o * stride + k * dilation] for k in range(len(w)))
                    for o in range(length)])
    return out, xp, before


def conv3d_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    kd, kh, kw = w.shape
    od, oh, ow = (x.shape[i] - w.shape[i] + 1 for i in range(3))
    out = np.zeros((od, oh, ow))
    for z, r, c in itertools.product(range(od), range(oh), range(ow)):
        out[z, r, c] = float((x[z:z + kd, r:r + kh, c:c + kw] * w).sum())
    return out


# ---- page helpers ----------------------------------------------------------------------------

def open_step(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/step{query}")
    page.wait_for_selector(READY)


def formula(page: Any) -> str:
    return page.inner_text(FORMULA).strip()


def texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def scrubber(page: Any) -> int:
    return int(page.eval_on_selector('[data-testid="scrubber"]', "e => e.value"))


def coords(locator: Any, *names: str) -> set[tuple[int, ...]]:
    """The data-<name> coordinates of every element `locator` matches."""
    return {tuple(int(el.get_attribute(f"data-{n}")) for n in names) for el in locator.all()}


def custom_scene(page: Any, *, dims: str, input_text: str, kernel: str | None = None,
                 **fields: str) -> None:
    """Type a scene into "Set up your own scene" and show it."""
    if not page.locator('[data-testid="scene-form"]').is_visible():
        page.click('[data-testid="setup-panel"] summary')
    if "op" in fields:
        page.select_option('[data-testid="scene-op"]', fields.pop("op"))
    page.select_option('[data-testid="scene-dims"]', dims)
    page.fill('[data-testid="scene-input"]', input_text)
    if kernel is not None:
        page.fill('[data-testid="scene-kernel"]', kernel)
    if "padding_mode" in fields:
        page.select_option('[data-testid="scene-padding-mode"]', fields.pop("padding_mode"))
    if "activation" in fields:
        page.select_option('[data-testid="scene-activation"]', fields.pop("activation"))
    for name, value in fields.items():
        page.fill(f'[data-testid="scene-{name.replace("_", "-")}"]', value)
    page.click('[data-testid="scene-apply"]')
    page.wait_for_selector(READY)


# ---- 1-D: the lesson scenes ----------------------------------------------------------------

def test_signal_scene_steps_through_every_window_with_numpy_numbers(page: Any) -> None:
    expected = np.correlate(SIGNAL, TAPS, mode="valid")
    open_step(page, "?scene=signal1d")
    # one row of cells each: the signal, the kernel, the outputs
    assert texts(page, INPUT) == [fmt(v) for v in SIGNAL]
    assert texts(page, KERNEL) == [fmt(v) for v in TAPS]
    assert coords(page.locator(INPUT), "r") == {(0,)}
    assert page.locator(OUTPUT).count() == len(expected) == 7
    assert page.get_attribute('[data-testid="lesson-signal1d"]', "aria-pressed") == "true"
    for i, value in enumerate(expected):
        assert scrubber(page) == i
        assert formula(page) == f"{terms(SIGNAL[i:i + 3], TAPS)} = {fmt(value)}"
        assert page.inner_text(f"{OUTPUT}.current").strip() == fmt(value)
        # the window covers the three inputs of this output, no others
        assert coords(page.locator(f"{INPUT}.tap"), "c") == {(i,), (i + 1,), (i + 2,)}
        if i < len(expected) - 1:
            page.click('[data-testid="step-forward"]')
    page.click('[data-testid="step-back"]')
    assert formula(page) == f"{terms(SIGNAL[5:8], TAPS)} = {fmt(expected[5])}"
    assert page.inner_text('[data-testid="frame-counter"]') == "step 6 of 7"


def test_signal_scene_plays_to_the_end(page: Any) -> None:
    expected = np.correlate(SIGNAL, TAPS, mode="valid")
    open_step(page, "?scene=signal1d")
    page.select_option('[data-testid="speed"]', "16")
    page.click('[data-testid="play"]')
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "true"
    page.wait_for_selector('[data-testid="play"][aria-pressed="false"]', timeout=5000)
    assert scrubber(page) == len(expected) - 1
    assert texts(page, OUTPUT) == [fmt(v) for v in expected]
    page.locator('[data-testid="scrubber"]').fill("2")
    assert formula(page) == f"{terms(SIGNAL[2:5], TAPS)} = {fmt(expected[2])}"
    assert texts(page, OUTPUT)[3:] == ["", "", "", ""], "later outputs are not computed yet"


@pytest.mark.parametrize(("scene", "stride", "padding"), [
    ("signal1d", 1, 0), ("stride1d", 2, 0), ("same1d", 1, "same")])
def test_lesson_signal_scenes_have_the_formula_length(page: Any, scene: str, stride: int,
                                                      padding: Any) -> None:
    out, _, before = conv1d(SIGNAL, TAPS, stride=stride, padding=padding)
    open_step(page, f"?scene={scene}")
    page.keyboard.press("End")
    assert texts(page, OUTPUT) == [fmt(v) for v in out]
    shape = page.inner_text('[data-testid="shape-formula"]')
    assert f"9 → {len(out)}" in shape
    assert shape.strip().endswith(f"/ {stride}⌋ + 1 = {len(out)}")
    assert page.locator(f"{INPUT}.pad").count() == 2 * before


# ---- 1-D: the editor, every setting against NumPy --------------------------------------------

SIG = [3, -1, 4, 1, -5, 9, 2, -6, 5, 3]


@pytest.mark.parametrize(("stride", "padding", "dilation", "mode"), [
    (1, "0", 1, "zeros"),
    (2, "0", 1, "zeros"),
    (3, "1", 1, "zeros"),
    (2, "same", 1, "zeros"),
    (1, "full", 1, "zeros"),
    (1, "valid", 2, "zeros"),
    (2, "2", 2, "zeros"),
    (1, "2", 1, "reflect"),
    (2, "1", 1, "replicate"),
    (1, "3", 1, "circular"),
])
def test_signal_stride_padding_and_dilation_match_numpy(page: Any, stride: int, padding: str,
                                                        dilation: int, mode: str) -> None:
    kernel = [2, -1, 1]
    pad = padding if padding in ("same", "valid", "full") else int(padding)
    out, xp, before = conv1d(SIG, kernel, stride=stride, dilation=dilation, padding=pad, mode=mode)
    n, k = len(SIG), len(kernel)
    after = len(xp) - n - before
    assert len(out) == (n + before + after - dilation * (k - 1) - 1) // stride + 1
    open_step(page)
    custom_scene(page, dims="1", input_text=" ".join(map(str, SIG)), kernel="2 -1 1",
                 stride=str(stride), padding=padding, dilation=str(dilation), padding_mode=mode)
    assert page.locator('[data-testid="step-error"]').is_hidden()
    assert page.locator(OUTPUT).count() == len(out)
    assert f"{n} → {len(out)}" in page.inner_text('[data-testid="shape-formula"]')
    # the padded signal with its fill values, the padding cells marked
    assert texts(page, INPUT) == [fmt(v) for v in xp]
    assert page.locator(f"{INPUT}.pad").count() == len(xp) - n
    first_taps = [xp[t * dilation] for t in range(k)]
    assert formula(page) == f"{terms(first_taps, kernel)} = {fmt(out[0])}"
    page.keyboard.press("End")
    assert texts(page, OUTPUT) == [fmt(v) for v in out]


def test_signal_with_channels_bias_filters_and_relu(page: Any) -> None:
    x = np.array([[1, 2, 0, -1, 3, 2], [0, -2, 1, 4, -1, 1]], dtype=float)
    w = np.array([[[1, 0], [1, -1]], [[-1, 2], [0, 1]]], dtype=float)  # (F, C, k)
    bias = np.array([1, -2], dtype=float)
    pre = np.stack([bias[f] + sum(np.correlate(x[c], w[f, c], mode="valid") for c in range(2))
                    for f in range(2)])
    relu = np.maximum(pre, 0)
    open_step(page)
    custom_scene(page, dims="1", input_text="1 2 0 -1 3 2\n0 -2 1 4 -1 1",
                 kernel="1 0\n1 -1\n---\n-1 2\n0 1", bias="1 -2", activation="relu")
    assert page.locator('[data-testid="step-error"]').is_hidden()
    for c in range(2):
        assert page.locator(f'[data-testid="input-grid-{c}"] .st-cell').count() == 6
        assert page.locator(f'[data-testid="partial-grid-{c}"]').is_visible()
    first = f"({terms(x[0, :2], w[0, 0])}) + ({terms(x[1, :2], w[0, 1])}) + 1 = {fmt(pre[0, 0])}"
    # (the page writes two spaces around the arrow; inner_text folds them into one)
    assert formula(page) == f"{first} → ReLU({fmt(pre[0, 0])}) = {fmt(relu[0, 0])}"
    assert page.locator('[data-testid="channel-formulas"] li').count() == 2
    assert page.locator('[data-testid="output-stack"] .st-layer').count() == 2
    page.select_option('[data-testid="filter-select"]', "1")
    page.keyboard.press("End")
    assert texts(page, OUTPUT) == [fmt(v) for v in relu[1]]
    assert texts(page, '[data-testid="pre-grid"] .st-cell') == [fmt(v) for v in pre[1]]
    assert page.inner_text('[data-testid="frame-counter"]') == "step 10 of 10"


@pytest.mark.parametrize("op", ["max", "avg"])
def test_signal_pooling(page: Any, op: str) -> None:
    pairs = np.array([1, 3, 5, 4, 7, 0], dtype=float).reshape(3, 2)  # windows of 2, stride 2
    expected = pairs.max(axis=1) if op == "max" else pairs.mean(axis=1)
    open_step(page)
    custom_scene(page, op=op, dims="1", input_text="1 3 5 4 7 0", pool="2", stride="2")
    head = "max(1, 3) = 3" if op == "max" else "(1 + 3) / 2 = 2"
    assert formula(page) == head
    page.keyboard.press("End")
    assert texts(page, OUTPUT) == [fmt(v) for v in expected]
    if op == "max":
        assert page.inner_text(f"{INPUT}.winner").strip() == "7"


def test_signal_activation_alone(page: Any) -> None:
    x = np.array([-2, 3, -0.5, 1])
    open_step(page)
    custom_scene(page, op="act", dims="1", input_text="-2 3 -0.5 1", activation="relu")
    assert formula(page) == "ReLU(−2) = 0"
    page.keyboard.press("End")
    assert texts(page, OUTPUT) == [fmt(v) for v in np.maximum(x, 0)]


# ---- 1-D: hover ---------------------------------------------------------------------------

def test_hover_signal_output_highlights_exactly_its_receptive_field(page: Any) -> None:
    # stride 2, dilation 2, padding 1: output o reads padded inputs 2o, 2o + 2, 2o + 4
    out, xp, _ = conv1d(SIG, [1, 1, -1], stride=2, dilation=2, padding=1)
    open_step(page)
    custom_scene(page, dims="1", input_text=" ".join(map(str, SIG)), kernel="1 1 -1",
                 stride="2", dilation="2", padding="1")
    for o in range(len(out)):
        page.locator(OUTPUT).nth(o).hover()
        field = {(2 * o + 2 * t,) for t in range(3)}
        assert coords(page.locator(f"{INPUT}.tap"), "c") == field
        patch = [xp[c] for (c,) in sorted(field)]
        assert formula(page) == f"{terms(patch, [1, 1, -1])} = {fmt(out[o])}"
        assert page.locator(f"{OUTPUT}.current").count() == 1
    assert scrubber(page) == 0, "hovering does not move the animation"
    page.locator(OUTPUT).nth(2).click()
    page.mouse.move(0, 0)
    assert "Pinned: output position 2" in page.inner_text('[data-testid="hover-note"]')
    assert coords(page.locator(f"{INPUT}.tap"), "c") == {(4,), (6,), (8,)}
    page.keyboard.press("Escape")
    assert coords(page.locator(f"{INPUT}.tap"), "c") == {(0,), (2,), (4,)}


def test_hover_signal_weight_marks_every_input_it_multiplies(page: Any) -> None:
    open_step(page, "?scene=stride1d")  # 9 inputs, 3 taps, stride 2: outputs at 0, 2, 4, 6
    for j in range(3):
        page.locator(KERNEL).nth(j).hover()
        assert coords(page.locator(f"{INPUT}.mult"), "c") == {(2 * o + j,) for o in range(4)}
        note = page.inner_text('[data-testid="hover-note"]')
        assert f"Weight {fmt(TAPS[j])} at position {j}" in note and "4 highlighted inputs" in note
    page.mouse.move(0, 0)
    assert page.locator(f"{INPUT}.mult").count() == 0


def test_why_convolution_counts_and_links_of_a_signal(page: Any) -> None:
    open_step(page, "?scene=signal1d")
    why = page.locator('[data-testid="why-conv"]')
    assert why.locator('[data-testid="count-dense"] .ideas-bar-num').inner_text() == "9 × 7 = 63"
    assert why.locator('[data-testid="count-links"] .ideas-bar-num').inner_text() == "7 × 3 = 21"
    assert why.locator('[data-testid="count-shared"] .ideas-bar-num').inner_text() == "3"
    why.locator(".ideas-out .ideas-cell").nth(4).hover()
    assert coords(why.locator(".ideas-in .ideas-cell.lit"), "c") == {(4,), (5,), (6,)}
    assert "Output (4)" in why.locator('[data-testid="why-links"]').inner_text()


def test_why_convolution_draws_the_links_of_a_signal(page: Any) -> None:
    open_step(page, "?scene=stride1d")  # 9 inputs, 3 taps, stride 2: 4 outputs
    why = page.locator('[data-testid="why-conv"]')
    lines = why.locator('[data-testid="why-links-1d"] line')
    # one line per link: the count the bars give (4 × 3), each tap's lines in one colour
    assert lines.count() == 12
    ends = {(int(ln.get_attribute("data-o")), int(ln.get_attribute("data-i")),
             int(ln.get_attribute("data-k"))) for ln in lines.all()}
    assert ends == {(o, 2 * o + k, k) for o in range(4) for k in range(3)}
    for k in range(3):
        colours = {ln.evaluate("e => getComputedStyle(e).stroke")
                   for ln in why.locator(f'[data-testid="why-links-1d"] line[data-k="{k}"]').all()}
        assert len(colours) == 1
    legend = why.locator('[data-testid="why-legend"]').inner_text()
    assert "w₀ = 1" in legend and "w₁ = 2" in legend and "w₂ = −1" in legend
    why.locator(".ideas-out .ideas-cell").nth(2).hover()
    focus = why.locator('[data-testid="why-links-1d"] line.focus')
    assert {int(ln.get_attribute("data-i")) for ln in focus.all()} == {4, 5, 6}
    why.locator('[data-testid="why-mode-dense"]').click()
    assert lines.count() == 9 * 4
    assert "36 lines" in why.locator('[data-testid="why-legend"]').inner_text()


# ---- 1-D: link, language, export ------------------------------------------------------------

def test_custom_signal_round_trips_through_the_url(page: Any, watched: Any) -> None:
    out, xp, _ = conv1d(SIG, [1, -2, 1], stride=2, padding="same")
    open_step(page)
    custom_scene(page, dims="1", input_text=" ".join(map(str, SIG)), kernel="1 -2 1",
                 stride="2", padding="same")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => { const q = new URLSearchParams(location.search);"
        " return q.has('s') && q.get('frame') === '2'; }")
    expected = f"{terms(xp[4:7], [1, -2, 1])} = {fmt(out[2])}"
    assert formula(page) == expected
    other = watched()
    other.goto(page.url)
    other.wait_for_selector(READY)
    assert other.inner_text(FORMULA).strip() == expected
    assert int(other.eval_on_selector('[data-testid="scrubber"]', "e => e.value")) == 2
    assert other.locator(OUTPUT).count() == len(out)
    other.click('[data-testid="setup-panel"] summary')
    assert other.input_value('[data-testid="scene-dims"]') == "1"
    assert other.input_value('[data-testid="scene-input"]') == " ".join(map(str, SIG))
    assert other.input_value('[data-testid="scene-stride"]') == "2"
    # the share dialog offers the same link
    page.click('[data-testid="share"]')
    link = page.input_value('[data-testid="share-link"]')
    assert link.split("?")[1] == page.url.split("?")[1]


def test_lesson_signal_scene_link_is_short(page: Any) -> None:
    open_step(page, "?scene=stride1d&frame=1")
    assert scrubber(page) == 1
    page.click('[data-testid="share"]')
    assert page.input_value('[data-testid="share-link"]').endswith("/step?scene=stride1d&frame=1")


def test_signal_and_volume_in_russian(page: Any) -> None:
    open_step(page, "?scene=signal1d")
    page.click('[data-testid="lang-ru"]')
    names = page.inner_text('[data-testid="scene-list"]')
    assert "1-D: сигнал через ядро из трёх весов" in names
    assert "3-D: объём 3×4×4, ядро 2×2×2" in names
    assert "длина" in page.inner_text('[data-testid="shape-formula"]')
    page.locator(OUTPUT).nth(3).click()
    page.mouse.move(0, 0)
    assert "Закреплено: выход, позиция 3" in page.inner_text('[data-testid="hover-note"]')
    page.keyboard.press("Escape")
    page.click('[data-testid="setup-panel"] summary')
    assert page.inner_text('[data-testid="scene-dims"] option[value="1"]') == "1-D: сигнал"
    assert page.locator(".st-input-label").inner_text() == "Входной сигнал"
    assert "одна строка чисел" in page.locator(".st-input-hint").inner_text()
    page.click('[data-testid="lesson-volume3d"]')
    page.wait_for_selector(READY)
    assert "глубина" in page.inner_text('[data-testid="shape-formula"]')
    assert "глубина 0" in page.inner_text('[data-testid="stage"]')
    assert page.locator(".st-input-label").inner_text() == "Входной объём"
    page.click('[data-testid="lang-en"]')
    assert page.locator(".st-input-label").inner_text() == "Input volume"


def test_animation_export_is_offered_for_signals_and_matrices_not_volumes(page: Any) -> None:
    open_step(page, "?scene=volume3d")
    for testid in ("export-gif", "export-webp"):
        button = page.locator(f'[data-testid="{testid}"]')
        assert button.is_disabled()
        assert "volume" in (button.get_attribute("title") or "")
    for scene in ("signal1d", "conv5x5"):
        page.click(f'[data-testid="lesson-{scene}"]')
        page.wait_for_selector(READY)
        assert page.locator('[data-testid="export-gif"]').is_enabled()
        assert not page.get_attribute('[data-testid="export-gif"]', "title")


@pytest.mark.parametrize(("scene", "frames"), [("signal1d", 7), ("stride1d", 4)])
def test_signal_scene_exports_one_animation_frame_per_window(
        page: Any, tmp_path: Path, scene: str, frames: int) -> None:
    open_step(page, f"?scene={scene}")
    assert page.locator(OUTPUT).count() == frames
    with page.expect_download() as info:
        page.click('[data-testid="export-gif"]')
    target = tmp_path / f"{scene}.gif"
    info.value.save_as(target)
    with Image.open(target) as image:
        assert image.format == "GIF" and image.n_frames == frames
        # one row of cells: the picture is much wider than tall
        assert image.size[0] > 2 * image.size[1]


def test_a_kernel_longer_than_the_signal_is_explained(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.select_option('[data-testid="scene-dims"]', "1")
    page.fill('[data-testid="scene-input"]', "1 2")
    page.fill('[data-testid="scene-kernel"]', "1 1 1")
    page.click('[data-testid="scene-apply"]')
    error = page.locator('[data-testid="step-error"]')
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "Along the length the window spans 3 cells" in text and "only 2" in text
    page.fill('[data-testid="scene-stride"]', "2 2")
    page.click('[data-testid="scene-apply"]')
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"step-error\"]').textContent"
        ".includes('one whole number')")


def test_switching_dimensions_offers_a_starter_and_keeps_typed_text(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click('[data-testid="setup-panel"] summary')
    page.select_option('[data-testid="scene-dims"]', "1")
    assert "\n" not in page.input_value('[data-testid="scene-input"]').strip()
    assert page.locator(".st-input-label").inner_text() == "Input signal"
    page.fill('[data-testid="scene-input"]', "5 0 5 0 5")
    page.select_option('[data-testid="scene-dims"]', "3")
    page.select_option('[data-testid="scene-dims"]', "1")
    assert page.input_value('[data-testid="scene-input"]') == "5 0 5 0 5", "typed text is kept"


def test_random_signal_from_a_single_size(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click("summary:has-text('Random input')")
    page.fill('[data-testid="random-size"]', "12")
    page.click('[data-testid="random-go"]')
    page.wait_for_selector(READY)
    page.wait_for_function("() => window.svertkaStep.getModel().nd === 1")
    assert page.locator(INPUT).count() == 12
    assert coords(page.locator(INPUT), "r") == {(0,)}
    assert page.locator(OUTPUT).count() == 10  # the default 3-tap kernel
    assert page.locator('[data-testid="step-error"]').is_hidden()


# ---- 3-D -------------------------------------------------------------------------------------

def test_volume_scene_steps_with_naive_loop_numbers(page: Any) -> None:
    expected = conv3d_valid(VOLUME, CUBE)
    open_step(page, "?scene=volume3d")
    # three depth slices of 4x4 for the input, two of 2x2 for the kernel, two of 3x3 for the output
    assert page.locator('[data-testid="input-grid-0"] .st-grid').count() == 3
    assert texts(page, INPUT) == [fmt(v) for v in VOLUME.ravel()]
    assert texts(page, KERNEL) == [fmt(v) for v in CUBE.ravel()]
    assert page.locator('[data-testid="output-grid"] .st-grid').count() == 2
    assert "3×4×4 → 2×3×3" in page.inner_text('[data-testid="shape-formula"]')
    for i, (z, r, c) in enumerate(itertools.product(range(2), range(3), range(3))):
        assert scrubber(page) == i
        patch = VOLUME[z:z + 2, r:r + 2, c:c + 2]
        assert formula(page) == f"{terms(patch, CUBE)} = {fmt(expected[z, r, c])}"
        taps = coords(page.locator(f"{INPUT}.tap"), "z", "r", "c")
        assert taps == set(itertools.product((z, z + 1), (r, r + 1), (c, c + 1)))
        # the window outline shows on the two slices the window covers, not on the third
        shown = page.locator('[data-testid="input-grid-0"] .st-window:not([hidden])')
        slices = {int(b.evaluate("e => e.parentElement.dataset.slice")) for b in shown.all()}
        assert slices == {z, z + 1}
        page.keyboard.press("ArrowRight")
    assert texts(page, OUTPUT) == [fmt(v) for v in expected.ravel()]


def test_volume_hover_output_shows_its_receptive_field(page: Any) -> None:
    open_step(page, "?scene=volume3d")
    expected = conv3d_valid(VOLUME, CUBE)
    # output (1, 2, 0) is cell 9 + 2·3 + 0 = 15 of the drawn order (slice by slice, row-major)
    page.locator(OUTPUT).nth(15).hover()
    taps = coords(page.locator(f"{INPUT}.tap"), "z", "r", "c")
    assert taps == set(itertools.product((1, 2), (2, 3), (0, 1)))
    assert formula(page).endswith(f"= {fmt(expected[1, 2, 0])}")
    # weight (1, 1, 1) multiplies input (z + 1, r + 1, c + 1) of every output (z, r, c)
    page.locator(KERNEL).nth(7).hover()
    marked = coords(page.locator(f"{INPUT}.mult"), "z", "r", "c")
    assert marked == set(itertools.product((1, 2), (1, 2, 3), (1, 2, 3)))
    assert "depth 1, row 1, column 1" in page.inner_text('[data-testid="hover-note"]')


def test_volume_from_the_form_with_two_channels_and_padding(page: Any, watched: Any) -> None:
    x = np.arange(2 * 2 * 3 * 3, dtype=float).reshape(2, 2, 3, 3) % 5 - 2
    w = np.ones((1, 2, 1, 2, 2))
    w[0, 1] = -1
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros((2, 4, 4))
    for z, r, c in itertools.product(range(2), range(4), range(4)):
        expected[z, r, c] = float((xp[:, z:z + 1, r:r + 2, c:c + 2] * w[0]).sum())

    def volume_text(v: np.ndarray) -> str:
        return "\n\n".join("\n".join(" ".join(str(int(a)) for a in row) for row in s) for s in v)

    open_step(page)
    custom_scene(page, dims="3", input_text=volume_text(x[0]) + "\n===\n" + volume_text(x[1]),
                 kernel="1 1\n1 1\n===\n-1 -1\n-1 -1", padding="0 1 1")
    assert page.locator('[data-testid="step-error"]').is_hidden()
    assert "2×3×3 → 2×4×4" in page.inner_text('[data-testid="shape-formula"]')
    page.keyboard.press("End")
    assert texts(page, OUTPUT) == [fmt(v) for v in expected.ravel()]
    # the URL follows the frame after a debounce: wait for the last frame's, not just the scene's
    page.wait_for_function("(n) => { const q = new URLSearchParams(location.search);"
                           " return q.has('s') && q.get('frame') === String(n); }",
                           arg=expected.size - 1)
    other = watched()
    other.goto(page.url)
    other.wait_for_selector(READY)
    assert other.inner_text(FORMULA).strip() == formula(page)


# ---- screenshots: looked at by people; the checks are about fitting the screen -------------

@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
@pytest.mark.parametrize("projector", [False, True], ids=["normal", "projector"])
@pytest.mark.parametrize("scene", ["signal1d", "stride1d", "same1d", "volume3d"])
def test_dims_screenshots(watched: Any, shots_dir: Path, size: tuple[int, int], projector: bool,
                          scene: str) -> None:
    page = watched()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    theme = "&theme=projector" if projector else ""
    page.goto(f"{page.base_url}/step?scene={scene}&frame=2{theme}")
    page.wait_for_selector(READY)
    name = f"step-{scene}-{size[0]}x{size[1]}-{'projector' if projector else 'normal'}.png"
    page.screenshot(path=str(shots_dir / name))
    host = page.evaluate("() => { const h = document.querySelector('[data-testid=stage]');"
                         " return [h.scrollWidth, h.clientWidth]; }")
    assert host[0] <= host[1], f"the stage scrolls sideways: {host}"
    cell = page.locator(INPUT).first.bounding_box()
    if projector:
        box = page.locator(FORMULA).bounding_box()
        assert box is not None and box["y"] + box["height"] <= size[1], "formula below the fold"
        # digits for the back of the room: cells as large as on the 2-D lesson scenes' floor
        assert cell["width"] >= (44 if size[0] == 1920 else 34)
    page.close()
