"""The playground in a real Chromium: photos in, feature maps out, arithmetic under the cursor."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

MAP = '[data-testid="feature-map"]'
MATH = '[data-testid="window-math"]'
IDLE = "() => !document.querySelector('#output-box').classList.contains('busy')"

# A digest of the feature map's pixels (and its size), read straight from the canvas.
READ_MAP = """() => {
  const c = document.querySelector('[data-testid="feature-map"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0, nonzero = 0;
  for (let i = 0; i < d.length; i += 1) {
    h = (h * 31 + d[i]) >>> 0;
    if (d[i] && i % 4 !== 3) nonzero++;
  }
  return {w: c.width, h: c.height, hash: h, nonzero, version: +c.dataset.version || 0};
}"""


def _photo(width: int = 300, height: int = 200) -> bytes:
    """A small synthetic photo: a bright square on a gradient, so edges and blur both show."""
    img = Image.new("RGB", (width, height))
    px = img.load()
    for y in range(height):
        for x in range(width):
            inside = width // 3 < x < 2 * width // 3 and height // 3 < y < 2 * height // 3
            px[x, y] = (240, 200, 40) if inside else (x * 255 // width, 60, y * 255 // height)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _open(page: Any, query: str = "") -> dict[str, Any]:
    page.goto(f"{page.base_url}/{query}")
    return _wait_map(page)


def _wait_map(page: Any, after: int = 0) -> dict[str, Any]:
    """Wait until a feature map newer than version `after` is drawn, and return its digest."""
    page.wait_for_function(
        "(v) => { const c = document.querySelector('[data-testid=\"feature-map\"]');"
        " return c && (+c.dataset.version || 0) > v; }",
        arg=after,
    )
    page.wait_for_function(IDLE)
    return page.evaluate(READ_MAP)


def _settled(page: Any) -> dict[str, Any]:
    """Wait for the debounce and any request in flight, then read the map."""
    page.wait_for_timeout(250)
    page.wait_for_function(IDLE)
    return page.evaluate(READ_MAP)


def _change_and_wait(page: Any, action: Any) -> dict[str, Any]:
    before = page.evaluate(READ_MAP)["version"]
    action()
    return _wait_map(page, before)


def test_page_loads_sample_and_draws_map(page: Any) -> None:
    digest = _open(page)
    assert digest["w"] > 10 and digest["h"] > 10
    assert digest["nonzero"] > 0
    assert page.locator('[data-testid="projector-toggle"]').is_visible()
    assert page.locator('[data-testid="lang-ru"]').is_visible()
    presets = page.eval_on_selector_all(
        '[data-testid="kernel-preset"] option', "els => els.map(e => e.value)")
    names = [k["name"] for k in page.request.get(f"{page.base_url}/api/kernels").json()]
    assert presets == names  # option values are exactly the preset names
    assert page.locator('[data-testid="kernel-description"]').inner_text().strip()
    assert page.js_errors == []


def test_upload_photo_shows_original_size_and_new_map(page: Any, tmp_path: Path) -> None:
    before = _open(page)
    photo = tmp_path / "photo.png"
    photo.write_bytes(_photo(640, 480))
    after = _change_and_wait(
        page, lambda: page.set_input_files('[data-testid="image-input"]', str(photo)))
    assert "640×480" in page.locator('[data-testid="image-size"]').inner_text()
    assert after["hash"] != before["hash"]
    # working size 256: the longer side is downscaled, the map follows (3x3 valid: 254 x 190)
    assert (after["w"], after["h"]) == (254, 190)
    page.wait_for_function("() => location.search.includes('img=')")
    assert page.js_errors == []


def test_drop_and_paste_upload_an_image(page: Any) -> None:
    _open(page)
    for event, (w, h) in (("drop", (120, 90)), ("paste", (90, 120))):
        data = list(_photo(w, h))
        before = page.evaluate(READ_MAP)["version"]
        page.evaluate(
            """([bytes, event]) => {
              const file = new File([new Uint8Array(bytes)], 'x.png', {type: 'image/png'});
              const dt = new DataTransfer();
              dt.items.add(file);
              if (event === 'drop') {
                const zone = document.querySelector('[data-testid="dropzone"]');
                const init = {dataTransfer: dt, bubbles: true, cancelable: true};
                zone.dispatchEvent(new DragEvent('drop', init));
              } else {
                const init = {clipboardData: dt, bubbles: true, cancelable: true};
                document.dispatchEvent(new ClipboardEvent('paste', init));
              }
            }""",
            [data, event],
        )
        _wait_map(page, before)
        assert f"{w}×{h}" in page.locator('[data-testid="image-size"]').inner_text()
    assert page.js_errors == []


def test_upload_of_a_non_image_is_explained(page: Any, tmp_path: Path) -> None:
    page.allow_console(r"status of 415")
    before = _open(page)
    junk = tmp_path / "notes.png"
    junk.write_text("not a picture")
    page.set_input_files('[data-testid="image-input"]', str(junk))
    error = page.locator('[data-testid="error"]')
    error.wait_for()
    assert "could not be used as an image" in error.inner_text()
    # the previous photo and map stay on screen
    assert page.evaluate(READ_MAP)["hash"] == before["hash"]
    page.locator('[data-testid="sample-camera"]').click()
    _wait_map(page, before["version"])
    assert error.is_hidden()


def test_choosing_a_preset_changes_the_map(page: Any) -> None:
    first = _open(page)
    blurred = _change_and_wait(
        page, lambda: page.select_option('[data-testid="kernel-preset"]', "box_blur_5x5"))
    assert blurred["hash"] != first["hash"]
    # a 5x5 kernel without padding trims two pixels from every side
    assert (blurred["w"], blurred["h"]) == (first["w"] - 2, first["h"] - 2)
    assert page.locator('[data-testid="kernel-cell-4-4"]').input_value() not in ("", "0")
    assert page.locator('[data-testid="custom-badge"]').is_hidden()


def test_editing_a_cell_marks_the_kernel_custom(page: Any) -> None:
    _open(page)
    page.select_option('[data-testid="kernel-preset"]', "identity")
    _settled(page)
    before = page.evaluate(READ_MAP)
    after = _change_and_wait(page, lambda: page.fill('[data-testid="kernel-cell-1-1"]', "-1"))
    assert "custom" in page.locator('[data-testid="custom-badge"]').inner_text()
    assert page.locator('[data-testid="kernel-preset"]').input_value() == "identity"
    assert after["hash"] != before["hash"]
    page.click('[data-testid="reset"]')
    assert page.locator('[data-testid="kernel-cell-1-1"]').input_value() == "1"
    assert page.locator('[data-testid="custom-badge"]').is_hidden()


def test_non_square_kernel_and_normalise(page: Any) -> None:
    _open(page)
    page.select_option('[data-testid="kernel-preset"]', "box_blur_3x3")
    _settled(page)
    page.select_option('[data-testid="kernel-rows"]', "1")
    page.select_option('[data-testid="kernel-cols"]', "5")
    digest = _settled(page)
    shape = page.locator('[data-testid="output-shape"]').inner_text()
    assert shape.replace(" ", "") == f"1×{digest['h']}×{digest['w']}"
    assert page.locator('[data-testid="kernel-cell-0-4"]').count() == 1
    for c in range(5):
        page.fill(f'[data-testid="kernel-cell-0-{c}"]', "2")
    page.click('[data-testid="normalise"]')
    assert page.locator('[data-testid="kernel-cell-0-0"]').input_value() == ".2"


@pytest.mark.parametrize(
    ("padding", "stride", "expected"),
    [("valid", 1, (254, 168)), ("same", 1, (256, 170)), ("full", 1, (258, 172)),
     ("same", 2, (128, 85)), ("valid", 3, (85, 56))],
)
def test_padding_and_stride_give_the_formula_size(
    page: Any, padding: str, stride: int, expected: tuple[int, int]
) -> None:
    _open(page, "?sample=chelsea&p=sobel_x")
    page.select_option('[data-testid="padding"]', padding)
    page.fill('[data-testid="stride"]', str(stride))
    digest = _settled(page)
    assert (digest["w"], digest["h"]) == expected
    formulas = page.locator('[data-testid="formula"]').inner_text()
    assert f"= {expected[1]}" in formulas and f"= {expected[0]}" in formulas


def test_hover_shows_the_window_arithmetic(page: Any) -> None:
    _open(page, "?c=gray&p=sharpen")
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    math = page.locator(MATH)
    math.locator('[data-testid="math-result"]').wait_for()
    text = math.inner_text()
    assert "Products" in text and "bias" in text
    # 3 grids of 3x3 numbers: window, kernel, products
    assert math.locator(".mgrid span").count() == 27
    # The panel's result equals the server's convolution at that cell.
    cell = re.search(r"row (\d+), column (\d+)", text)
    assert cell
    r, c = int(cell.group(1)), int(cell.group(2))
    body = page.evaluate("() => window.svertka.store.get()")
    answer = page.request.post(f"{page.base_url}/api/conv", data={
        "image_id": body["imageId"], "color": "gray", "max_side": 256,
        "kernel": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    }).json()
    value = answer["output"][r][c]
    shown = float(math.locator('[data-testid="math-result"]').inner_text().split(":")[-1]
                  .replace("−", "-").replace(",", ".").strip())
    assert shown == pytest.approx(value, abs=1e-3)
    # the receptive field is drawn on the input overlay
    painted = page.evaluate("""() => {
      const o = document.querySelector('#input-overlay');
      const d = o.getContext('2d').getImageData(0, 0, o.width, o.height).data;
      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")
    assert painted > 0


def test_keyboard_arrows_move_the_window(page: Any) -> None:
    _open(page, "?c=gray")
    page.locator(MAP).click(position={"x": 1, "y": 1})
    math = page.locator(MATH)
    expect_text(math, "row 0, column 0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect_text(math, "row 2, column 1")
    page.wait_for_function("() => /sel=2(%2C|,)1/.test(location.search)")


def expect_text(locator: Any, text: str) -> None:
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text)


def test_a_newer_request_cancels_the_previous_one(page: Any) -> None:
    _open(page)
    outcome = page.evaluate("""async () => {
      const api = await import('/static/js/api.js');
      const body = {...window.svertka.store.get()};
      const req = {image_id: body.imageId, color: 'gray', max_side: 512,
                   kernel: [[1, 0], [0, -1]], display: {mode: 'stretch'}};
      const latest = api.latestOnly();
      const first = latest((signal) => api.convRender(req, {signal})).then(
        () => 'finished', (e) => (api.isAbort(e) ? 'aborted' : e.message));
      const second = latest((signal) => api.convRender({...req, stride: 2}, {signal}));
      return [await first, (await second).shape];
    }""")
    assert outcome[0] == "aborted"
    assert outcome[1][-1] < 300  # the second (stride 2) answer arrived


def test_flip_shows_the_turned_kernel(page: Any) -> None:
    _open(page, "?c=gray&p=sobel_x")
    before = page.evaluate(READ_MAP)
    after = _change_and_wait(page, lambda: page.check('[data-testid="flip"]'))
    assert after["hash"] != before["hash"]  # sobel turned by 180 degrees changes sign
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect_text(page.locator(MATH), "Kernel, flipped")
    # the first row of the shown kernel is sobel_x's last row reversed: 1 0 -1
    cells = page.locator(MATH).locator(".mgrid").nth(1).locator("span").all_inner_texts()
    assert [c.replace("−", "-") for c in cells[:3]] == ["1", "0", "-1"]


def test_padding_cells_are_marked_in_the_window(page: Any) -> None:
    _open(page, "?c=gray&pad=same&res=64")
    page.locator(MAP).click(position={"x": 1, "y": 1})
    expect_text(page.locator(MATH), "row 0, column 0")
    window = page.locator(MATH).locator(".mgrid").first
    # the 3x3 window at the corner reads 5 zeros of padding (top row and left column)
    assert window.locator("span.padded").count() == 5


def test_per_channel_kernels_are_independent(page: Any) -> None:
    _open(page, "?c=rgb&km=per&p=identity")
    page.click('[data-testid="kernel-tab-1"]')
    before = page.evaluate(READ_MAP)["version"]
    page.fill('[data-testid="kernel-cell-1-1"]', "3")
    _wait_map(page, before)
    page.click('[data-testid="kernel-tab-0"]')
    assert page.locator('[data-testid="kernel-cell-1-1"]').input_value() == "1"
    page.click('[data-testid="kernel-tab-1"]')
    assert page.locator('[data-testid="kernel-cell-1-1"]').input_value() == "3"
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    total = page.locator(MATH).locator('[data-testid="math-total"]')
    total.wait_for()
    # the sum line adds three channel sums: R*1 + G*3 + B*1
    assert total.inner_text().count("+") >= 2


def test_display_mode_changes_the_legend(page: Any) -> None:
    _open(page, "?c=gray&p=sharpen&disp=stretch")
    stretched = page.evaluate(READ_MAP)
    legend = page.locator('[data-testid="legend"]')
    low = float(legend.locator(".legend-min").inner_text().replace("−", "-").replace(",", "."))
    assert low < 0  # sharpening overshoots below black
    clipped = _change_and_wait(
        page, lambda: page.select_option('[data-testid="display-mode"]', "clip"))
    assert clipped["hash"] != stretched["hash"]
    assert legend.inner_text().split() == ["0", "255"]
    # clipping hides part of the data: the caption says how far it really goes
    assert "run from" in page.locator("#display-caption").inner_text()


def test_shape_story_explains_stride_and_padding(page: Any) -> None:
    _open(page, "?c=gray&pad=same&s=2")
    story = page.locator('[data-testid="shape-story"]').inner_text()
    assert "jumps 2 pixels" in story and "padded image of 171×257" in story
    assert "170×256 input (rows × columns) gives a 85×128 map" in story


def test_copy_link_reproduces_the_view(page: Any, context: Any) -> None:
    _open(page, "?c=gray&p=emboss&s=2")
    page.click('[data-testid="share"]')
    link = page.evaluate("navigator.clipboard.readText()")
    assert "p=emboss" in link and "s=2" in link


def test_rgb_strip_shows_three_channels_and_sum(page: Any) -> None:
    _open(page, "?c=rgb&km=per")
    strip = page.locator('[data-testid="channel-strip"]')
    strip.locator("canvas").nth(3).wait_for()
    assert strip.locator("canvas").count() == 4
    assert page.locator('[data-testid="kernel-tab-2"]').is_visible()
    # per-channel hover: three rows of window x kernel = products
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.locator(MATH).locator('[data-testid="math-result"]').wait_for()
    assert page.locator(MATH).locator(".mgrid").count() == 9


def test_keep_colours_draws_a_colour_map(page: Any) -> None:
    _open(page, "?c=rgb&km=depthwise&p=gaussian_5x5")
    colourful = page.evaluate("""() => {
      const c = document.querySelector('[data-testid="feature-map"]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 30) n++;
      return n; }""")
    assert colourful > 100


def test_invalid_setting_explains_itself_and_offers_a_fix(page: Any) -> None:
    page.allow_console(r"status of 422")
    first = _open(page, "?res=32&c=gray&p=box_blur_5x5")
    page.fill('[data-testid="dilation"]', "12")
    error = page.locator('[data-testid="error"]')
    error.wait_for()
    message = page.locator('[data-testid="error-message"]').inner_text()
    assert "dilation" in message or "padding" in message
    # never blank: the last good map is still there
    assert page.evaluate(READ_MAP)["nonzero"] > 0
    assert page.locator('[data-testid="formula"] li.bad').count() >= 1
    fix = page.locator('[data-testid="error-fix"]')
    assert fix.is_visible()
    before = page.evaluate(READ_MAP)["version"]
    fix.click()
    _wait_map(page, before)
    assert error.is_hidden()
    assert page.evaluate(READ_MAP)["nonzero"] > 0
    assert first["w"] > 0


def test_pooling_window_larger_than_the_map_is_fixed_in_one_click(page: Any) -> None:
    page.allow_console(r"status of 422")
    _open(page, "?res=32&c=gray&p=box_blur_5x5&pool=max")
    page.fill('[data-testid="pool-size"]', "40")
    page.locator('[data-testid="error"]').wait_for()
    assert "pooling" in page.locator('[data-testid="error-why"]').inner_text()
    fix = page.locator('[data-testid="error-fix"]')
    assert "Window" in fix.inner_text()
    before = page.evaluate(READ_MAP)["version"]
    fix.click()
    digest = _wait_map(page, before)
    assert digest["w"] >= 1 and page.locator('[data-testid="error"]').is_hidden()
    assert int(page.locator('[data-testid="pool-size"]').input_value()) < 40


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_invalid_number_is_explained_not_frozen(page: Any, padding: str) -> None:
    page.allow_console(r"status of 422")
    _open(page, f"?pad={padding}")
    page.fill('[data-testid="stride"]', "0")
    page.locator('[data-testid="error"]').wait_for()
    assert "stride" in page.locator('[data-testid="error-message"]').inner_text()
    before = page.evaluate(READ_MAP)["version"]
    page.fill('[data-testid="stride"]', "2")
    _wait_map(page, before)
    assert page.locator('[data-testid="error"]').is_hidden()


def test_url_round_trips_the_state(page: Any, watched: Any) -> None:
    _open(page)
    page.select_option('[data-testid="kernel-preset"]', "gaussian_3x3")
    page.click('[data-testid="color-gray"]')
    page.select_option('[data-testid="padding"]', "same")
    page.fill('[data-testid="stride"]', "2")
    page.select_option('[data-testid="activation"]', "relu")
    page.fill('[data-testid="kernel-cell-0-0"]', "0.5")
    page.select_option('[data-testid="display-mode"]', "clip")
    digest = _settled(page)
    page.wait_for_function("() => location.search.includes('k=')")
    url = page.url
    query = parse_qs(urlparse(url).query)
    assert query["s"] == ["2"] and query["pad"] == ["same"] and query["c"] == ["gray"]

    other = watched()
    other.goto(url)
    again = _wait_map(other)
    assert (again["w"], again["h"], again["hash"]) == (digest["w"], digest["h"], digest["hash"])
    assert other.locator('[data-testid="kernel-cell-0-0"]').input_value() == ".5"
    assert other.locator('[data-testid="kernel-preset"]').input_value() == "gaussian_3x3"
    assert other.locator('[data-testid="custom-badge"]').is_visible()
    assert other.locator('[data-testid="stride"]').input_value() == "2"
    assert other.locator('[data-testid="padding"]').input_value() == "same"
    assert other.locator('[data-testid="activation"]').input_value() == "relu"
    assert other.locator('[data-testid="display-mode"]').input_value() == "clip"


def test_language_switch_is_remembered(page: Any) -> None:
    _open(page)
    page.click('[data-testid="lang-ru"]')
    assert page.locator("h1").inner_text() == "Песочница: ядра на фотографиях"
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 30)
    expect_text(page.locator(MATH), "Произведения")
    page.reload()
    _wait_map(page)
    assert page.locator("h1").inner_text() == "Песочница: ядра на фотографиях"
    assert page.evaluate("document.documentElement.lang") == "ru"
    page.click('[data-testid="lang-en"]')
    assert page.locator("h1").inner_text() == "Playground: kernels on photos"


def test_pooling_explains_the_window(page: Any) -> None:
    first = _open(page, "?c=gray")
    page.select_option('[data-testid="pool"]', "max")
    pooled = _settled(page)
    assert pooled["w"] == first["w"] // 2
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect_text(page.locator(MATH), "Pooling window")


@pytest.mark.parametrize(
    ("width", "height", "projector"),
    [(1280, 800, False), (1920, 1080, False), (1920, 1080, True), (1280, 800, True)],
)
def test_screenshots(browser: Any, watched: Any, shots_dir: Path, width: int, height: int,
                     projector: bool) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    try:
        page = watched(ctx)
        _open(page, "?theme=projector" if projector else "")
        if projector:
            assert page.evaluate("document.documentElement.dataset.theme") == "projector"
        box = page.locator(MAP).bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.45)
        page.locator(MATH).locator('[data-testid="math-result"]').wait_for()
        page.wait_for_timeout(150)
        name = f"playground-{width}x{height}{'-projector' if projector else ''}.png"
        page.screenshot(path=str(shots_dir / name))
        page.screenshot(path=str(shots_dir / name.replace(".png", "-full.png")), full_page=True)
        # nothing spills sideways at this size
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        ctx.close()


def test_projector_toggle_switches_theme(page: Any) -> None:
    _open(page)
    toggle = page.locator('[data-testid="projector-toggle"]')
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"
    assert toggle.get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"
    page.locator('[data-testid="projector-toggle"]').click()
    assert page.evaluate("document.documentElement.dataset.theme") is None
