"""/network opens one's own Keras model, in Chromium: the file picker, the model's own names and
parameter counts (equal to GET /api/models), a run on a sample photo whose every layer gets its
maps with the numbers of the API's run with `model_id`, the server's refusal of a Lambda layer,
the URL that reopens the model, the editor's layer types beyond 2-D, and screenshots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"


def open_page(page: Any, query: str = "") -> None:
    page.goto(f"{page.base_url}/network{query}")
    # a function, not an expression: Playwright evals an expression in the page, which the
    # Content-Security-Policy of `strict_page` refuses
    page.wait_for_function(
        "() => document.querySelector('[data-testid=network-page]').getAttribute('aria-busy')"
        " === 'false' && !document.querySelector('[data-testid=run-photo]').hidden")


def rows(page: Any) -> Any:
    return page.get_by_test_id("layer-list").locator("> li")


def upload(page: Any, name: str) -> None:
    page.get_by_test_id("model-input").set_input_files(str(FIXTURES / name))


def wait_model(page: Any, summary: dict[str, Any]) -> None:
    """The banner is up and the rows show the model's names and its total."""
    page.get_by_test_id("model-banner").wait_for(state="visible")
    page.wait_for_function(
        "([n, total]) => document.querySelectorAll('[data-testid=layer-list] > li').length === n"
        " && document.querySelector('[data-testid=param-total]').dataset.value === String(total)",
        arg=[len(summary["layers"]), summary["total_params"]])


def wait_maps(page: Any) -> None:
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=layer-maps]').length"
        " === document.querySelectorAll('[data-testid=layer-list] > li').length"
        " && !document.querySelector('[data-testid=run-network]').disabled"
        " && document.querySelector('[data-testid=input-source]').textContent !== ''")


def api_model(page: Any, name: str) -> dict[str, Any]:
    """The same file through the API (same bytes, same id)."""
    data = (FIXTURES / name).read_bytes()
    response = page.request.post(f"{page.base_url}/api/models",
                                 multipart={"file": {"name": name, "mimeType":
                                                     "application/octet-stream", "buffer": data}})
    assert response.status == 201, response.text()
    return response.json()


def sample_id(page: Any, name: str = "chelsea") -> str:
    samples = page.request.get(f"{page.base_url}/api/samples").json()
    return next(s["id"] for s in samples if s["name"] == name)


def shown_rows(page: Any) -> list[tuple[str, str, str]]:
    out = []
    for i in range(rows(page).count()):
        row = rows(page).nth(i)
        out.append((row.get_by_test_id("layer-name").inner_text(),
                    row.get_by_test_id("layer-type").inner_text(),
                    row.get_by_test_id("layer-params").inner_text()))
    return out


def test_uploaded_model_shows_its_own_names_and_counts(page: Any) -> None:
    open_page(page)
    upload(page, "convnet2d.keras")
    expected = api_model(page, "convnet2d.keras")
    got = page.request.get(f"{page.base_url}/api/models/{expected['id']}").json()
    assert got["layers"] == expected["layers"]
    wait_model(page, got)
    shown = shown_rows(page)
    assert [(n, ty) for n, ty, _ in shown] == [(r["name"], r["type"]) for r in got["layers"]]
    assert "conv_a" in [n for n, _, _ in shown]  # a name its author chose
    for (_, _, params), row in zip(shown, got["layers"], strict=True):
        assert f"{row['params']:,}" in params
    for i, row in enumerate(got["layers"]):
        shape = rows(page).nth(i).get_by_test_id("layer-shape").inner_text()
        assert shape == " × ".join(map(str, row["output_shape"]))
    assert int(page.get_by_test_id("param-total").get_attribute("data-value")) \
        == got["total_params"]
    # read-only: no argument can be typed into, no layer moved, no layer added
    assert rows(page).first.locator("input, select").count() == 0
    assert page.get_by_test_id("remove-layer").count() == 0
    assert not page.get_by_test_id("add-layer").is_visible()
    assert page.get_by_test_id("input-h").is_disabled()
    conv = rows(page).nth(1).get_by_test_id("layer-config")
    assert "filters" in conv.inner_text() and "relu" in conv.inner_text()
    assert 'name="conv_a"' in page.get_by_test_id("keras-code").inner_text()
    assert parse_qs(urlparse(page.url).query)["model"] == [got["id"]]


def test_model_runs_on_a_photo_with_the_apis_numbers(page: Any) -> None:
    open_page(page)
    upload(page, "convnet2d.keras")
    summary = api_model(page, "convnet2d.keras")
    wait_model(page, summary)
    page.get_by_test_id("sample-coffee").click()
    page.evaluate("document.querySelectorAll('[data-testid=layer-maps]').forEach(n => n.remove())")
    page.get_by_test_id("run-network").click()
    wait_maps(page)
    answer = page.request.post(f"{page.base_url}/api/network/run", data={
        "model_id": summary["id"], "image_id": sample_id(page, "coffee"),
        "pixel_scale": 1 / 255, "seed": 0}).json()
    boxes = page.get_by_test_id("layer-maps")
    assert boxes.count() == len(summary["layers"]) == len(answer["layers"])
    for i, row in enumerate(answer["layers"]):
        box = boxes.nth(i)
        assert box.get_attribute("data-layer") == row["name"]
        assert math.isclose(float(box.get_attribute("data-min")), row["range"][0], rel_tol=1e-6,
                            abs_tol=1e-9)
        assert math.isclose(float(box.get_attribute("data-max")), row["range"][1], rel_tol=1e-6,
                            abs_tol=1e-9)
        if len(row["output_shape"]) == 3:  # a map layer: one thumbnail per channel
            assert box.get_by_test_id("map-thumb").count() == row["output_shape"][-1], row["name"]
    bars = boxes.nth(len(answer["layers"]) - 1).locator("[data-testid=softmax-bars] [data-p]")
    shown = [float(bars.nth(i).get_attribute("data-p")) for i in range(bars.count())]
    expected = answer["layers"][-1]["output"]
    assert len(shown) == len(expected) == 5
    for a, b in zip(shown, expected, strict=True):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    source = page.get_by_test_id("input-source")
    assert source.get_attribute("data-resized") == "true"
    assert "12×12" in source.inner_text() and "model" in source.inner_text()


def test_grey_model_says_the_photo_was_made_grey(page: Any) -> None:
    open_page(page)
    upload(page, "legacy.h5")
    summary = api_model(page, "legacy.h5")
    wait_model(page, summary)
    wait_maps(page)  # an image model runs as soon as it opens
    source = page.get_by_test_id("input-source")
    assert source.get_attribute("data-grey") == "true"
    assert "10×10" in source.inner_text() and "grey" in source.inner_text()
    assert page.locator("[data-testid=input-photo].nr-grey").count() == 1


def test_lambda_layer_is_refused_beside_the_picker(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_page(page)
    upload(page, "lambda.keras")
    error = page.get_by_test_id("model-error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "lambda.keras" in text and "Lambda" in text and "'double'" in text
    assert page.get_by_test_id("model-banner").is_hidden()
    assert page.get_by_test_id("add-layer").is_visible()  # still building one's own


def test_the_url_reopens_the_model_and_back_restores_the_stack(page: Any, watched: Any) -> None:
    open_page(page, "?input=28x28x1&layers=Flatten,Dense:units=7")
    page.wait_for_function("document.querySelector('[data-testid=param-total]').dataset.value"
                           " === String(785 * 7)")
    upload(page, "chain.h5")
    summary = api_model(page, "chain.h5")
    wait_model(page, summary)
    link = page.url
    other = watched()
    other.goto(link)
    wait_model(other, summary)
    assert other.get_by_test_id("layer-name").first.inner_text() == "features"
    page.get_by_test_id("model-close").click()
    page.wait_for_function("document.querySelector('[data-testid=param-total]').dataset.value"
                           " === String(785 * 7)")
    assert page.get_by_test_id("model-banner").is_hidden()
    assert "model=" not in page.url and "Dense:units=7" in page.url
    assert rows(page).first.locator("input, select").count() == 0  # Flatten has no arguments
    assert rows(page).nth(1).get_by_test_id("arg-units").input_value() == "7"


def test_an_evicted_model_says_upload_again(page: Any) -> None:
    page.allow_console(r"status of 404")
    page.goto(f"{page.base_url}/network?model={'0' * 64}")
    error = page.get_by_test_id("model-error")
    error.wait_for(state="visible")
    assert "again" in error.inner_text()
    page.wait_for_function("document.querySelector('[data-testid=param-total]').dataset.value"
                           " === '34826'")  # the lesson's stack instead


def test_editor_builds_conv1d_and_zero_padding2d(page: Any, shots_dir: Path) -> None:
    open_page(page, "?input=20x3&layers=")
    assert page.get_by_test_id("input-rank").input_value() == "2"
    assert page.get_by_test_id("input-steps").input_value() == "20"
    add = page.get_by_test_id("add-layer")
    add.locator("[data-type=Conv1D]").click()
    page.wait_for_function("document.querySelector('[data-testid=param-total]').dataset.value"
                           " === String((3 * 3 + 1) * 8)")
    page.screenshot(path=str(shots_dir / "network-editor-conv1d.png"))
    first = rows(page).nth(0)
    assert first.get_by_test_id("layer-shape").inner_text() == "18 × 8"
    first.get_by_test_id("arg-kernel_size").fill("5")
    page.wait_for_function("document.querySelector('[data-testid=layer-shape]').textContent"
                           " === '16 × 8'")
    assert "layers.Conv1D(filters=8, kernel_size=5, activation=\"relu\")" \
        in page.get_by_test_id("keras-code").inner_text()
    # to an image: three axes, then a frame of zeros of [[top, bottom], [left, right]]
    page.get_by_test_id("layer-list").locator("[data-testid=remove-layer]").first.click()
    page.get_by_test_id("input-rank").select_option("3")
    page.get_by_test_id("input-h").fill("6")
    page.get_by_test_id("input-w").fill("5")
    add.locator("[data-type=ZeroPadding2D]").click()
    pad = rows(page).nth(0)
    pad.get_by_test_id("layer-shape").wait_for()
    page.wait_for_function("document.querySelector('[data-testid=layer-shape]').textContent"
                           " === '8 × 7 × 3'")
    pad.get_by_test_id("arg-padding").fill("[[1, 0], [2, 1]]")
    page.wait_for_function("document.querySelector('[data-testid=layer-shape]').textContent"
                           " === '7 × 8 × 3'")
    assert "layers.ZeroPadding2D(padding=((1, 0), (2, 1)))" \
        in page.get_by_test_id("keras-code").inner_text()
    assert "keras.Input(shape=(6, 5, 3))" in page.get_by_test_id("keras-code").inner_text()
    # the link keeps both
    other_url = page.url
    assert "ZeroPadding2D" in other_url and "input=6x5x3" in other_url


@pytest.mark.parametrize("view", ["normal", "projector", "russian"])
def test_screenshots_of_an_open_model(page: Any, shots_dir: Path, view: str) -> None:
    query = "?theme=projector" if view == "projector" else ""
    page.set_viewport_size({"width": 1440, "height": 1000})
    open_page(page, query)
    if view == "russian":
        page.locator("[data-lang=ru]").click()
    upload(page, "convnet2d.keras")
    summary = api_model(page, "convnet2d.keras")
    wait_model(page, summary)
    wait_maps(page)
    if view == "russian":
        assert "Ваша модель" in page.get_by_test_id("model-banner").inner_text()
    page.screenshot(path=str(shots_dir / f"network-model-{view}.png"), full_page=True)


@pytest.mark.parametrize("theme", ["normal", "projector"])
def test_open_model_and_refusal_have_no_serious_accessibility_findings(page: Any,
                                                                      theme: str) -> None:
    from tests.e2e.test_accessibility import _findings, _settle

    page.allow_console(r"status of 422")
    open_page(page, "" if theme == "normal" else "?theme=projector")
    upload(page, "convnet2d.keras")
    wait_model(page, api_model(page, "convnet2d.keras"))
    wait_maps(page)
    _settle(page)
    assert _findings(page) == []
    upload(page, "custom.keras")
    page.get_by_test_id("model-error").wait_for(state="visible")
    _settle(page)
    assert _findings(page) == []


def test_a_model_opens_and_runs_when_the_policy_applies(strict_page: Any) -> None:
    page = strict_page
    open_page(page)
    upload(page, "chain.keras")
    wait_model(page, api_model(page, "chain.keras"))
    page.get_by_test_id("sample-coffee").click()  # chain.keras takes 2 channels: no photo fits
    page.allow_console(r"status of 422")
    page.get_by_test_id("run-network").click()
    error = page.get_by_test_id("run-error")
    error.wait_for(state="visible")
    assert "[9, 9, 2]" in error.inner_text()


def test_a_model_dropped_on_the_page_opens(page: Any) -> None:
    open_page(page)
    data = list((FIXTURES / "conv1d.keras").read_bytes())
    page.evaluate("""(bytes) => {
      const file = new File([new Uint8Array(bytes)], 'conv1d.keras');
      const transfer = new DataTransfer();
      transfer.items.add(file);
      const target = document.querySelector('[data-testid=layer-list]');
      for (const type of ['dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true,
                                                   cancelable: true }));
      }
    }""", data)
    summary = api_model(page, "conv1d.keras")
    wait_model(page, summary)
    assert page.get_by_test_id("model-name").inner_text() == "conv1d.keras"
    assert rows(page).nth(0).get_by_test_id("layer-shape").inner_text() == "10 × 4"
    assert "[20, 3]" not in page.get_by_test_id("model-facts").inner_text()
    assert "20 × 3" in page.get_by_test_id("model-facts").inner_text()
    assert "keras.Input(shape=(20, 3))" in page.get_by_test_id("keras-code").inner_text()


def test_export_of_an_open_model_names_it(page: Any) -> None:
    open_page(page)
    upload(page, "chain.keras")
    summary = api_model(page, "chain.keras")
    wait_model(page, summary)
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json)
            if "/api/network/export" in r.url else None)
    with page.expect_download() as info:
        page.get_by_test_id("export-npz").click()
    path = info.value.path()
    assert sent == [{"model_id": summary["id"]}]
    with np.load(path) as weights:  # the file's own layer names and layouts
        assert sorted(weights.files) == ["features/bias", "features/kernel", "logits/bias",
                                         "logits/kernel"]
        assert weights["features/kernel"].shape == (3, 3, 2, 3)
