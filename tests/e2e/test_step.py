"""The step-through page in a real Chromium: every number on the stage against the API."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

FORMULA = '[data-testid="frame-formula"]'
OUTPUT_CELLS = '[data-testid="output-grid"] .st-cell'
READY = '[data-testid="step-page"][aria-busy="false"]'

FIVE = [[-3, 1, 1, -3, 3], [-2, -2, -2, -1, -2], [-1, 2, 0, 3, 0], [-2, 2, 2, 3, 3],
        [-3, 0, -2, -2, -2]]
THREE = [[2, 2, -2], [-1, 2, -2], [1, 0, 3]]

THEME_PROBE = """() => {
  const style = (sel) => getComputedStyle(document.querySelector(sel));
  return {
    bg: getComputedStyle(document.body).backgroundColor,
    formula: parseFloat(style('[data-testid="frame-formula"]').fontSize),
    cell: parseFloat(style('[data-testid="input-grid-0"] .st-cell').borderRightWidth),
  };
}"""

QR_TEXT = "http://127.0.0.1:8000/step?scene=conv5x5&frame=4"
# The same text encoded by an independent encoder (python-qrcode 8.2, byte mode, level M,
# mask 2): version 4, 33x33 modules.
QR_ROWS = [
    "111111100101010011110011101111111",
    "100000100111011111000110101000001",
    "101110101101010001100111001011101",
    "101110101111001110001011101011101",
    "101110101011000101100101001011101",
    "100000101110001111001100001000001",
    "111111101010101010101010101111111",
    "000000001011001100000100100000000",
    "101111100100011101001000101111100",
    "111001011001100010010101111101101",
    "110100111100000110100110101010110",
    "111001000010001000000110100011110",
    "001110101010000100100000100011011",
    "100000010010011110001011011000111",
    "001111110011110001110010100001010",
    "010110011001110010011101110001100",
    "101110100100110011011000000110001",
    "111111011101110011010011111101111",
    "100100101010101111000110110010100",
    "010110011111110011100111010011110",
    "001100101011111010001001000011010",
    "100000011000011100100111001101001",
    "100010101011110110001100100111010",
    "101101001000000100100111001001100",
    "100100110001001111001000111110000",
    "000000001001011000110110100010101",
    "111111100010000100100111101010110",
    "100000101101010100000100100010101",
    "101110101010011100110100111111011",
    "101110101100101110001001000111011",
    "101110101100001000010001111100000",
    "100000100001110010011100010111100",
    "111111101110111011011001101111010",
]


# ---- helpers ---------------------------------------------------------------------------------

def fmt(value: float) -> str:
    """The page's number format in English: at most two decimals, a real minus sign."""
    rounded = math.floor(value * 100 + 0.5) / 100
    if rounded == 0:
        return "0"
    text = f"{rounded:.2f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


def wrap(value: float) -> str:
    return f"({fmt(value)})" if value < 0 else fmt(value)


def conv_formula(frame: dict[str, Any], kernel: list, *, bias: bool) -> str:
    """What frame-formula must say for a convolution frame from /api/frames."""
    groups = []
    for c, patch in enumerate(frame["patch"]):
        terms = [f"{wrap(x)}·{wrap(w)}" for prow, wrow in zip(patch, kernel[frame["filter"]][c],
                                                              strict=True)
                 for x, w in zip(prow, wrow, strict=True)]
        groups.append(" + ".join(terms))
    text = " + ".join(f"({g})" for g in groups) if len(groups) > 1 else groups[0]
    if bias:
        text += f" + {wrap(frame['bias'])}"
    return f"{text} = {fmt(frame['value'])}"


def api(page: Any, path: str, body: dict) -> dict:
    response = page.request.post(f"{page.base_url}{path}", data=body)
    assert response.ok, response.text()
    return response.json()


def open_step(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/step{query}")
    page.wait_for_selector(READY)


def click_ready(page: Any, selector: str) -> None:
    """Click something that reloads the scene and wait until the stage is rebuilt."""
    page.click(selector)
    page.wait_for_selector(READY)


def formula(page: Any) -> str:
    return page.inner_text(FORMULA).strip()


def scrubber_value(page: Any) -> int:
    return int(page.eval_on_selector('[data-testid="scrubber"]', "e => e.value"))


def output_texts(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(OUTPUT_CELLS).all_inner_texts()]


def wait_text(page: Any, testid: str, text: str) -> None:
    """Wait until the element with `testid` contains `text`."""
    page.wait_for_function(
        "([id, text]) => document.querySelector(`[data-testid=\"${id}\"]`)"
        ".textContent.includes(text)", arg=[testid, text])


def no_js_errors(page: Any) -> None:
    assert page.js_errors == [], page.js_errors


# ---- the lesson's 5x5 / 3x3 scene against the API ---------------------------------------------

def test_step_through_5x5_scene_matches_frames_and_conv(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    body = {"input": [FIVE], "kernel": [[THREE]]}
    frames = api(page, "/api/frames", {**body, "limit": 100})
    assert frames["total"] == 9
    for i, frame in enumerate(frames["frames"]):
        assert scrubber_value(page) == i
        assert formula(page) == conv_formula(frame, [[THREE]], bias=False)
        current = page.locator(f"{OUTPUT_CELLS}.current")
        assert current.inner_text().strip() == fmt(frame["output"])
        if i < 8:
            page.click('[data-testid="step-forward"]')
    conv = api(page, "/api/conv", {"input": FIVE, "kernel": THREE})
    assert output_texts(page) == [fmt(v) for row in conv["output"] for v in row]
    assert page.locator('[data-testid="frame-counter"]').inner_text() == "step 9 of 9"
    no_js_errors(page)


def test_step_back_and_scrubber_move_the_window(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    frames = api(page, "/api/frames", {"input": [FIVE], "kernel": [[THREE]]})["frames"]
    page.click('[data-testid="step-forward"]')
    page.click('[data-testid="step-forward"]')
    page.click('[data-testid="step-back"]')
    assert scrubber_value(page) == 1
    assert formula(page) == conv_formula(frames[1], [[THREE]], bias=False)
    page.locator('[data-testid="scrubber"]').fill("7")
    assert scrubber_value(page) == 7
    assert formula(page) == conv_formula(frames[7], [[THREE]], bias=False)
    # the window covers exactly the taps of frame 7: origin (2, 1), 3x3
    taps = page.locator('[data-testid="input-grid-0"] .st-cell.tap')
    assert taps.count() == 9
    first = taps.first
    assert (first.get_attribute("data-r"), first.get_attribute("data-c")) == ("2", "1")
    # cells not yet computed are empty, computed ones show their value
    texts = output_texts(page)
    assert texts[8] == "" and all(t != "" for t in texts[:8])
    no_js_errors(page)


def test_play_fills_the_output_and_stops_at_the_end(page: Any) -> None:
    open_step(page, "?scene=conv3x3")
    page.select_option('[data-testid="speed"]', "16")
    page.click('[data-testid="play"]')
    page.wait_for_function(
        "() => document.querySelector('[data-testid=play]').ariaPressed === 'false'",
        timeout=5000)
    assert scrubber_value(page) == 3
    conv = api(page, "/api/conv", {"input": [[1, 2, 0], [3, 1, 2], [0, 1, 4]],
                                   "kernel": [[1, 0], [-1, 2]]})
    assert output_texts(page) == [fmt(v) for row in conv["output"] for v in row]
    no_js_errors(page)


@pytest.mark.parametrize(
    ("scene", "shape"),
    [("conv3x3", (2, 2)), ("conv5x5", (3, 3)), ("same", (5, 5)), ("stride2", (2, 2)),
     ("dilation", (3, 3)), ("maxpool", (2, 2)), ("avgpool", (2, 2))],
)
def test_lesson_scene_has_the_lesson_output_size(page: Any, scene: str,
                                                 shape: tuple[int, int]) -> None:
    open_step(page)
    click_ready(page, f'[data-testid="lesson-{scene}"]')
    assert page.locator(OUTPUT_CELLS).count() == shape[0] * shape[1]
    explain = page.inner_text('[data-testid="shape-formula"]')
    assert f"→ {shape[0]}×{shape[1]}" in explain
    assert f"= {shape[1]}" in explain.splitlines()[-1]
    assert page.get_attribute(f'[data-testid="lesson-{scene}"]', "aria-pressed") == "true"
    no_js_errors(page)


def test_padding_cells_are_drawn_with_their_values(page: Any) -> None:
    open_step(page, "?scene=same")
    pads = page.locator('[data-testid="input-grid-0"] .st-cell.pad')
    assert pads.count() == 7 * 7 - 5 * 5
    assert set(pads.all_inner_texts()) == {"0"}
    style = pads.first.evaluate("e => getComputedStyle(e).outlineStyle")
    assert style == "dashed"


def test_stride_and_dilation_move_the_window(page: Any) -> None:
    open_step(page, "?scene=stride2")
    page.click('[data-testid="step-forward"]')
    first = page.locator('[data-testid="input-grid-0"] .st-cell.tap').first
    assert (first.get_attribute("data-r"), first.get_attribute("data-c")) == ("0", "2")
    click_ready(page, '[data-testid="lesson-dilation"]')
    taps = page.locator('[data-testid="input-grid-0"] .st-cell.tap')
    coords = {(int(t.get_attribute("data-r")), int(t.get_attribute("data-c")))
              for t in taps.all()}
    assert coords == {(r, c) for r in (0, 2, 4) for c in (0, 2, 4)}


# ---- hover, pin, kernel weights ---------------------------------------------------------------

def test_hover_output_cell_shows_its_arithmetic_and_click_pins(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    frames = api(page, "/api/frames", {"input": [FIVE], "kernel": [[THREE]]})["frames"]
    cell = page.locator(OUTPUT_CELLS).nth(5)  # row 1, column 2
    cell.hover()
    assert formula(page) == conv_formula(frames[5], [[THREE]], bias=False)
    assert scrubber_value(page) == 0, "hovering does not move the animation"
    cell.click()
    page.mouse.move(0, 0)
    assert formula(page) == conv_formula(frames[5], [[THREE]], bias=False), "pinned"
    assert "Pinned" in page.inner_text('[data-testid="hover-note"]')
    page.keyboard.press("Escape")
    assert formula(page) == conv_formula(frames[0], [[THREE]], bias=False)
    no_js_errors(page)


def test_hover_kernel_weight_highlights_every_input_it_multiplies(page: Any) -> None:
    open_step(page, "?scene=stride2")
    page.locator('[data-testid="kernel-grid-0"] .st-cell').nth(4).hover()  # centre weight
    marked = page.locator('[data-testid="input-grid-0"] .st-cell.mult')
    coords = {(int(t.get_attribute("data-r")), int(t.get_attribute("data-c")))
              for t in marked.all()}
    assert coords == {(1, 1), (1, 3), (3, 1), (3, 3)}
    assert "4 highlighted inputs" in page.inner_text('[data-testid="hover-note"]')


# ---- several channels, several filters, pooling -----------------------------------------------

def test_three_channels_show_slices_partial_sums_and_bias(page: Any) -> None:
    open_step(page, "?scene=rgb")
    for c in range(3):
        assert page.locator(f'[data-testid="input-grid-{c}"]').is_visible()
        assert page.locator(f'[data-testid="kernel-grid-{c}"]').is_visible()
        assert page.locator(f'[data-testid="partial-grid-{c}"]').is_visible()
    scene = page.evaluate("() => window.svertkaStep.store.get('scene')")
    frames = api(page, "/api/frames", {"input": scene["input"], "kernel": scene["kernel"],
                                       "bias": scene["bias"]})["frames"]
    assert formula(page) == conv_formula(frames[0], scene["kernel"], bias=True)
    sums = page.inner_text('[data-testid="sum-line"]')
    assert "bias 1" in sums
    assert sums.strip().endswith(f"= {fmt(frames[0]['value'])}")
    assert page.locator('[data-testid="channel-formulas"] li').count() == 3
    page.locator('[data-testid="partial-grid-1"] .st-cell').nth(4).hover()
    assert formula(page) == conv_formula(frames[4], scene["kernel"], bias=True)


def test_two_filters_have_a_selector_and_a_stack(page: Any) -> None:
    open_step(page, "?scene=filters")
    assert page.locator('[data-testid="output-stack"] .st-layer').count() == 2
    page.select_option('[data-testid="filter-select"]', "1")
    scene = page.evaluate("() => window.svertkaStep.store.get('scene')")
    body = {"input": scene["input"], "kernel": scene["kernel"], "bias": scene["bias"],
            "padding": 1, "stride": [2, 2]}
    frames = api(page, "/api/frames", {**body, "limit": 100})
    assert frames["total"] == 18
    assert scrubber_value(page) == 9
    assert formula(page) == conv_formula(frames["frames"][9], scene["kernel"], bias=True)
    assert page.locator('[data-testid="output-stack"] .st-layer.active').count() == 1
    no_js_errors(page)


def test_max_pooling_highlights_the_winner(page: Any) -> None:
    open_step(page, "?scene=maxpool")
    assert formula(page) == "max(1, 3, 4, 6) = 6"
    winner = page.locator('[data-testid="input-grid-0"] .st-cell.winner')
    assert winner.count() == 1 and winner.inner_text().strip() == "6"
    page.keyboard.press("End")
    pooled = api(page, "/api/pool", {"input": [[[1, 3, 2, 1], [4, 6, 5, 0], [3, 2, 1, 7],
                                                [1, 8, 2, 4]]], "mode": "max", "kernel_size": 2})
    assert output_texts(page) == [fmt(v) for row in pooled["output"][0] for v in row]


def test_average_pooling_divides_by_the_window(page: Any) -> None:
    open_step(page, "?scene=avgpool")
    assert formula(page) == "(1 + 3 + 4 + 6) / 4 = 3.5"


@pytest.mark.parametrize("padding", [0, 1])
def test_average_pooling_in_ceil_mode_divides_by_the_cells_the_window_covers(
    page: Any, padding: int
) -> None:
    # ceil mode lets the last windows hang past the padded input: PyTorch divides by the cells
    # of the window inside it (padding included), which the formula must show frame by frame
    x = np.arange(1, 26, dtype=float).reshape(5, 5)
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.select_option('[data-testid="scene-op"]', "avg")
    page.fill('[data-testid="scene-input"]', "\n".join(" ".join(f"{v:g}" for v in r) for r in x))
    page.fill('[data-testid="scene-pool"]', "2")
    page.fill('[data-testid="scene-stride"]', "2")
    page.fill('[data-testid="scene-padding"]', str(padding))
    page.check('[data-testid="scene-form"] [name="ceil_mode"]')
    click_ready(page, '[data-testid="scene-apply"]')
    xp = np.pad(x, padding)
    n = 5 + 2 * padding
    out = -(-(n - 2) // 2) + 1
    if (out - 1) * 2 >= 5 + padding:  # PyTorch: the last window must start inside the input
        out -= 1
    assert page.locator(OUTPUT_CELLS).count() == out * out
    for i in range(out):
        for j in range(out):
            rows = range(2 * i, min(2 * i + 2, n))
            cols = range(2 * j, min(2 * j + 2, n))
            cells = [xp[r, c] for r in rows for c in cols]
            mean = sum(cells) / len(cells)
            terms = " + ".join(fmt(v) for v in cells)
            assert formula(page) == f"({terms}) / {len(cells)} = {fmt(mean)}"
            page.keyboard.press("ArrowRight")


def test_relu_scene_shows_the_activation(page: Any) -> None:
    open_step(page, "?scene=relu")
    text = formula(page)
    assert re.search(r"\+ \(−2\) = −7\s+→\s+ReLU\(−7\) = 0$", text), text
    assert page.locator('[data-testid="pre-grid"]').is_visible()


# ---- classroom mode ----------------------------------------------------------------------------

def test_keyboard_shortcuts(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert scrubber_value(page) == 2
    page.keyboard.press("ArrowLeft")
    assert scrubber_value(page) == 1
    page.keyboard.press("End")
    assert scrubber_value(page) == 8
    page.keyboard.press("Home")
    assert scrubber_value(page) == 0
    page.keyboard.press("+")
    assert page.input_value('[data-testid="speed"]') == "2"
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert page.input_value('[data-testid="speed"]') == "0.5"
    page.keyboard.press(" ")
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "true"
    page.keyboard.press(" ")
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false"
    page.keyboard.press("p")
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"
    page.keyboard.press("p")
    assert page.evaluate("document.documentElement.dataset.theme") is None
    page.keyboard.press("?")
    assert page.locator('[data-testid="help-overlay"]').is_visible()
    page.keyboard.press("Escape")
    assert not page.locator('[data-testid="help-overlay"]').is_visible()
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement !== null", timeout=3000)
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement === null", timeout=3000)
    no_js_errors(page)


def test_projector_toggle_changes_the_theme(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    before = page.evaluate(THEME_PROBE)
    page.click('[data-testid="projector-toggle"]')
    assert page.get_attribute("html", "data-theme") == "projector"
    assert page.get_attribute('[data-testid="projector-toggle"]', "aria-pressed") == "true"
    after = page.evaluate(THEME_PROBE)
    assert after["bg"] != before["bg"]
    assert after["formula"] > before["formula"]
    assert after["cell"] > before["cell"], "thicker lines"
    page.reload()
    page.wait_for_selector(READY)
    assert page.get_attribute("html", "data-theme") == "projector", "remembered"


def test_state_is_in_the_url_and_a_link_reproduces_it(page: Any) -> None:
    open_step(page, "?scene=stride2")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('frame=2')")
    expected = formula(page)
    url = page.url
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_selector(READY)
    assert formula(page) == expected
    assert scrubber_value(page) == 2


def test_custom_scene_from_the_form_round_trips_through_the_url(page: Any) -> None:
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.fill('[data-testid="scene-input"]', "1 2 3 4\n5 6 7 8\n9 10 11 12\n13 14 15 16")
    page.fill('[data-testid="scene-kernel"]', "1 -1\n-1 1")
    page.fill('[data-testid="scene-bias"]', "0.5")
    page.fill('[data-testid="scene-stride"]', "2")
    click_ready(page, '[data-testid="scene-apply"]')
    assert page.locator(OUTPUT_CELLS).count() == 4
    assert formula(page) == "1·1 + 2·(−1) + 5·(−1) + 6·1 + 0.5 = 0.5"
    page.wait_for_function("() => location.search.includes('s=')")
    page.reload()
    page.wait_for_selector(READY)
    assert formula(page) == "1·1 + 2·(−1) + 5·(−1) + 6·1 + 0.5 = 0.5"
    no_js_errors(page)


def test_form_errors_are_shown_not_thrown(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.fill('[data-testid="scene-input"]', "1 2\n3 4")
    page.fill('[data-testid="scene-kernel"]', "1 2 3\n4 5 6\n7 8 9")
    page.click('[data-testid="scene-apply"]')
    error = page.locator('[data-testid="step-error"]')
    error.wait_for(state="visible")
    assert "padding" in error.inner_text()


def test_random_input_keeps_the_kernel(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click("summary:has-text('Random input')")
    page.fill('[data-testid="random-size"]', "6 7")
    click_ready(page, '[data-testid="random-go"]')
    assert page.locator('[data-testid="input-grid-0"] .st-cell').count() == 6 * 7
    assert page.locator(OUTPUT_CELLS).count() == 4 * 5


def test_share_link_and_qr_code(page: Any) -> None:
    open_step(page, "?scene=conv3x3")
    page.keyboard.press("ArrowRight")
    page.click('[data-testid="share"]')
    dialog = page.locator('[data-testid="share-dialog"]')
    assert dialog.is_visible()
    link = page.input_value('[data-testid="share-link"]')
    assert link.endswith("/step?scene=conv3x3&frame=1")
    size = page.eval_on_selector('[data-testid="share-qr"]', "c => [c.width, c.height]")
    assert size[0] == size[1] and size[0] > 100


def test_qr_encoder_matches_an_independent_encoder(page: Any) -> None:
    open_step(page)
    rows = page.evaluate(
        """async (text) => {
          const { encodeQR } = await import('/static/js/step/qr.js');
          const q = encodeQR(text, { level: 'M', mask: 2 });
          return q.modules.map((r) => r.map((b) => (b ? '1' : '0')).join(''));
        }""",
        QR_TEXT,
    )
    assert rows == QR_ROWS


def test_export_downloads_a_gif_of_every_frame(page: Any, tmp_path: Path) -> None:
    open_step(page, "?scene=conv5x5")
    with page.expect_download() as info:
        page.click('[data-testid="export-gif"]')
    target = tmp_path / "scene.gif"
    info.value.save_as(target)
    assert info.value.suggested_filename == "svertka-conv5x5.gif"
    with Image.open(target) as image:
        assert image.format == "GIF"
        assert image.n_frames == 9
    no_js_errors(page)


def test_export_of_pooling_scene(page: Any, tmp_path: Path) -> None:
    open_step(page, "?scene=maxpool")
    with page.expect_download() as info:
        page.click('[data-testid="export-webp"]')
    target = tmp_path / "pool.webp"
    info.value.save_as(target)
    with Image.open(target) as image:
        assert image.format == "WEBP" and image.n_frames == 4


def test_russian_labels(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click('[data-testid="lang-ru"]')
    assert page.inner_text("h1") == "Свёртка по шагам"
    assert page.inner_text('[data-testid="lesson-conv5x5"]') == "Вход 5×5, ядро 3×3"
    assert "строки" in page.inner_text('[data-testid="shape-formula"]')
    assert "шаг 1 из 9" in page.inner_text('[data-testid="frame-counter"]')
    no_js_errors(page)


# ---- screenshots for people to look at ------------------------------------------------------

@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
@pytest.mark.parametrize("projector", [False, True], ids=["normal", "projector"])
@pytest.mark.parametrize("scene", ["conv5x5", "filters", "maxpool"])
def test_screenshots(watched: Any, live_server: str, shots_dir: Path, size: tuple[int, int],
                     projector: bool, scene: str) -> None:
    page = watched()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    theme = "&theme=projector" if projector else ""
    page.goto(f"{live_server}/step?scene={scene}&frame=4{theme}")
    page.wait_for_selector(READY)
    page.locator(FORMULA).wait_for()
    name = f"step-{scene}-{size[0]}x{size[1]}-{'projector' if projector else 'normal'}.png"
    page.screenshot(path=str(shots_dir / name))
    # the formula must be on screen without scrolling at projector sizes
    if projector and size[0] == 1920:
        box = page.locator(FORMULA).bounding_box()
        assert box is not None and box["y"] + box["height"] <= size[1]
    page.close()


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def test_photo_crop_becomes_a_small_grey_input(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click("summary:has-text('From a photo')")
    page.set_input_files('[data-testid="step-photo"]', files=[{
        "name": "flat.png", "mimeType": "image/png", "buffer": _png(120, 90, (200, 100, 50))}])
    page.wait_for_selector('[data-testid="photo-use"]:not([disabled])')
    page.fill('input[name="cells"]', "6")
    click_ready(page, '[data-testid="photo-use"]')
    cells = page.locator('[data-testid="input-grid-0"] .st-cell').all_inner_texts()
    assert len(cells) == 36
    # Pillow's convert("L"): (200*299 + 100*587 + 50*114) / 1000 = 124.2
    assert set(cells) == {"124"}
    assert page.locator(OUTPUT_CELLS).count() == 16
    no_js_errors(page)


def test_photo_sample_in_colour_gives_three_channels(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click("summary:has-text('From a photo')")
    options = page.locator('[data-testid="step-sample"] option')
    options.nth(1).wait_for(state="attached")
    page.select_option('[data-testid="step-sample"]', index=1)
    page.wait_for_selector('[data-testid="photo-use"]:not([disabled])')
    page.check('input[name="color"]')
    page.fill('input[name="cells"]', "16")
    click_ready(page, '[data-testid="photo-use"]')
    for c in range(3):
        values = page.locator(f'[data-testid="input-grid-{c}"] .st-cell').all_inner_texts()
        assert len(values) == 16 * 16
        assert all(0 <= int(v) <= 255 for v in values)
    assert page.locator('[data-testid="kernel-grid-2"]').count() == 1
    no_js_errors(page)


def test_activation_alone_is_animated_cell_by_cell(page: Any) -> None:
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.select_option('[data-testid="scene-op"]', "act")
    page.fill('[data-testid="scene-input"]', "-3 2\n0.5 -1")
    page.select_option('[data-testid="scene-activation"]', "relu")
    click_ready(page, '[data-testid="scene-apply"]')
    assert formula(page) == "ReLU(−3) = 0"
    page.keyboard.press("ArrowRight")
    assert formula(page) == "ReLU(2) = 2"
    page.keyboard.press("End")
    assert output_texts(page) == ["0", "2", "0.5", "0"]
    no_js_errors(page)


def test_pooling_several_channels_one_map_each(page: Any) -> None:
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.select_option('[data-testid="scene-op"]', "avg")
    page.fill('[data-testid="scene-input"]', "1 2\n3 4\n\n5 6\n7 9")
    page.fill('[data-testid="scene-pool"]', "2")
    page.fill('[data-testid="scene-stride"]', "2")
    click_ready(page, '[data-testid="scene-apply"]')
    assert page.locator('[data-testid="output-stack"] .st-layer').count() == 2
    assert formula(page) == "(1 + 2 + 3 + 4) / 4 = 2.5"
    assert page.locator('[data-testid="input-grid-1"]').is_hidden()
    page.keyboard.press("ArrowRight")
    assert formula(page) == "(5 + 6 + 7 + 9) / 4 = 6.75"
    assert page.locator('[data-testid="input-grid-1"]').is_visible()
    assert page.locator('[data-testid="input-grid-0"]').is_hidden()


def test_space_after_clicking_play_toggles_once(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click('[data-testid="play"]')
    page.click('[data-testid="play"]')
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false"
    page.keyboard.press(" ")
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "true"
    page.keyboard.press(" ")
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false"


@pytest.mark.parametrize("key", [" ", "Enter"])
def test_space_and_enter_on_a_focused_button_press_that_button_not_play(
    page: Any, key: str
) -> None:
    open_step(page, "?scene=conv5x5")
    page.focus('[data-testid="step-forward"]')
    page.keyboard.press(key)
    assert scrubber_value(page) == 1  # the button was pressed once, as a browser does
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false"
    page.focus('[data-testid="help"]')
    page.keyboard.press(key)
    assert page.locator('[data-testid="help-overlay"]').is_visible()
    page.keyboard.press("Escape")
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false"


def test_space_on_a_focused_select_summary_or_link_leaves_play_alone(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.focus("#st-setup-title")
    page.keyboard.press(" ")  # a summary opens its details, as browsers do
    assert page.evaluate("document.getElementById('st-setup-title').parentElement.open")
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false"
    for target in ['[data-testid="speed"]', "a.skip-link"]:
        page.focus(target)
        page.keyboard.press(" ")
        assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "false", target
        page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(" ")  # nothing focused: the page shortcut still works
    assert page.get_attribute('[data-testid="play"]', "aria-pressed") == "true"


# ---- found in the QA pass: flip and groups in the form, Russian scene names ------------------

def _turn(m: list[list[Any]]) -> list[list[Any]]:
    return [row[::-1] for row in m[::-1]]


def test_flip_from_the_form_uses_the_turned_kernel_and_round_trips(page: Any, watched: Any) -> None:
    open_step(page, "?scene=conv5x5")
    page.click('[data-testid="setup-panel"] summary')
    page.check('[data-testid="scene-flip"]')
    click_ready(page, '[data-testid="scene-apply"]')
    frames = api(page, "/api/frames", {"input": [FIVE], "kernel": [[THREE]], "flip": True,
                                       "positions": [[0, 0]]})["frames"]
    assert formula(page) == conv_formula(frames[0], [[_turn(THREE)]], bias=False)
    cells = page.locator('[data-testid="kernel-grid-0"] .st-cell')
    kernel = [t.strip() for t in cells.all_inner_texts()]
    assert kernel[:3] == ["3", "0", "1"]
    assert "180°" in page.locator(".st-kernel-fig figcaption").inner_text()
    page.wait_for_function("() => new URLSearchParams(location.search).has('s')")
    other = watched()
    other.goto(page.url)
    other.wait_for_selector(READY)
    assert other.inner_text(FORMULA).strip() == formula(page)
    other.click('[data-testid="setup-panel"] summary')
    assert other.locator('[data-testid="scene-flip"]').is_checked()


def test_groups_from_the_form_split_the_channels(page: Any) -> None:
    open_step(page)
    page.click('[data-testid="setup-panel"] summary')
    page.fill('[data-testid="scene-input"]', "1 2 3\n4 5 6\n7 8 9\n\n9 8 7\n6 5 4\n3 2 1")
    page.fill('[data-testid="scene-kernel"]', "1 0\n0 1\n---\n0 1\n1 0")
    page.fill('[data-testid="scene-groups"]', "2")
    click_ready(page, '[data-testid="scene-apply"]')
    assert page.locator('[data-testid="step-error"]').is_hidden()
    body = {"input": [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[9, 8, 7], [6, 5, 4], [3, 2, 1]]],
            "kernel": [[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]], "groups": 2}
    out = api(page, "/api/conv", body)["output"]
    page.select_option('[data-testid="filter-select"]', "1")
    wait_text(page, "frame-counter", "5")
    page.keyboard.press("End")
    assert output_texts(page) == [fmt(v) for row in out[1] for v in row]
    # map 1 reads channel 1 only: channel 0's row is hidden
    assert page.locator('.st-row[data-channel="0"]').is_hidden()
    assert page.locator('.st-row[data-channel="1"]').is_visible()


def test_scene_names_are_russian_in_russian(page: Any) -> None:
    open_step(page)
    page.click('[data-testid="lang-ru"]')
    names = page.locator('[data-testid="scene-list"]').inner_text()
    assert "pooling" not in names.lower()
    assert "Пулинг" in names
    page.click('[data-testid="setup-panel"] summary')
    zeros = page.locator('[data-testid="scene-padding-mode"] option[value="zeros"]')
    assert zeros.inner_text() == "нулями"


def test_hover_wins_over_the_running_animation(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    frames = api(page, "/api/frames", {"input": [FIVE], "kernel": [[THREE]]})["frames"]
    page.select_option('[data-testid="speed"]', "8")
    page.click('[data-testid="play"]')
    cell = page.locator(OUTPUT_CELLS).nth(7)
    cell.hover()
    start = scrubber_value(page)
    # the animation keeps running underneath: a frame passes while the pointer rests (or it had
    # already played to its end)
    page.wait_for_function(
        "(v) => +document.querySelector('[data-testid=\"scrubber\"]').value > v"
        " || document.querySelector('[data-testid=\"play\"]').ariaPressed === 'false'",
        arg=start)
    assert scrubber_value(page) > 0, "the animation keeps running underneath"
    assert formula(page) == conv_formula(frames[7], [[THREE]], bias=False)
    page.mouse.move(0, 0)
    page.wait_for_selector('[data-testid="play"][aria-pressed="false"]')
    assert formula(page) == conv_formula(frames[8], [[THREE]], bias=False)


def test_refused_scene_is_explained_in_russian_with_the_server_words_folded(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_step(page)
    page.click('[data-testid="lang-ru"]')
    page.click('[data-testid="setup-panel"] summary')
    page.fill('[data-testid="scene-input"]', "5")
    page.click('[data-testid="scene-apply"]')
    error = page.locator('[data-testid="step-error"]')
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "строки" in text and "набивк" in text
    assert "would be empty" not in text  # the server's English is folded away
    assert "would be empty" in page.locator('[data-testid="step-error-detail"]').text_content()
    page.fill('[data-testid="scene-stride"]', "x")
    page.click('[data-testid="scene-apply"]')
    wait_text(page, "step-error", "целое число")


def test_projector_multichannel_stage_uses_the_width_for_bigger_digits(watched: Any,
                                                                       browser: Any) -> None:
    sizes = {}
    for projector in (False, True):
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
        try:
            page = watched(ctx)
            theme = "&theme=projector" if projector else ""
            page.goto(f"{page.base_url}/step?scene=filters&frame=4{theme}")
            page.wait_for_selector(READY)
            box = page.locator('[data-testid="input-grid-0"] .st-cell').first.bounding_box()
            kernel = page.locator('[data-testid="kernel-grid-0"]').bounding_box()
            grid = page.locator('[data-testid="input-grid-0"]').bounding_box()
            sizes[projector] = box["width"]
            formula_box = page.locator(FORMULA).bounding_box()
            assert formula_box["y"] + formula_box["height"] <= 1080
        finally:
            ctx.close()
    # on the projector the kernel slice stands beside its input, and the cells grow
    assert kernel["x"] > grid["x"] + grid["width"]
    assert sizes[True] >= 34
