"""/network on a photo larger than a thumbnail, in Chromium: the strips hold thumbnails shrunk by
block means (and say so), a map opened large is fetched at full size, every cell exactly as the
run computed it, and the hover arithmetic still reads the cell under the cursor."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.test_network_run import LESSON, hover_cell, maps, open_page, run, sample_id

pytestmark = pytest.mark.e2e

# chelsea (451 x 300) with its longer side 224, grey: 149 x 224; conv2d 'valid' -> 147 x 222
QUERY = "?fit=photo&side=224"
CONV = (147, 222)
FACTOR = 3  # ceil(222 / 96): tiles of 49 x 74


def api_run(page: Any, **extra: Any) -> dict[str, Any]:
    body = {"layers": LESSON, "image_id": sample_id(page), "color": "gray", "max_side": 224,
            "pixel_scale": 1 / 255, "seed": 0, **extra}
    response = page.request.post(f"{page.base_url}/api/network/run", data=body)
    assert response.ok, response.text()
    return response.json()


def large_pixels(page: Any) -> np.ndarray:
    """The large map's grey levels, read once (the canvas is not read again, so Chromium has no
    reason to warn about repeated readbacks)."""
    height, width, levels = page.evaluate("""() => {
      const c = document.querySelector('[data-testid=map-large] canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return [c.height, c.width, Array.from({ length: c.width * c.height }, (_, i) => d[4 * i])];
    }""")
    return np.array(levels, dtype=int).reshape(height, width)


def test_big_maps_come_as_thumbnails_that_say_so(page: Any, shots_dir: Path) -> None:
    open_page(page, QUERY)
    run(page)
    page.screenshot(path=str(shots_dir / "network-run-224-thumbnails.png"), full_page=True)
    strip = maps(page, 0).locator(".nr-thumbs")
    assert strip.get_attribute("data-factor") == str(FACTOR)
    size = maps(page, 0).get_by_test_id("map-thumb").first.locator("canvas").evaluate(
        "c => [c.height, c.width]")
    assert size == [math.ceil(CONV[0] / FACTOR), math.ceil(CONV[1] / FACTOR)]
    assert f"mean of {FACTOR}×{FACTOR} cells" in maps(page, 0).inner_text()
    # the last pooled maps (35 x 54) are small enough to be drawn as they are
    assert maps(page, 3).locator(".nr-thumbs").get_attribute("data-factor") == "1"
    assert "mean of" not in maps(page, 3).inner_text()


def test_a_map_opened_large_has_every_cell_and_its_arithmetic(page: Any,
                                                             shots_dir: Path) -> None:
    open_page(page, QUERY)
    run(page)
    maps(page, 0).get_by_test_id("map-thumb").nth(7).click()
    page.wait_for_selector("[data-testid=map-resolution][data-state=full]")
    pixels = large_pixels(page)
    assert pixels.shape == CONV
    assert f"{CONV[0]} × {CONV[1]}" in page.get_by_test_id("map-resolution").inner_text()
    answer = api_run(page, return_weights=["conv2d"], return_input=True, outputs=[],
                     render={"mode": "stretch", "max_maps": 64, "layers": ["conv2d"]})
    lo, hi = answer["layers"][0]["grid"]["range"]
    x = np.array(answer["input"], dtype=np.float64)
    kernel, bias = (np.array(a, dtype=np.float64) for a in answer["layers"][0]["weights"])
    for row, col in [(100, 150), (0, 0), (146, 221), (31, 200)]:
        hover_cell(page, row, col, CONV)
        value = float((x[row:row + 3, col:col + 3, 0] * kernel[:, :, 0, 7]).sum() + bias[7])
        shown = float(page.get_by_test_id("math-value").get_attribute("data-value"))
        assert math.isclose(shown, value, rel_tol=1e-4, abs_tol=1e-6)
        result = float(page.get_by_test_id("math-result").get_attribute("data-value"))
        assert math.isclose(result, max(value, 0.0), rel_tol=1e-4, abs_tol=1e-6)
        # the pixel under the cursor is that very cell, on the thumbnails' scale
        grey = pixels[row, col]
        assert abs(grey - round((result - lo) / (hi - lo) * 255)) <= 1, (row, col, grey)
    page.screenshot(path=str(shots_dir / "network-run-224-inspect.png"))


def test_a_pooled_map_opens_at_full_size_without_arithmetic(page: Any) -> None:
    open_page(page, QUERY)
    run(page)
    maps(page, 1).get_by_test_id("map-thumb").nth(2).click()  # 73 x 111, shrunk by 2
    page.wait_for_selector("[data-testid=map-resolution][data-state=full]")
    shown = large_pixels(page)
    assert shown.shape == (73, 111)
    # the exact maxima: the full-size picture is the pooled output itself
    answer = api_run(page, outputs=["max_pooling2d"],
                     render={"mode": "stretch", "max_maps": 64, "layers": ["max_pooling2d"]})
    out = np.array(answer["layers"][1]["output"], dtype=np.float64)[..., 2]
    lo, hi = answer["layers"][1]["grid"]["range"]
    assert np.abs(shown - np.round((out - lo) / (hi - lo) * 255)).max() <= 1
    assert "MaxPooling2D" in page.get_by_test_id("map-math").inner_text()
