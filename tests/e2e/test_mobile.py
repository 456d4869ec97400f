"""Phones and tablets in a real Chromium with mobile emulation (touch, a device-width viewport).

A student opens the teacher's QR link on a phone: every page must fit the screen without sideways
scrolling (Chromium would otherwise widen the layout viewport and zoom the page out), the controls
must be big enough for fingers, and a tap must do what hovering does with a mouse. Tablets and a
1280x800 laptop keep their layouts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

READY = '[data-testid="step-page"][aria-busy="false"]'
FORMULA = '[data-testid="frame-formula"]'
NOTE = '[data-testid="hover-note"]'
MAP = '[data-testid="feature-map"]'
MATH = '[data-testid="window-math"]'
FRAME = '[data-testid="room-frame"]'
PHONE = (390, 844)

# The page's width against the screen's: with mobile emulation an overflowing page does not
# scroll, it widens the layout viewport (innerWidth grows past the device width) and zooms out.
FIT = """() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth,
                screen.width]"""

# Visible controls a finger must hit, with their sizes (cells of the drawings are not controls).
CONTROLS = """() => {
  const sel = 'button, select, input:not([type=checkbox]):not([type=radio]):not([type=file]),'
    + ' .site-nav a, summary, label.check';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('.st-grid, .ideas-grid, .st-stack-layers, .samples, .skip-link')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
    const name = el.dataset.testid || el.id || el.className || el.tagName;
    out.push([String(name), Math.round(r.height * 10) / 10]);
  }
  return out;
}"""


@pytest.fixture
def device(browser: Any, watched: Any) -> Iterator[Any]:
    """Pages in browser contexts of a given size; touch (a phone or a tablet) unless told not."""
    contexts: list[Any] = []

    def make(width: int, height: int, *, touch: bool = True, lang: str | None = None) -> Any:
        ctx = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=3 if touch else 1,
            is_mobile=touch, has_touch=touch, locale="en-US",
        )
        ctx.set_default_timeout(15_000)
        if lang:
            ctx.add_init_script(f"localStorage.setItem('svertka.lang', '{lang}')")
        contexts.append(ctx)
        return watched(ctx)

    yield make
    for ctx in contexts:
        ctx.close()


def _room(base: str) -> str:
    answer = httpx.post(f"{base}/api/rooms", json={})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["room"])


def _open(pg: Any, path: str) -> None:
    pg.goto(pg.base_url + path)
    if path.startswith("/step"):
        pg.wait_for_selector(READY)
    elif path.startswith("/room/"):
        expect(pg.get_by_test_id("room-status")).not_to_be_empty()
    elif path == "/" or path.startswith("/?"):
        pg.wait_for_function("() => +document.querySelector('[data-testid=\"feature-map\"]')"
                             ".dataset.version > 0")
    pg.wait_for_load_state("networkidle")


def _assert_fits(pg: Any, width: int) -> None:
    doc, body, inner, screen = pg.evaluate(FIT)
    assert screen == width
    assert inner == width, f"the layout viewport widened to {inner} px (content overflows)"
    assert doc <= width and body <= width, f"the page scrolls sideways: {doc}, {body} > {width}"


def _cell_at(pg: Any, fx: float, fy: float) -> tuple[list[int], dict[str, float]]:
    """The output cell of the feature map under a point at fractions (fx, fy) of its box."""
    box = pg.locator(MAP).bounding_box()
    # the canvas holds one pixel per output cell (the stylesheet enlarges it)
    rows, cols = pg.locator(MAP).evaluate("c => [c.height, c.width]")
    point = {"x": box["x"] + box["width"] * fx, "y": box["y"] + box["height"] * fy}
    return [int(fy * rows), int(fx * cols)], point


# ---- fitting the screen ---------------------------------------------------------------------

PAGES = ["/", "/step?scene=conv5x5", "/step?scene=rgb", "/step?scene=filters",
         "/step?scene=volume3d", "/step?scene=t_stride_pad", "/network", "/digits", "/room"]


@pytest.mark.parametrize("width", [360, 390, 430])
@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_phone_without_sideways_scrolling(device: Any, live_server: str, path: str,
                                                      width: int) -> None:
    pg = device(width, 800)
    if path == "/room":
        path = f"/room/{_room(live_server)}"
    _open(pg, path)
    _assert_fits(pg, width)
    # the header folded behind its menu button; open, the menu fits too
    expect(pg.get_by_test_id("nav-step")).to_be_hidden()
    pg.get_by_test_id("menu-toggle").tap()
    expect(pg.get_by_test_id("nav-step")).to_be_visible()
    _assert_fits(pg, width)


def test_wide_parts_scroll_inside_their_own_box(device: Any) -> None:
    """A three-channel transposed stage is wider than a phone: its box scrolls, the page not."""
    pg = device(360, 740)
    _open(pg, "/step?scene=t_stride_pad")
    pg.get_by_test_id("view-gather").tap()
    host = pg.get_by_test_id("stage")
    sizes = host.evaluate("h => [h.scrollWidth, h.clientWidth, getComputedStyle(h).overflowX]")
    assert sizes[2] == "auto"
    _assert_fits(pg, 360)
    # the lesson's scenes are one row of chips that scrolls inside itself
    chips = pg.get_by_test_id("scene-list")
    assert chips.evaluate("l => l.scrollWidth > l.clientWidth")
    assert chips.evaluate("l => getComputedStyle(l).overflowX") == "auto"


def test_the_chosen_scene_is_scrolled_into_its_row(device: Any) -> None:
    pg = device(*PHONE)
    _open(pg, "/step?scene=volume3d")
    chip = pg.get_by_test_id("lesson-volume3d")
    expect(chip).to_have_attribute("aria-pressed", "true")
    row = pg.get_by_test_id("scene-list").bounding_box()
    box = chip.bounding_box()
    assert row["x"] - 1 <= box["x"] and box["x"] + box["width"] <= row["x"] + row["width"] + 1
    # a tap on another chip picks that scene
    pg.get_by_test_id("scene-list").evaluate("l => { l.scrollLeft = 0; }")
    pg.get_by_test_id("lesson-conv5x5").tap()
    expect(pg.get_by_test_id("lesson-conv5x5")).to_have_attribute("aria-pressed", "true")
    expect(pg).to_have_url(re.compile(r"scene=conv5x5"))


# ---- the header -------------------------------------------------------------------------------

def test_header_menu_opens_switches_language_navigates_and_closes(device: Any) -> None:
    pg = device(*PHONE)
    _open(pg, "/step?scene=conv5x5")
    toggle = pg.get_by_test_id("menu-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(pg.get_by_test_id("projector-toggle")).to_be_hidden()
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for testid in ("nav-playground", "nav-step", "nav-network", "lang-ru", "projector-toggle",
                   "live-start"):
        expect(pg.get_by_test_id(testid)).to_be_visible()
    # the language switch keeps the menu open, and the page speaks Russian
    pg.get_by_test_id("lang-ru").tap()
    expect(pg.locator("h1")).to_have_text("Свёртка по шагам")
    expect(toggle).to_have_attribute("aria-label", "Меню")
    expect(pg.get_by_test_id("nav-network")).to_be_visible()
    # a tap outside the header closes it; so does Escape
    pg.locator("h1").tap()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(pg.get_by_test_id("nav-network")).to_be_hidden()
    toggle.tap()
    pg.keyboard.press("Escape")
    expect(pg.get_by_test_id("nav-network")).to_be_hidden()
    # a link goes to its page
    toggle.tap()
    pg.get_by_test_id("nav-network").tap()
    expect(pg).to_have_url(re.compile(r"/network\b"))
    expect(pg.get_by_test_id("layer-list")).to_be_visible()
    _assert_fits(pg, PHONE[0])


def test_projector_toggle_works_from_the_menu(device: Any) -> None:
    pg = device(*PHONE)
    _open(pg, "/step?scene=conv5x5")
    pg.get_by_test_id("menu-toggle").tap()
    pg.get_by_test_id("projector-toggle").tap()
    expect(pg.locator("html")).to_have_attribute("data-theme", "projector")
    expect(pg.get_by_test_id("projector-toggle")).to_have_attribute("aria-pressed", "true")
    pg.wait_for_selector(READY)
    _assert_fits(pg, PHONE[0])


# ---- fingers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/step?scene=rgb", "/network", "/digits"])
@pytest.mark.parametrize("projector", [False, True], ids=["normal", "projector"])
def test_controls_are_finger_sized_on_a_touch_screen(device: Any, path: str,
                                                     projector: bool) -> None:
    pg = device(*PHONE)
    _open(pg, path + ("&" if "?" in path else "?") + "theme=projector" if projector else path)
    pg.get_by_test_id("menu-toggle").tap()  # the header's controls count too
    for summary in pg.locator("details:not([open]) > summary").all():
        if summary.is_visible():
            summary.tap()  # the scene setup forms
    controls = pg.evaluate(CONTROLS)
    assert len(controls) > 10
    small = [(name, h) for name, h in controls if h < 44]
    assert small == [], f"controls shorter than 44 px on a touch screen: {small}"


def test_a_laptop_keeps_its_compact_controls(device: Any) -> None:
    pg = device(1280, 800, touch=False)
    _open(pg, "/step?scene=conv5x5")
    assert pg.get_by_test_id("play").bounding_box()["height"] == 30
    assert pg.evaluate("matchMedia('(pointer: coarse)').matches") is False


def test_tap_and_drag_on_the_feature_map_move_the_window(device: Any) -> None:
    pg = device(*PHONE)
    _open(pg, "/")
    expect(pg.locator(MATH)).to_contain_text("Tap a pixel")
    pg.locator(MAP).scroll_into_view_if_needed()
    cell, point = _cell_at(pg, 0.3, 0.4)
    pg.touchscreen.tap(point["x"], point["y"])
    expect(pg.locator(MATH).get_by_test_id("math-result")).to_be_visible()
    assert pg.evaluate("window.svertka.store.get().selected") == cell
    scroll = pg.evaluate("scrollY")

    # a finger dragged over the map carries the window along (and does not scroll the page)
    end, target = _cell_at(pg, 0.7, 0.6)
    cdp = pg.context.new_cdp_session(pg)

    def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", point["x"], point["y"])
    for i in range(1, 9):
        f = i / 8
        touch("touchMove", point["x"] + (target["x"] - point["x"]) * f,
              point["y"] + (target["y"] - point["y"]) * f)
    touch("touchEnd", target["x"], target["y"])
    pg.wait_for_function("(c) => { const s = window.svertka.store.get().selected;"
                         " return s && s[0] === c[0] && s[1] === c[1]; }", arg=end)
    assert pg.evaluate("scrollY") == scroll
    expect(pg.locator(MATH)).to_contain_text(f"row {end[0]}, column {end[1]}")


def test_step_tap_pins_a_cell_and_a_second_tap_releases_it(device: Any) -> None:
    pg = device(*PHONE)
    _open(pg, "/step?scene=conv5x5")
    expect(pg.locator(NOTE)).to_contain_text("Tap an output cell")
    first = pg.locator(FORMULA).inner_text()
    cell = pg.locator('[data-testid="output-grid"] .st-cell').nth(4)
    cell.tap()
    expect(cell).to_have_class(re.compile(r"\bpinned\b"))
    expect(pg.locator(NOTE)).to_contain_text("Tap it again to release")
    pinned = pg.locator(FORMULA).inner_text()
    assert pinned != first
    # a second tap releases: no pin, and no hover left behind by the tap either
    cell.tap()
    expect(cell).not_to_have_class(re.compile(r"\bpinned\b"))
    expect(pg.locator(NOTE)).to_contain_text("Tap an output cell")
    expect(pg.locator(FORMULA)).to_have_text(first)
    # a tap on a kernel weight shows every input it multiplies; a second tap hides them
    weight = pg.locator('[data-testid="kernel-grid-0"] .st-cell').first
    weight.tap()
    expect(pg.locator(NOTE)).to_contain_text("multiplies the 9 highlighted inputs")
    assert pg.locator('[data-testid="input-grid-0"] .st-cell.mult').count() == 9
    weight.tap()
    expect(pg.locator(NOTE)).to_contain_text("Tap an output cell")
    assert pg.locator('[data-testid="input-grid-0"] .st-cell.mult').count() == 0
    # the buttons answer taps
    pg.get_by_test_id("step-forward").tap()
    expect(pg.get_by_test_id("frame-counter")).to_have_text("step 2 of 9")


def test_touch_wording_is_russian_too(device: Any) -> None:
    pg = device(*PHONE, lang="ru")
    _open(pg, "/step?scene=conv5x5")
    expect(pg.locator(NOTE)).to_contain_text("Коснитесь клетки выхода")
    pg.locator('[data-testid="output-grid"] .st-cell').first.tap()
    expect(pg.locator(NOTE)).to_contain_text("Коснитесь ещё раз")


def test_a_student_on_a_phone_follows_a_room_and_answers_by_tap(
        device: Any, page: Any, shots_dir: Path) -> None:
    teacher = page
    teacher.goto(teacher.base_url + "/step?scene=conv5x5")
    teacher.wait_for_selector(READY)
    teacher.get_by_test_id("live-start").click()
    code = teacher.get_by_test_id("live-big-code").inner_text()
    teacher.get_by_test_id("live-code-dialog").get_by_role("button", name="Close").click()

    student = device(*PHONE)
    student.goto(f"{student.base_url}/room/{code}")
    frame = student.frame_locator(FRAME)
    expect(frame.locator(FORMULA)).to_have_text(teacher.locator(FORMULA).inner_text())
    _assert_fits(student, PHONE[0])
    inner = frame.locator("html").evaluate(
        "h => [h.scrollWidth, h.ownerDocument.defaultView.innerWidth]")
    assert inner[0] <= inner[1], f"the teacher's page scrolls sideways in the frame: {inner}"

    teacher.get_by_test_id("live-ask").click()
    right = int(teacher.locator('input[name="live-right"]:checked').get_attribute("value"))
    teacher.get_by_test_id("poll-send").click()
    choice = student.get_by_test_id(f"room-choice-{right}")
    expect(choice).to_be_visible()
    assert choice.bounding_box()["height"] >= 44
    choice.tap()
    expect(teacher.get_by_test_id(f"live-count-{right}")).to_have_text("1")
    _assert_fits(student, PHONE[0])
    student.screenshot(path=str(shots_dir / "mobile-room-poll-390.png"))


def test_a_teacher_starts_a_live_room_from_a_phone(device: Any, shots_dir: Path) -> None:
    pg = device(*PHONE)
    _open(pg, "/step?scene=conv5x5")
    pg.get_by_test_id("menu-toggle").tap()
    pg.get_by_test_id("live-start").tap()
    dialog = pg.get_by_test_id("live-code-dialog")
    expect(dialog).to_be_visible()
    expect(pg.get_by_test_id("menu-toggle")).to_have_attribute("aria-expanded", "false")
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]
    pg.screenshot(path=str(shots_dir / "mobile-live-code-390.png"))
    dialog.get_by_role("button", name="Close").tap()
    panel = pg.get_by_test_id("live-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]
    _assert_fits(pg, PHONE[0])


# ---- tablets and the laptop keep their layouts ------------------------------------------------

COLUMNS = """(sel) => { const el = document.querySelector(sel);
  return getComputedStyle(el).gridTemplateColumns.split(' ').filter(Boolean).length; }"""


@pytest.mark.parametrize(("width", "height", "folded", "bottom"),
                         [(768, 1024, True, 1), (1024, 768, False, 2)],
                         ids=["portrait", "landscape"])
def test_tablets_keep_their_layouts(device: Any, live_server: str, width: int, height: int,
                                    folded: bool, bottom: int) -> None:
    pg = device(width, height)
    _open(pg, "/")
    _assert_fits(pg, width)
    # the settings above the map, the input and the map side by side (as before)
    assert pg.evaluate(COLUMNS, ".pg") == 1
    assert pg.evaluate(COLUMNS, ".pg-views") == 2
    assert pg.evaluate(COLUMNS, ".pg-bottom") == bottom
    controls = pg.locator(".pg-controls").bounding_box()
    assert controls["y"] < pg.locator(MAP).bounding_box()["y"]
    expect(pg.get_by_test_id("menu-toggle")).to_be_visible() if folded else expect(
        pg.get_by_test_id("menu-toggle")).to_be_hidden()
    if not folded:
        header = pg.locator(".site-header").bounding_box()
        assert header["height"] == 52, "the header stays one row"
        expect(pg.get_by_test_id("nav-network")).to_be_visible()
    for path in ("/step?scene=rgb", "/network", f"/room/{_room(live_server)}"):
        _open(pg, path)
        _assert_fits(pg, width)
    _open(pg, "/step?scene=rgb")
    assert pg.evaluate(COLUMNS, ".st-main") == 1
    # three channels still stand in columns on a tablet (the phone's one-per-line is for phones)
    rows = pg.locator(".st-multi .st-row")
    assert rows.nth(0).bounding_box()["y"] == rows.nth(1).bounding_box()["y"]


def test_a_laptop_keeps_its_layout(device: Any) -> None:
    pg = device(1280, 800, touch=False)
    _open(pg, "/")
    _assert_fits(pg, 1280)
    expect(pg.get_by_test_id("menu-toggle")).to_be_hidden()
    expect(pg.get_by_test_id("nav-network")).to_be_visible()
    expect(pg.locator(".brand-tag")).to_be_visible()
    assert pg.locator(".site-header").bounding_box()["height"] == 52
    assert pg.evaluate(COLUMNS, ".pg") == 2
    assert pg.locator(".pg-controls").bounding_box()["width"] == 340
    # the settings beside the map, the map at the top
    assert pg.locator(MAP).bounding_box()["y"] < 200
    _open(pg, "/step?scene=rgb")
    assert pg.evaluate(COLUMNS, ".st-main") == 2
    rows = pg.locator(".st-multi .st-row")
    assert rows.nth(0).bounding_box()["y"] == rows.nth(1).bounding_box()["y"]
    _open(pg, "/network")
    assert pg.evaluate(COLUMNS, ".nw-main") == 2


# ---- screenshots: looked at by people; the checks are about fitting ------------------------

SHOTS = [
    ("phone", 390, 844, True, "", "en"), ("phone", 390, 844, True, "projector", "en"),
    ("phone", 360, 740, True, "", "ru"), ("tablet", 768, 1024, True, "", "en"),
    ("tablet", 1024, 768, True, "projector", "ru"), ("laptop", 1280, 800, False, "", "en"),
    ("laptop", 1280, 800, False, "projector", "ru"),
]


@pytest.mark.parametrize(("kind", "width", "height", "touch", "theme", "lang"), SHOTS,
                         ids=[f"{s[0]}-{s[1]}-{s[4] or 'normal'}-{s[5]}" for s in SHOTS])
def test_mobile_screenshots(device: Any, live_server: str, shots_dir: Path, kind: str,
                            width: int, height: int, touch: bool, theme: str, lang: str) -> None:
    pg = device(width, height, touch=touch, lang=lang)
    room = _room(live_server)
    query = "theme=projector" if theme else ""
    for name, path in (("playground", "/"), ("step", "/step?scene=rgb"), ("network", "/network"),
                       ("room", f"/room/{room}")):
        full = path + ("&" if "?" in path else "?") + query if query else path
        _open(pg, full)
        _assert_fits(pg, width)
        shot = f"mobile-{kind}-{width}x{height}-{theme or 'normal'}-{lang}-{name}.png"
        pg.screenshot(path=str(shots_dir / shot), full_page=True)
