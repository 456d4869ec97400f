"""The playground in a real Chromium: photos in, feature maps out, arithmetic under the cursor."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.e2e

MAP = '[data-testid="feature-map"]'
MATH = '[data-testid="window-math"]'
IDLE = "() => !document.querySelector('#output-box').classList.contains('busy')"
# no debounced update armed, no answer unread (static/js/pending.js), and the map painted
SETTLED = ("() => document.documentElement.dataset.pending === '0'"
           " && !document.querySelector('#output-box').classList.contains('busy')")

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
    page.wait_for_function(SETTLED)
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


def test_keep_colours_with_pooling_shows_a_pooling_window_per_channel(page: Any) -> None:
    _open(page, "?c=rgb&km=depthwise&p=gaussian_3x3&pool=max")
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator(MATH).locator('[data-testid="math-result"]').nth(2).wait_for()
    pools = page.locator(MATH).locator(".math-row-pool")
    assert pools.count() == 3
    assert [pools.nth(i).get_attribute("data-channel") for i in range(3)] == ["0", "1", "2"]
    assert [pools.nth(i).locator(".math-ch").inner_text() for i in range(3)] == ["R", "G", "B"]
    # each channel's window holds its own numbers, and each has its own winner and detail
    assert pools.locator(".mgrid .win").count() == 3
    assert page.locator(MATH).locator('[data-testid="math-result"]').count() == 3
    windows = [pools.nth(i).locator(".mgrid").inner_text() for i in range(3)]
    assert len(set(windows)) > 1


def test_invalid_setting_explains_itself_and_offers_a_fix(page: Any) -> None:
    page.allow_console(r"status of 422")
    first = _open(page, "?res=32&c=gray&p=box_blur_5x5")
    page.fill('[data-testid="dilation"]', "12")
    error = page.locator('[data-testid="error"]')
    error.wait_for()
    # the server's own words are folded under the explanation, but there
    message = page.locator('[data-testid="error-message"]').text_content()
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
    assert "stride" in page.locator('[data-testid="error-message"]').text_content()
    # a stride of 0 would divide by zero: the shape says "?", never "Infinity"
    shape = page.locator('[data-testid="shape-value"]').inner_text()
    assert "Infinity" not in shape and "?" in shape
    assert "Infinity" not in page.locator('[data-testid="formula"]').inner_text()
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
        page.wait_for_function(SETTLED)  # the debounced math and map repaints are done
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


# ---- found in the QA pass: layout, per-axis settings, leaky slope, pool padding, edge photos --

def _bodies(page: Any, path: str) -> list[dict[str, Any]]:
    """Collect the JSON bodies the page posts to `path` (appended as they go out)."""
    seen: list[dict[str, Any]] = []
    page.on("request", lambda r: seen.append(r.post_data_json)
            if r.method == "POST" and urlparse(r.url).path == path else None)
    return seen


def _spatial(page: Any, testid: str = "output-shape") -> tuple[int, int]:
    """(rows, cols) of a "C × H × W" shape label."""
    parts = page.locator(f'[data-testid="{testid}"]').inner_text().split(" × ")
    return int(parts[1]), int(parts[2].split(" ")[0])


def _upload(page: Any, tmp_path: Path, name: str, img: Image.Image) -> dict[str, Any]:
    before = page.evaluate(READ_MAP)["version"]
    path = tmp_path / name
    img.save(path)
    page.set_input_files('[data-testid="image-input"]', str(path))
    return _wait_map(page, before)


def test_projector_wide_screen_shows_map_and_arithmetic_together(watched: Any,
                                                                 browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    try:
        page = watched(ctx)
        _open(page, "?theme=projector")
        box = page.locator(MAP).bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        page.locator(MATH).locator('[data-testid="math-result"]').wait_for()
        fmap = page.locator(MAP).bounding_box()
        total = page.locator(MATH).locator('[data-testid="math-total"]').bounding_box()
        # both on screen at once, without scrolling, the arithmetic beside the map
        assert page.evaluate("window.scrollY") == 0
        assert fmap["y"] + fmap["height"] <= 1080
        assert total["y"] + total["height"] <= 1080
        assert total["x"] > fmap["x"] + fmap["width"]
    finally:
        ctx.close()


@pytest.mark.parametrize(("field", "value", "key"), [
    ("stride", "2, 1", "s"), ("dilation", "1, 3", "d"), ("padding-amount", "0, 2", "pn"),
])
def test_per_axis_settings_change_one_side_and_round_trip(page: Any, watched: Any, field: str,
                                                          value: str, key: str) -> None:
    _open(page, "?c=gray&res=64&p=box_blur_3x3" + ("&pad=number" if key == "pn" else ""))
    rows, cols = _spatial(page)
    bodies = _bodies(page, "/api/conv/render")
    _change_and_wait(page, lambda: page.fill(f'[data-testid="{field}"]', value))
    a, b = (int(v) for v in value.split(", "))
    api_key = {"s": "stride", "d": "dilation", "pn": "padding"}[key]
    assert bodies[-1][api_key] == [a, b]
    new_rows, new_cols = _spatial(page)
    if key == "s":
        assert (new_rows, new_cols) == ((rows - 1) // 2 + 1, cols)
    elif key == "d":
        assert (new_rows, new_cols) == (rows, cols - 4)
    else:  # from 1 on every side to 0 above and below, 2 left and right
        assert (new_rows, new_cols) == (rows - 2, cols + 2)
    shape_text = page.locator('[data-testid="shape-value"]').inner_text()
    assert shape_text.endswith(f"{new_rows} × {new_cols}")
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('{key}') === '{a},{b}'")
    other = watched()
    other.goto(page.url)
    _wait_map(other)
    assert other.locator(f'[data-testid="{field}"]').input_value() == value
    assert _spatial(other) == (new_rows, new_cols)


def test_per_axis_field_keeps_arrow_keys(page: Any) -> None:
    _open(page, "?c=gray&res=64")
    page.fill('[data-testid="stride"]', "2, 1")
    page.focus('[data-testid="stride"]')
    page.keyboard.press("ArrowUp")
    assert page.locator('[data-testid="stride"]').input_value() == "3, 2"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    # (1, 1) is the same as 1 for both axes, and never goes below 1
    assert page.locator('[data-testid="stride"]').input_value() == "1"


def test_leaky_relu_slope_is_editable_and_sent(page: Any) -> None:
    _open(page, "?c=gray&res=64&p=sobel_x")
    assert page.locator('[data-testid="slope"]').is_hidden()
    bodies = _bodies(page, "/api/conv/render")
    page.select_option('[data-testid="activation"]', "leaky_relu")
    _change_and_wait(page, lambda: page.fill('[data-testid="slope"]', "0.25"))
    assert bodies[-1]["activation"] == {"name": "leaky_relu", "negative_slope": 0.25}
    page.wait_for_function("() => location.search.includes('ns=0.25')")
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    expect_text(page.locator(MATH).locator('[data-testid="math-result"]'), "Leaky ReLU")


def test_pool_padding_is_sent_and_drawn_in_the_window(page: Any) -> None:
    _open(page, "?c=gray&res=64&p=sobel_x&pool=max")
    rows = int(page.locator('[data-testid="output-shape"]').inner_text().split(" × ")[1])
    bodies = _bodies(page, "/api/conv/render")
    _change_and_wait(page, lambda: page.fill('[data-testid="pool-padding"]', "1"))
    assert bodies[-1]["pool"]["padding"] == 1
    new_rows = int(page.locator('[data-testid="output-shape"]').inner_text().split(" × ")[1])
    assert new_rows == rows + 1  # 62 rows of conv output: (62 + 2 - 2) // 2 + 1 = 32, not 31
    page.locator(MAP).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")  # pinned at (0, 0): its pooling window hangs over the corner
    math = page.locator(MATH)
    expect_text(math, "−∞")
    assert "Padding" in page.locator('label[for="pool-pad"]').inner_text()


def test_photo_of_one_pixel_explains_itself_in_russian_and_hides_the_old_map(
        page: Any, tmp_path: Path) -> None:
    page.allow_console(r"status of 422")
    _open(page, "?c=gray&res=64")
    page.click('[data-testid="lang-ru"]')
    path = tmp_path / "one.png"
    Image.new("RGB", (1, 1), (200, 50, 50)).save(path)
    page.set_input_files('[data-testid="image-input"]', str(path))
    error = page.locator('[data-testid="error"]')
    error.wait_for()
    why = page.locator('[data-testid="error-why"]').inner_text()
    assert "окно" in why and "1" in why
    # the server's English sits folded under our explanation
    assert page.locator("#error-more").get_attribute("open") is None
    assert page.locator('[data-testid="error-message"]').is_hidden()
    # the map of the previous photo is not left on screen beside a 1x1 input
    assert page.locator("#output-stack").is_hidden()
    assert page.locator("#output-empty").is_visible()
    before = page.evaluate(READ_MAP)["version"]
    page.click('[data-testid="error-fix"]')
    _wait_map(page, before)
    assert page.locator('[data-testid="output-shape"]').inner_text() == "1 × 1 × 1"
    page.locator(MAP).focus()
    page.keyboard.press("ArrowRight")
    expect_text(page.locator(MATH), "95")  # grey of (200, 50, 50)
    # a negative weight times a zero of the padding is 0, never "−0"
    assert "−0 " not in page.locator(MATH).inner_text() + " "
    assert "−0\n" not in page.locator(MATH).inner_text()


@pytest.mark.parametrize(("size", "longest"), [((4000, 3000), 256), ((30, 900), 256)],
                         ids=["big-photo", "tall-narrow"])
def test_big_and_odd_photos_are_downscaled_and_drawn(page: Any, tmp_path: Path,
                                                     size: tuple[int, int], longest: int) -> None:
    _open(page, "?c=gray")
    img = Image.new("RGB", size, (30, 60, 90))
    img.paste((230, 200, 40), (size[0] // 3, size[1] // 3, 2 * size[0] // 3, 2 * size[1] // 3))
    digest = _upload(page, tmp_path, "photo.jpg", img)
    assert page.locator('[data-testid="image-size"]').inner_text().endswith(f"{size[0]}×{size[1]}")
    assert digest["nonzero"] > 0
    shape = _spatial(page, "input-shape")
    assert max(shape) == longest
    assert page.locator('[data-testid="error"]').is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_slow_network_and_rapid_changes_end_on_the_last_setting(page: Any) -> None:
    _open(page, "?c=gray&res=64")
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)  # every answer waits for the last setting's request
        if len(held) == 6:
            # the last setting is answered first, the stale ones after it (aborted ones fail)
            for waiting in reversed(held):
                with contextlib.suppress(PlaywrightError):
                    waiting.continue_()

    page.route("**/api/conv/render", hold)

    def change(action: Any) -> None:
        with page.expect_request("**/api/conv/render"):  # each setting sends its own request
            action()

    for value in ["2", "3", "1, 2", "4", "2, 3"]:
        change(lambda value=value: page.fill('[data-testid="stride"]', value))
    change(lambda: page.select_option('[data-testid="padding"]', "same"))
    # 43 x 64 photo, same padding, stride (2, 3): ceil(43/2) x ceil(64/3)
    page.wait_for_function(
        "() => document.querySelector('#output-meta').textContent === '1 × 22 × 22'"
        " && !document.querySelector('#output-box').classList.contains('busy')", timeout=20_000)
    assert page.evaluate(READ_MAP)["w"] == 22
    assert page.locator('[data-testid="error"]').is_hidden()


def test_keyboard_shortcuts_switch_projector_and_jump_to_the_map(page: Any) -> None:
    _open(page, "?c=gray&res=64")
    page.keyboard.press("p")
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"
    page.keyboard.press("m")
    assert page.evaluate("document.activeElement.dataset.testid") == "feature-map"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => new URLSearchParams(location.search).get('sel') === '1,1'")
    expect_text(page.locator(MATH), "row 1, column 1")
    # typing in a field never triggers a shortcut
    page.fill('[data-testid="bias"]', "")
    page.focus('[data-testid="bias"]')
    page.keyboard.press("p")
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"


@pytest.mark.parametrize("path", ["/", "/step"])
def test_keyboard_focus_is_always_visible_in_projector_mode(watched: Any, browser: Any,
                                                            path: str) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    try:
        page = watched(ctx)
        page.goto(f"{page.base_url}{path}?theme=projector")
        page.wait_for_load_state("networkidle")
        probe = """() => { const e = document.activeElement;
          if (!e || e === document.body) return null;
          const cs = getComputedStyle(e);
          return {what: e.dataset.testid || e.id || e.tagName,
                  ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2)
                        || cs.boxShadow !== 'none'}; }"""
        unseen = []
        for _ in range(45):
            page.keyboard.press("Tab")
            info = page.evaluate(probe)
            if info and not info["ring"]:
                unseen.append(info["what"])
        assert unseen == []
    finally:
        ctx.close()


@pytest.mark.parametrize("path", ["/?c=rgb&pool=max&act=leaky_relu&pad=number", "/step"])
def test_every_string_exists_in_english_and_russian(page: Any, path: str) -> None:
    """Every key the page's markup names, and every key either language defines, exists in both."""
    page.goto(f"{page.base_url}{path}")
    page.wait_for_load_state("networkidle")
    result = page.evaluate("""async () => {
      const { missingKeys, setLang, t } = await import('/static/js/i18n.js');
      const used = new Set();
      const attrs = ['i18n', 'i18nTitle', 'i18nAriaLabel', 'i18nHtml'];
      const sel = '[data-i18n],[data-i18n-title],[data-i18n-aria-label],[data-i18n-html]';
      for (const el of document.querySelectorAll(sel)) {
        for (const a of attrs) if (el.dataset[a]) used.add(el.dataset[a]);
      }
      const unknown = [...used].filter((k) => t(k) === k);
      setLang('ru');
      const same = [...used].filter((k) => t(k) === undefined);
      setLang('en');
      return { missing: missingKeys(), unknown, same };
    }""")
    assert result == {"missing": {"en": [], "ru": []}, "unknown": [], "same": []}

def test_pool_padding_over_half_the_window_is_fixed_in_one_click(page: Any) -> None:
    page.allow_console(r"status of 422")
    _open(page, "?res=32&c=gray&pool=max")
    page.fill('[data-testid="pool-padding"]', "3")
    page.locator('[data-testid="error"]').wait_for()
    fix = page.locator('[data-testid="error-fix"]')
    assert "Padding = 1" in fix.inner_text()
    before = page.evaluate(READ_MAP)["version"]
    fix.click()
    _wait_map(page, before)
    assert page.locator('[data-testid="pool-padding"]').input_value() == "1"
    assert page.locator('[data-testid="error"]').is_hidden()


def test_invalid_per_axis_value_is_mended_on_its_own_axis(page: Any) -> None:
    page.allow_console(r"status of 422")
    _open(page, "?c=gray&res=32")
    page.fill('[data-testid="stride"]', "0, 2")
    page.locator('[data-testid="error"]').wait_for()
    assert "(1, 2)" in page.locator('[data-testid="error-fix"]').inner_text()
    before = page.evaluate(READ_MAP)["version"]
    page.click('[data-testid="error-fix"]')
    _wait_map(page, before)
    assert page.locator('[data-testid="stride"]').input_value() == "1, 2"


def test_leaky_slope_and_pool_padding_round_trip_through_the_url(page: Any, watched: Any) -> None:
    _open(page, "?c=gray&res=64&act=leaky_relu&ns=0.2&pool=avg&pp=1")
    assert page.locator('[data-testid="slope"]').input_value() == "0.2"
    assert page.locator('[data-testid="pool-padding"]').input_value() == "1"
    other = watched()
    other.goto(page.url)
    again = _wait_map(other)
    assert again["hash"] == page.evaluate(READ_MAP)["hash"]
    assert other.locator('[data-testid="slope"]').is_visible()


def test_projector_fits_a_5x5_colour_window_with_pooling_on_screen(watched: Any,
                                                                   browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    try:
        page = watched(ctx)
        _open(page, "?theme=projector&p=box_blur_5x5&pool=max")
        box = page.locator(MAP).bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        total = page.locator(MATH).locator('[data-testid="math-total"]')
        total.wait_for()
        bottom = total.bounding_box()
        assert bottom["y"] + bottom["height"] <= 1080
        # each channel's window, kernel, products and sum stay on one line
        rows = page.locator(f"{MATH} .math-row[data-channel]")
        assert rows.count() == 3
        for i in range(3):
            assert rows.nth(i).bounding_box()["height"] < 220
    finally:
        ctx.close()


@pytest.mark.parametrize(("width", "height", "beside"), [(1920, 1080, True), (1280, 800, False)])
def test_wide_normal_theme_puts_the_arithmetic_beside_the_map(
    watched: Any, browser: Any, width: int, height: int, beside: bool
) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    try:
        page = watched(ctx)
        _open(page, "?c=gray&p=sobel_x")
        assert page.evaluate("document.documentElement.dataset.theme") is None
        box = page.locator(MAP).bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        result = page.locator(MATH).locator('[data-testid="math-result"]')
        result.wait_for()
        math = page.locator(MATH).bounding_box()
        views = page.locator("#views").bounding_box()
        if beside:  # map and its arithmetic are both on screen, side by side, without scrolling
            assert math["x"] >= views["x"] + views["width"]
            assert box["y"] + box["height"] <= height
            res = result.bounding_box()
            assert res["y"] + res["height"] <= height
        else:  # a laptop keeps the stacked layout: the arithmetic sits below the pictures
            assert math["y"] >= views["y"] + views["height"]
    finally:
        ctx.close()
