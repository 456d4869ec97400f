"""The layer-stack page in Chromium: building a stack, live totals, errors, URL, language, theme."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

LESSON_TOTAL = 34826  # Keras's model.summary() of the lesson's small convnet


def total(page: Any) -> int:
    return int(page.get_by_test_id("param-total").get_attribute("data-value"))


def wait_total(page: Any, value: int) -> None:
    page.wait_for_function(
        "v => document.querySelector('[data-testid=param-total]').dataset.value === String(v)",
        arg=value)


def rows(page: Any) -> Any:
    return page.get_by_test_id("layer-list").locator("> li")


def open_page(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/network{query}")
    page.wait_for_function(
        "document.querySelector('[data-testid=network-page]')"
        ".getAttribute('aria-busy') === 'false'")


def test_default_stack_shows_the_keras_summary(page: Any) -> None:
    open_page(page)
    wait_total(page, LESSON_TOTAL)
    assert rows(page).count() == 7
    first = rows(page).nth(0)
    assert first.get_by_test_id("layer-name").inner_text() == "conv2d"
    assert first.get_by_test_id("layer-shape").inner_text() == "26 × 26 × 32"
    assert first.get_by_test_id("layer-formula").inner_text() == "(3*3*1 + 1) * 32 = 320"
    assert rows(page).nth(2).get_by_test_id("layer-name").inner_text() == "conv2d_1"
    assert "keras.Input(shape=(28, 28, 1))" in page.get_by_test_id("keras-code").inner_text()


def test_adding_layers_and_editing_a_field_updates_the_total(page: Any) -> None:
    open_page(page, "?input=28x28x1&layers=")
    wait_total(page, 0)
    add = page.get_by_test_id("add-layer")
    add.locator("[data-type=Flatten]").click()
    add.locator("[data-type=Dense]").click()
    wait_total(page, 785 * 10)
    dense = rows(page).nth(1)
    dense.get_by_test_id("arg-units").fill("128")
    wait_total(page, 785 * 128)
    add.locator("[data-type=Dense]").click()
    wait_total(page, 785 * 128 + 129 * 10)
    assert page.get_by_test_id("param-total").inner_text() == "101,770"
    assert rows(page).nth(2).get_by_test_id("layer-name").inner_text() == "dense_1"
    code = page.get_by_test_id("keras-code").inner_text()
    assert "layers.Dense(units=128)" in code and "layers.Flatten()" in code


def test_move_and_remove_layers(page: Any) -> None:
    open_page(page)
    wait_total(page, LESSON_TOTAL)
    rows(page).nth(5).get_by_test_id("remove-layer").click()  # the Dropout
    assert rows(page).count() == 6
    wait_total(page, LESSON_TOTAL)
    rows(page).nth(5).get_by_test_id("move-up").click()  # Dense before Flatten: on the last axis
    wait_total(page, 320 + 18496 + (64 + 1) * 10)
    dense = rows(page).nth(4)
    assert dense.get_by_test_id("layer-shape").inner_text() == "5 × 5 × 10"
    assert "last axis" in dense.get_by_test_id("layer-note").inner_text()
    rows(page).nth(1).get_by_test_id("move-up").click()  # pooling first: the conv sees 14x14
    page.wait_for_function("document.querySelectorAll('[data-testid=layer-shape]')[1]"
                           ".textContent === '12 × 12 × 32'")
    assert rows(page).nth(0).get_by_test_id("layer-type").inner_text() == "MaxPooling2D"


def test_impossible_layer_shows_error_beside_the_field_and_fix_applies(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_page(page, "?input=8x8x1&layers=Conv2D:filters=2:kernel_size=3,"
                    "Conv2D:filters=2:kernel_size=3,Conv2D:filters=2:kernel_size=3")
    wait_total(page, 20 + 38 + 38)
    rows(page).nth(2).get_by_test_id("arg-kernel_size").fill("5")
    error = rows(page).nth(2).get_by_test_id("layer-error")
    error.wait_for(state="visible")
    assert "padding" in error.inner_text()
    assert rows(page).nth(2).get_by_test_id("arg-padding").get_attribute("aria-invalid") == "true"
    assert page.get_by_test_id("param-total").inner_text() == "–"
    # the layers before the faulty one still show their shapes
    assert rows(page).nth(1).get_by_test_id("layer-shape").inner_text() == "4 × 4 × 2"
    error.get_by_test_id("apply-fix").first.click()
    wait_total(page, 20 + 38 + 102)
    assert rows(page).nth(2).get_by_test_id("arg-padding").input_value() == "same"
    assert rows(page).nth(2).get_by_test_id("layer-error").is_hidden()


def test_invalid_input_axis_is_marked(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_page(page)
    wait_total(page, LESSON_TOTAL)
    page.get_by_test_id("input-w").fill("0")
    page.get_by_test_id("input-error").wait_for(state="visible")
    assert page.get_by_test_id("input-w").get_attribute("aria-invalid") == "true"


def test_url_reproduces_the_stack(page: Any, watched: Any) -> None:
    open_page(page)
    page.get_by_test_id("preset-vgg").click()
    wait_total(page, 896 + 9248 + 18496 + 36928 + 40970)
    rows(page).nth(0).get_by_test_id("arg-filters").fill("16")
    expected = 448 + 4640 + 18496 + 36928 + 40970
    wait_total(page, expected)
    page.wait_for_function("location.search.includes('filters=16')")
    assert "padding=same" in page.url
    other = watched()
    open_page(other, page.url[page.url.index("?"):])
    wait_total(other, expected)
    assert other.get_by_test_id("input-c").input_value() == "3"
    assert rows(other).count() == 8


def test_presets_contrast_dense_and_conv(page: Any) -> None:
    open_page(page)
    page.get_by_test_id("preset-dense28").click()
    wait_total(page, 101770)
    page.get_by_test_id("preset-lenet5").click()
    wait_total(page, 61706)
    page.get_by_test_id("preset-lesson").click()
    wait_total(page, LESSON_TOTAL)
    assert re.search(r"54(\.\d)?%", page.get_by_test_id("param-split").inner_text())


def test_russian_switch_translates_the_page(page: Any) -> None:
    open_page(page)
    wait_total(page, LESSON_TOTAL)
    page.get_by_test_id("lang-ru").click()
    assert page.locator("h1").inner_text() == "Стек слоёв"
    page.wait_for_function(
        "document.querySelector('[data-testid=layer-note]').textContent.includes('фильтров')")
    assert page.get_by_test_id("nav-network").inner_text() == "Стек слоёв"
    assert page.get_by_test_id("param-total").inner_text().replace("\u00a0", " ") == "34 826"


def test_projector_toggle_and_screenshots(page: Any, watched: Any, context: Any,
                                          shots_dir: Path) -> None:
    open_page(page)
    wait_total(page, LESSON_TOTAL)
    page.screenshot(path=str(shots_dir / "network-1280.png"))
    page.get_by_test_id("projector-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"
    assert page.get_by_test_id("projector-toggle").get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(shots_dir / "network-1280-projector.png"))
    big = watched(context.browser.new_context(viewport={"width": 1920, "height": 1080}))
    open_page(big)
    wait_total(big, LESSON_TOTAL)
    big.screenshot(path=str(shots_dir / "network-1920.png"))
    big.get_by_test_id("projector-toggle").click()
    big.screenshot(path=str(shots_dir / "network-1920-projector.png"))
    # nothing spills sideways at either size
    for pg in (page, big):
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_every_string_of_the_page_exists_in_both_languages(page: Any) -> None:
    open_page(page)
    result = page.evaluate("""async () => {
      const { missingKeys, t } = await import('/static/js/i18n.js');
      const used = new Set();
      for (const el of document.querySelectorAll('[data-i18n],[data-i18n-aria-label]')) {
        used.add(el.dataset.i18n || el.dataset.i18nAriaLabel);
      }
      const missing = missingKeys();
      return { missing: [...missing.en, ...missing.ru].filter((k) => k.startsWith('nw.')),
               unknown: [...used].filter((k) => t(k) === k) };
    }""")
    assert result == {"missing": [], "unknown": []}
