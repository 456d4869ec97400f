"""The lesson's ideas under the step-through stage: why convolution, and dropout."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

READY = '[data-testid="step-page"][aria-busy="false"]'
WHY = '[data-testid="why-conv"]'
DROP = '[data-testid="dropout-demo"]'


def open_step(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/step{query}")
    page.wait_for_selector(READY)


@pytest.mark.parametrize(("scene", "dense", "links", "shared"), [
    ("conv3x3", "9 × 4 = 36", "4 × 4 = 16", "4"),       # the lesson's first example
    ("conv5x5", "25 × 9 = 225", "9 × 9 = 81", "9"),     # the lesson's 25 x 9 = 225 against 9
    ("filters", "75 × 18 = 1350", "18 × 27 = 486", "2 × 27 = 54"),
])
def test_why_convolution_counts_weights_of_the_scene(page: Any, scene: str, dense: str,
                                                     links: str, shared: str) -> None:
    open_step(page, f"?scene={scene}")
    why = page.locator(WHY)
    assert why.locator('[data-testid="count-dense"] .ideas-bar-num').inner_text() == dense
    assert why.locator('[data-testid="count-links"] .ideas-bar-num').inner_text() == links
    assert why.locator('[data-testid="count-shared"] .ideas-bar-num').inner_text() == shared


def test_why_convolution_shows_the_links_of_one_output(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    why = page.locator(WHY)
    why.locator(".ideas-out .ideas-cell").nth(8).hover()   # output (2, 2)
    assert why.locator(".ideas-in .ideas-cell.lit").count() == 9
    lit = why.locator(".ideas-in .ideas-cell.lit").first
    assert (lit.get_attribute("data-r"), lit.get_attribute("data-c")) == ("2", "2")
    why.locator('[data-testid="why-mode-dense"]').click()
    assert why.locator(".ideas-in .ideas-cell.lit").count() == 25
    assert "25" in why.locator('[data-testid="why-links"]').inner_text()
    # keyboard: the output cells are buttons, focus shows their links too
    why.locator('[data-testid="why-mode-conv"]').click()
    why.locator(".ideas-out .ideas-cell").nth(0).focus()
    assert why.locator(".ideas-in .ideas-cell.lit").count() == 9


def test_why_convolution_says_pooling_has_no_weights(page: Any) -> None:
    open_step(page, "?scene=maxpool")
    assert "no weights" in page.locator(WHY).inner_text()
    page.click('[data-testid="lang-ru"]')
    assert "нет обучаемых весов" in page.locator(WHY).inner_text()


def test_dropout_demo_uses_the_api_and_scales_survivors(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    drop = page.locator(DROP)
    after = drop.locator('[data-testid="dropout-after"]')
    after.wait_for()
    outputs = page.evaluate("window.svertkaStep.getModel().outputs[0]")
    answer = page.request.post(f"{page.base_url}/api/dropout",
                               data={"input": outputs, "p": 0.5, "seed": 0}).json()
    cells = after.locator(".ideas-cell")
    assert cells.count() == 9
    dropped = [c == "dropped" for c in after.locator(".ideas-cell").evaluate_all(
        "els => els.map(e => e.classList.contains('dropped') ? 'dropped' : 'kept')")]
    assert dropped == [not k for row in answer["mask"] for k in row]
    summary = drop.locator('[data-testid="dropout-summary"]').inner_text()
    assert f"Kept {answer['kept']} of 9" in summary and "= 2" in summary
    # another mask: same p, a new seed
    with page.expect_request("**/api/dropout") as req:
        drop.locator('[data-testid="dropout-reseed"]').click()
    assert req.value.post_data_json["seed"] == 1
    # evaluation: nothing dropped
    drop.locator('[data-testid="dropout-training"]').uncheck()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"dropout-summary\"]')"
        ".textContent.startsWith('Evaluation')")
    assert after.locator(".ideas-cell.dropped").count() == 0


def test_dropout_slider_keeps_its_arrow_keys(page: Any) -> None:
    open_step(page, "?scene=conv5x5")
    slider = page.locator('[data-testid="dropout-p"]')
    slider.focus()
    with page.expect_request("**/api/dropout") as req:
        page.keyboard.press("ArrowRight")
    assert req.value.post_data_json["p"] == pytest.approx(0.55)
    # the arrow moved the slider, not the animation
    assert page.eval_on_selector('[data-testid="scrubber"]', "e => e.value") == "0"
    assert page.locator('[data-testid="dropout-p-value"]').inner_text() == "0.55"
