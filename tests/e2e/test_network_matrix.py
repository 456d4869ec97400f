"""The /network page's dense-matrix panel and export buttons in Chromium."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

TOL_FIRST = (0x33, 0x22, 0x88)  # Paul Tol muted #332288: the colour of kernel weight w[0, 0]


def open_page(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/network{query}")
    page.wait_for_function(
        "document.querySelector('[data-testid=network-page]')"
        ".getAttribute('aria-busy') === 'false'")


def wait_count(page: Any, key: str, value: int) -> None:
    page.wait_for_function(
        "([k, v]) => document.querySelector(`[data-testid=count-${k}]`)?.dataset.value"
        " === String(v)", arg=[key, value])


def pixels(page: Any, cells: list[tuple[int, int]], columns: int = 9) -> list[list[int]]:
    """The canvas's RGBA near the top-left of each matrix cell (clear of the grid lines), read
    back in one call (several readbacks make Chromium warn)."""
    return page.evaluate("""([cells, n]) => {
      const canvas = document.querySelector('[data-testid=matrix-canvas]');
      const ratio = canvas.width / parseFloat(canvas.style.width);
      const cell = parseFloat(canvas.style.width) / n;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      return cells.map(([r, c]) => {
        const x = Math.floor((c + 0.2) * cell * ratio), y = Math.floor((r + 0.2) * cell * ratio);
        const at = 4 * (y * canvas.width + x);
        return Array.from(data.slice(at, at + 4));
      });
    }""", [cells, columns])


def test_lesson_matrix_shows_36_16_4(page: Any) -> None:
    open_page(page)
    for key, value in (("fully", 36), ("connections", 16), ("shared", 4)):
        wait_count(page, key, value)
    canvas = page.get_by_test_id("matrix-canvas")
    assert canvas.is_visible()
    legend = page.get_by_test_id("matrix-legend")
    assert legend.locator(".mx-swatch").count() == 4
    assert "4 outputs" in page.get_by_test_id("matrix-rows").inner_text()
    # row 0 reads inputs 0, 1, 3, 4 with weights w[0,0], w[0,1], w[1,0], w[1,1]: input 2 is blank
    first, blank, last = pixels(page, [(0, 0), (0, 2), (3, 4)])
    assert first[:3] == list(TOL_FIRST) and blank[3] == 0
    assert last[:3] == list(TOL_FIRST)  # the last output starts at input 4
    canvas.hover(position={"x": 3, "y": 3})
    assert "w[0, 0]" in page.get_by_test_id("matrix-hover").inner_text()


def test_lesson_five_by_five_button_shows_225_and_9(page: Any) -> None:
    open_page(page)
    wait_count(page, "fully", 36)
    page.get_by_test_id("matrix-lesson5").click()
    wait_count(page, "fully", 225)
    wait_count(page, "shared", 9)
    wait_count(page, "connections", 81)


def test_conv_layer_of_a_photo_size_answers_counts_only(page: Any) -> None:
    open_page(page)  # the lesson's convnet on 28x28x1
    wait_count(page, "fully", 36)
    page.get_by_test_id("matrix-layer").select_option("0")
    wait_count(page, "shared", 288)
    wait_count(page, "fully", 784 * 32 * 26 * 26)
    wait_count(page, "connections", 32 * (26 * 3) ** 2)
    assert page.get_by_test_id("matrix-too-big").is_visible()
    assert not page.get_by_test_id("matrix-canvas").is_visible()


def test_conv_layer_of_a_small_input_is_drawn_and_follows_edits(page: Any) -> None:
    open_page(page)
    wait_count(page, "fully", 36)
    page.get_by_test_id("input-h").fill("12")
    page.get_by_test_id("input-w").fill("12")
    page.get_by_test_id("matrix-layer").select_option("2")  # conv2d_1: 5x5x32 -> 3x3x64
    wait_count(page, "fully", 64 * 9 * 5 * 5 * 32)
    wait_count(page, "shared", 3 * 3 * 32 * 64)
    assert page.get_by_test_id("matrix-canvas").is_visible()
    assert not page.get_by_test_id("matrix-too-big").is_visible()
    page.get_by_test_id("input-h").fill("14")  # 6x5 after the first pooling
    wait_count(page, "fully", 64 * 4 * 3 * 6 * 5 * 32)


def test_export_downloads_a_runnable_pytorch_zip(page: Any, tmp_path: Path) -> None:
    open_page(page)
    with page.expect_download() as info:
        page.get_by_test_id("export-pytorch").click()
    download = info.value
    assert download.suggested_filename == "svertka_pytorch.zip"
    target = tmp_path / "export.zip"
    download.save_as(target)
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        names = set(archive.namelist())
        script = archive.read("svertka_export/model_pytorch.py").decode()
    assert names == {"svertka_export/model_pytorch.py", "svertka_export/weights.npz"}
    assert "nn.Conv2d(1, 32" in script
    with page.expect_download() as info:
        page.get_by_test_id("export-npz").click()
    assert info.value.suggested_filename == "weights.npz"
