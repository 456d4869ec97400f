"""/network runs the stack on a photo, in Chromium: every layer's maps, a softmax's bars, a map
opened large with the server's arithmetic (checked against NumPy on the API's own numbers),
Dropout's mask in training mode, the link to /step, the URL, and screenshots to look at."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

pytestmark = pytest.mark.e2e

# the lesson's small convnet as the page's preset sends it
LESSON = [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D"},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D"},
    {"type": "Flatten"},
    {"type": "Dropout", "rate": 0.5},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
CHANNELS = [32, 32, 64, 64, None, None, None]


def open_page(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/network{query}")
    page.wait_for_function(
        "document.querySelector('[data-testid=network-page]').getAttribute('aria-busy') === 'false'"
        " && !document.querySelector('[data-testid=run-photo]').hidden")


def run(page: Any) -> None:
    """Press Run and wait until every card holds its strip."""
    page.evaluate("document.querySelectorAll('[data-testid=layer-maps]').forEach(n => n.remove())")
    page.get_by_test_id("run-network").click()
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=layer-maps]').length"
        " === document.querySelectorAll('[data-testid=layer-list] > li').length"
        " && !document.querySelector('[data-testid=run-network]').disabled")


def maps(page: Any, index: int) -> Any:
    return page.get_by_test_id("layer-maps").nth(index)


def sample_id(page: Any, name: str = "chelsea") -> str:
    samples = page.request.get(f"{page.base_url}/api/samples").json()
    return next(s["id"] for s in samples if s["name"] == name)


def api_run(page: Any, **extra: Any) -> dict[str, Any]:
    """The numbers behind what the page shows: the same request, everything returned."""
    body = {"layers": LESSON, "image_id": sample_id(page), "input_shape": [28, 28, 1],
            "pixel_scale": 1 / 255, "seed": 0, "return_weights": True, **extra}
    response = page.request.post(f"{page.base_url}/api/network/run", data=body)
    assert response.ok, response.text()
    return response.json()


def hover_cell(page: Any, row: int, col: int, size: tuple[int, int]) -> None:
    box = page.get_by_test_id("map-large").bounding_box()
    # from outside the map first: a mouse already resting on the target would send no move
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] + 40)
    page.mouse.move(box["x"] + (col + 0.5) * box["width"] / size[1],
                    box["y"] + (row + 0.5) * box["height"] / size[0])
    page.wait_for_selector(f"[data-testid=map-math][data-row='{row}'][data-col='{col}'] "
                           "[data-testid=math-result]")


def test_every_layer_gets_its_maps(page: Any) -> None:
    open_page(page)
    run(page)
    assert page.get_by_test_id("layer-maps").count() == len(LESSON)
    for i, channels in enumerate(CHANNELS):
        thumbs = maps(page, i).get_by_test_id("map-thumb")
        assert thumbs.count() == (channels or 0), i
    assert maps(page, 4).get_by_test_id("vector-strip").get_attribute("data-count") == "1600"
    source = page.get_by_test_id("input-source").inner_text()
    assert "28×28" in source and "grey" in source


def test_softmax_bars_sum_to_one_and_equal_the_api(page: Any) -> None:
    open_page(page)
    run(page)
    bars = maps(page, 6).get_by_test_id("softmax-bars").locator("[data-p]")
    assert bars.count() == 10
    shown = [float(bars.nth(i).get_attribute("data-p")) for i in range(10)]
    assert math.isclose(sum(shown), 1.0, abs_tol=1e-5)
    expected = api_run(page, outputs=["dense"])["layers"][6]["output"]
    np.testing.assert_allclose(shown, expected, rtol=1e-6)
    labels = maps(page, 6).locator(".nr-prob-label").all_inner_texts()
    assert labels == [str(i) for i in range(10)]


def expected_conv(answer: dict[str, Any], layer: int, row: int, col: int,
                  channel: int) -> tuple[np.ndarray, float, float]:
    """Per-input-channel sums, the value before and after ReLU, from the API's numbers."""
    x = np.array(answer["layers"][layer - 1]["output"], dtype=np.float64)
    kernel, bias = (np.array(a, dtype=np.float64) for a in answer["layers"][layer]["weights"])
    window = x[row:row + 3, col:col + 3, :]
    sums = (window * kernel[:, :, :, channel]).sum(axis=(0, 1))
    value = float(sums.sum() + bias[channel])
    return sums, value, max(value, 0.0)


def test_a_map_opened_large_shows_the_apis_arithmetic(page: Any) -> None:
    open_page(page)
    run(page)
    maps(page, 2).get_by_test_id("map-thumb").nth(5).click()
    assert page.get_by_test_id("map-dialog").is_visible()
    assert "conv2d_1" in page.get_by_test_id("map-dialog").locator("h2").inner_text()
    answer = api_run(page)
    for row, col in [(3, 4), (0, 0), (10, 10)]:
        hover_cell(page, row, col, (11, 11))
        sums, value, result = expected_conv(answer, 2, row, col, 5)
        shown = [float(v) for v in page.get_by_test_id("math-channel-sum").evaluate_all(
            "nodes => nodes.map(n => n.dataset.value)")]
        assert len(shown) == 32
        np.testing.assert_allclose(shown, sums, rtol=1e-4, atol=1e-6)
        assert math.isclose(float(page.get_by_test_id("math-value").get_attribute("data-value")),
                            value, rel_tol=1e-4, abs_tol=1e-6)
        got = float(page.get_by_test_id("math-result").get_attribute("data-value"))
        assert math.isclose(got, result, rel_tol=1e-4, abs_tol=1e-6)
        # ... and the layer's own output there, as the run computed it
        layer_out = answer["layers"][2]["output"][row][col][5]
        assert math.isclose(got, layer_out, rel_tol=1e-4, abs_tol=1e-6)
        assert page.get_by_test_id("math-channel").count() == 32
    # the first layer reads the photo itself (three pixels wide, one channel)
    page.get_by_test_id("map-close").click()
    maps(page, 0).get_by_test_id("map-thumb").nth(7).click()
    hover_cell(page, 12, 13, (26, 26))
    x = np.array(api_run(page, return_input=True, outputs=[])["input"], dtype=np.float64)
    kernel, bias = (np.array(a) for a in answer["layers"][0]["weights"])
    value = (x[12:15, 13:16, 0] * kernel[:, :, 0, 7]).sum() + bias[7]
    got = float(page.get_by_test_id("math-value").get_attribute("data-value"))
    assert math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-6)
    assert page.get_by_test_id("math-channel").count() == 1


def test_pool_map_opens_large_without_conv_arithmetic(page: Any) -> None:
    open_page(page)
    run(page)
    maps(page, 1).get_by_test_id("map-thumb").nth(0).click()
    page.wait_for_function(
        "document.querySelector('[data-testid=map-math]').textContent.includes('MaxPooling2D')")
    assert page.get_by_test_id("open-step").is_hidden()
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('[data-testid=map-dialog]').open")


def test_dropout_mask_beside_inference_mode(page: Any) -> None:
    open_page(page)
    run(page)
    assert "training mode" in maps(page, 5).inner_text()
    assert maps(page, 5).get_by_test_id("dropout-mask").count() == 0
    page.get_by_test_id("training-toggle").check()
    page.wait_for_selector("[data-testid=dropout-mask]")
    mask = page.get_by_test_id("dropout-mask")
    kept, total = int(mask.get_attribute("data-kept")), int(mask.get_attribute("data-total"))
    assert total == 1600
    expected = np.array(api_run(page, training=True, outputs=["dropout"])["layers"][5]["mask"])
    assert kept == int(expected.sum())
    assert 0.4 < kept / total < 0.6
    assert maps(page, 5).get_by_test_id("dropout-inference").is_visible()
    assert "kept" in maps(page, 5).get_by_test_id("dropout-training").inner_text()
    assert "training=1" in page.url
    page.get_by_test_id("training-toggle").uncheck()
    page.wait_for_function("!document.querySelector('[data-testid=dropout-mask]')")


def test_the_step_link_opens_the_same_numbers(page: Any, watched: Any) -> None:
    open_page(page)
    run(page)
    maps(page, 2).get_by_test_id("map-thumb").nth(5).click()
    hover_cell(page, 6, 7, (11, 11))
    page.mouse.down()  # a click where the mouse is pins that cell
    page.mouse.up()
    page.wait_for_selector(".nr-cursor.nr-pinned")
    assert page.get_by_test_id("map-math").get_attribute("data-row") == "6"
    link = page.get_by_test_id("open-step")
    href = link.get_attribute("href")
    shown = float(page.get_by_test_id("math-result").get_attribute("data-value"))
    query = parse_qs(urlparse(href).query)
    scene = json.loads(base64.urlsafe_b64decode(query["s"][0] + "=" * (-len(query["s"][0]) % 4)))
    # a crop of 32 channels around the window: 5 x 5 outputs need 7 x 7 inputs
    assert np.array(scene["input"]).shape == (32, 7, 7)
    assert np.array(scene["kernel"]).shape == (1, 32, 3, 3)
    assert int(query["frame"][0]) == 2 * 5 + 2
    # ... holding the API's numbers: outputs (4..6+2, 5..7+2) read inputs 4..10 and 5..11
    answer = api_run(page, outputs=["max_pooling2d"], return_weights=["conv2d_1"])
    before = np.array(answer["layers"][1]["output"])
    kernel, bias = answer["layers"][2]["weights"]
    np.testing.assert_allclose(scene["input"], before[4:11, 5:12, :].transpose(2, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(scene["kernel"][0], np.array(kernel)[:, :, :, 5].transpose(2, 0, 1),
                               rtol=1e-6)
    assert scene["bias"] == [bias[5]] and scene["activation"] == "relu"
    step = watched()
    step.goto(f"{step.base_url}{href}")
    step.wait_for_function(
        "document.querySelector('[data-testid=frame-formula]').textContent.includes('=')")
    formula = step.get_by_test_id("frame-formula").inner_text().replace("\u2212", "-")
    # "... + 0 = -0.19  →  ReLU(-0.19) = 0": the step page rounds to 2 decimals
    found = re.search(r"ReLU\((-?[\d.]+)\) = (-?[\d.]+)\s*$", formula)
    assert found, formula
    value = float(page.get_by_test_id("math-value").get_attribute("data-value"))
    assert abs(float(found[1]) - value) <= 0.0051 and abs(float(found[2]) - shown) <= 0.0051
    assert step.get_by_test_id("channel-formulas").locator("li").count() == 32
    assert step.get_by_test_id("scrubber").input_value() == str(2 * 5 + 2)


def test_photo_size_and_colour_give_the_input_shape(page: Any, watched: Any) -> None:
    open_page(page)
    page.get_by_test_id("fit-photo").click()
    page.get_by_test_id("run-side").select_option("48")
    page.get_by_test_id("run-rgb").click()
    # chelsea is 451 x 300: the longer side 48 makes it 32 x 48, three channels
    page.wait_for_function("document.querySelector('[data-testid=input-shape]').textContent"
                           " === '32 × 48 × 3'")
    run(page)
    assert "downscaled to 32×48" in page.get_by_test_id("input-source").inner_text()
    assert maps(page, 0).get_by_test_id("map-thumb").count() == 32
    for part in ("fit=photo", "side=48", "color=rgb", "input=32x48x3"):
        assert part in page.url
    # typing a shape of one's own keeps it: the photo is resized to it
    page.get_by_test_id("input-h").fill("20")
    page.wait_for_function("location.search.includes('input=20x48x3')")
    assert page.get_by_test_id("fit-shape").get_attribute("aria-pressed") == "true"
    # the link reproduces the run's options
    other = watched()
    other.goto(page.url)
    other.wait_for_function("!document.querySelector('[data-testid=run-photo]').hidden")
    assert other.get_by_test_id("input-h").input_value() == "20"
    assert other.get_by_test_id("run-side").input_value() == "48"


def test_live_mode_runs_after_a_change(page: Any) -> None:
    open_page(page, "?live=1")
    page.wait_for_selector("[data-testid=layer-maps] [data-testid=map-thumb]")
    first = page.get_by_test_id("layer-list").locator("> li").nth(0)
    first.get_by_test_id("arg-filters").fill("4")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=layer-maps]')[0]"
        ".querySelectorAll('[data-testid=map-thumb]').length === 4")
    assert "live=1" in page.url


def test_uploaded_photo_runs(page: Any, tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "stripes.png"
    stripes = np.zeros((40, 60, 3), np.uint8)
    stripes[:, ::4] = 255
    Image.fromarray(stripes).save(path)
    open_page(page)
    page.get_by_test_id("photo-input").set_input_files(str(path))
    page.wait_for_function("location.search.includes('img=')")
    run(page)
    assert "60" in page.get_by_test_id("input-source").inner_text()


# what of `selector` reaches past the window's right edge (the header is not this page's)
OVERFLOW = """sel => [...document.querySelectorAll(sel)].filter(
  n => n.getBoundingClientRect().right > window.innerWidth + 0.5).map(n => n.dataset.testid)"""


def test_screenshots_normal_projector_russian_narrow(page: Any, watched: Any, context: Any,
                                                     shots_dir: Path) -> None:
    open_page(page, "?training=1")
    run(page)
    page.screenshot(path=str(shots_dir / "network-run-1280.png"), full_page=True)
    maps(page, 2).get_by_test_id("map-thumb").nth(5).click()
    hover_cell(page, 4, 4, (11, 11))
    page.screenshot(path=str(shots_dir / "network-run-inspect-1280.png"))
    page.get_by_test_id("map-close").click()
    page.get_by_test_id("projector-toggle").click()
    page.wait_for_selector("[data-testid=dropout-mask]")
    page.screenshot(path=str(shots_dir / "network-run-projector.png"), full_page=True)
    maps(page, 2).get_by_test_id("map-thumb").nth(5).click()
    hover_cell(page, 4, 4, (11, 11))
    page.screenshot(path=str(shots_dir / "network-run-inspect-projector.png"))
    page.get_by_test_id("map-close").click()
    page.get_by_test_id("projector-toggle").click()
    page.get_by_test_id("lang-ru").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=run-network]').textContent === 'Прогнать'")
    page.wait_for_function("document.querySelector('[data-testid=dropout-training]')"
                           ".textContent.includes('оставлено')")
    page.screenshot(path=str(shots_dir / "network-run-ru.png"), full_page=True)
    narrow = watched(context.browser.new_context(viewport={"width": 390, "height": 844}))
    open_page(narrow)
    run(narrow)
    narrow.screenshot(path=str(shots_dir / "network-run-390.png"), full_page=True)
    assert narrow.evaluate(OVERFLOW, "[data-testid=run-panel], [data-testid=layer-maps]") == []
    maps(narrow, 2).get_by_test_id("map-thumb").nth(5).click()
    hover_cell(narrow, 4, 4, (11, 11))
    narrow.screenshot(path=str(shots_dir / "network-run-inspect-390.png"))
    assert narrow.evaluate(OVERFLOW, "[data-testid=map-dialog]") == []


def test_every_run_string_exists_in_both_languages(page: Any) -> None:
    open_page(page)
    missing = page.evaluate("""async () => {
      const { missingKeys } = await import('/static/js/i18n.js');
      const m = missingKeys();
      return [...m.en, ...m.ru].filter((k) => k.startsWith('nr.'));
    }""")
    assert missing == []


@pytest.mark.parametrize("theme", ["normal", "projector"])
def test_maps_and_the_large_map_have_no_serious_accessibility_findings(page: Any,
                                                                      theme: str) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")

    def findings() -> list[str]:
        result = axe.Axe().run(page)
        return [f"{v['id']} {n['target']}" for v in result.response["violations"]
                if v["impact"] in ("serious", "critical") for n in v["nodes"][:5]]

    open_page(page, "?training=1" + ("&theme=projector" if theme == "projector" else ""))
    run(page)
    assert findings() == []
    maps(page, 2).get_by_test_id("map-thumb").nth(5).click()
    hover_cell(page, 4, 4, (11, 11))
    assert findings() == []
