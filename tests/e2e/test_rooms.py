"""Live rooms in a real Chromium: a teacher's page and students' pages in separate browser contexts
(separate storage, as separate laptops), over the app's real WebSocket."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

FORMULA = '[data-testid="frame-formula"]'
READY = '[data-testid="step-page"][aria-busy="false"]'
FRAME = '[data-testid="room-frame"]'


@pytest.fixture
def laptop(browser: Any, watched: Any) -> Any:
    """A page in a browser context of its own (another laptop), console watched."""
    contexts: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return watched(ctx)

    yield make
    for ctx in contexts:
        ctx.close()


def _start_room(teacher: Any, path: str = "/step?scene=conv5x5") -> str:
    teacher.goto(teacher.base_url + path)
    if path.startswith("/step"):
        teacher.wait_for_selector(READY)
    teacher.get_by_test_id("live-start").click()
    dialog = teacher.get_by_test_id("live-code-dialog")
    expect(dialog).to_be_visible()
    code = teacher.get_by_test_id("live-big-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{6}", code)
    assert code in teacher.get_by_test_id("live-link").input_value()
    qr = teacher.get_by_test_id("live-qr")
    assert qr.evaluate("c => c.width") > 100  # drawn by step/qr.js
    return code


def _close_dialog(teacher: Any) -> None:
    teacher.get_by_test_id("live-code-dialog").get_by_role("button", name="Close").click()
    expect(teacher.get_by_test_id("live-code-dialog")).to_have_count(0)


def _join(student: Any, code: str) -> Any:
    student.goto(f"{student.base_url}/room/{code}")
    return student.frame_locator(FRAME)


def test_student_follows_the_teachers_frame_and_can_look_around(
        page: Any, laptop: Any, shots_dir: Path) -> None:
    teacher = page
    code = _start_room(teacher)
    teacher.screenshot(path=str(shots_dir / "room-teacher-code.png"))
    _close_dialog(teacher)
    student = laptop()
    frame = _join(student, code)
    expect(teacher.get_by_test_id("live-count")).to_have_text("1 following")
    expect(student.get_by_test_id("room-status")).to_have_text("Following the teacher")
    expect(frame.locator(FORMULA)).to_have_text(teacher.locator(FORMULA).inner_text())
    for _ in range(3):
        teacher.get_by_test_id("step-forward").click()
    expect(teacher).to_have_url(re.compile(r"frame=3"))
    expect(frame.locator(FORMULA)).to_have_text(teacher.locator(FORMULA).inner_text())
    # a lesson scene switches the student's scene too
    teacher.get_by_test_id("lesson-stride2").click()
    teacher.wait_for_selector(READY)
    teacher.get_by_test_id("step-forward").click()
    expect(teacher).to_have_url(re.compile(r"frame=1"))
    expect(frame.locator(FORMULA)).to_have_text(teacher.locator(FORMULA).inner_text())
    student.screenshot(path=str(shots_dir / "room-student-following.png"))

    # looking around alone: the teacher's next step arrives but is not shown until coming back
    alone_text = frame.locator(FORMULA).inner_text()
    student.get_by_test_id("room-toggle").click()
    expect(student.get_by_test_id("room-status")).to_have_text("Looking around on your own")
    seq = int(student.get_by_test_id("room-page").get_attribute("data-seq"))
    teacher.get_by_test_id("step-forward").click()
    expect(student.get_by_test_id("room-page")).to_have_attribute("data-seq", str(seq + 1))
    expect(frame.locator(FORMULA)).to_have_text(alone_text)
    student.get_by_test_id("room-toggle").click()
    expect(frame.locator(FORMULA)).to_have_text(teacher.locator(FORMULA).inner_text())
    assert frame.locator(FORMULA).inner_text() != alone_text

    # the teacher folds the panel off the stage: the code and the count stay
    teacher.get_by_test_id("live-fold").click()
    expect(teacher.get_by_test_id("live-show")).to_be_hidden()
    expect(teacher.get_by_test_id("live-count")).to_have_text("1 following")
    teacher.screenshot(path=str(shots_dir / "room-teacher-folded.png"))


def test_late_joiner_lands_on_the_current_state_and_follows_to_another_page(
        page: Any, laptop: Any) -> None:
    teacher = page
    code = _start_room(teacher)
    _close_dialog(teacher)
    for _ in range(5):
        teacher.get_by_test_id("step-forward").click()
    expect(teacher).to_have_url(re.compile(r"frame=5"))
    expected = teacher.locator(FORMULA).inner_text()
    late = laptop()
    frame = _join(late, code)
    expect(frame.locator(FORMULA)).to_have_text(expected)
    # the teacher moves to the layer stacks: the room stays (same tab) and the student follows
    teacher.get_by_test_id("nav-network").click()
    expect(teacher.get_by_test_id("live-panel")).to_be_visible()
    expect(teacher.get_by_test_id("live-count")).to_have_text("1 following")
    expect(frame.get_by_test_id("layer-list")).to_be_visible()
    teacher.get_by_test_id("preset-lenet5").click()
    expect(frame.get_by_test_id("param-total")).to_have_text(
        teacher.get_by_test_id("param-total").inner_text())
    # the page inside the frame shows its content only: no second header
    expect(frame.locator(".site-header")).to_be_hidden()


def test_poll_counts_reach_the_teacher_and_a_reload_keeps_the_students_identity(
        page: Any, laptop: Any, shots_dir: Path) -> None:
    teacher = page
    code = _start_room(teacher)
    _close_dialog(teacher)
    first, second = laptop(), laptop()
    _join(first, code)
    _join(second, code)
    expect(teacher.get_by_test_id("live-count")).to_have_text("2 following")

    teacher.get_by_test_id("live-ask").click()
    # on the step page the question is filled from the real next frame
    question = teacher.get_by_test_id("poll-question").input_value()
    assert "next output cell" in question
    right = int(teacher.locator('input[name="live-right"]:checked').get_attribute("value"))
    teacher.get_by_test_id("poll-send").click()
    for student in (first, second):
        expect(student.get_by_test_id("room-question")).to_have_text(question)
    wrong = (right + 1) % 4
    first.get_by_test_id(f"room-choice-{right}").click()
    expect(teacher.get_by_test_id(f"live-count-{right}")).to_have_text("1")
    second.get_by_test_id(f"room-choice-{wrong}").click()
    expect(teacher.get_by_test_id(f"live-count-{wrong}")).to_have_text("1")
    expect(teacher.get_by_test_id("live-total")).to_have_text("Answers: 2")
    second.screenshot(path=str(shots_dir / "room-student-poll.png"))

    # the second student reloads: same identity, its answer shown, a changed answer counted once
    member = second.get_by_test_id("room-page").get_attribute("data-member")
    second.reload()
    expect(second.get_by_test_id(f"room-choice-{wrong}")).to_have_attribute("aria-pressed", "true")
    assert second.get_by_test_id("room-page").get_attribute("data-member") == member
    second.get_by_test_id(f"room-choice-{right}").click()
    expect(teacher.get_by_test_id(f"live-count-{right}")).to_have_text("2")
    expect(teacher.get_by_test_id(f"live-count-{wrong}")).to_have_text("0")
    expect(teacher.get_by_test_id("live-total")).to_have_text("Answers: 2")

    # reveal: the students see the right answer, the teacher's animation moves to that frame
    teacher.get_by_test_id("live-reveal").click()
    expect(first.get_by_test_id(f"room-choice-{right}")).to_have_class(re.compile("room-right"))
    expect(teacher).to_have_url(re.compile(r"frame=1\b"))
    expect(first.frame_locator(FRAME).locator(FORMULA)).to_have_text(
        teacher.locator(FORMULA).inner_text())
    teacher.screenshot(path=str(shots_dir / "room-teacher-results.png"))
    first.screenshot(path=str(shots_dir / "room-student-revealed.png"))


def test_room_page_in_russian_and_projector_mode(page: Any, laptop: Any,
                                                 shots_dir: Path) -> None:
    teacher = page
    code = _start_room(teacher)
    _close_dialog(teacher)
    student = laptop()
    frame = _join(student, code)
    expect(frame.locator(FORMULA)).to_be_visible()
    student.get_by_test_id("lang-ru").click()
    expect(student.get_by_test_id("room-status")).to_have_text("Вы следите за преподавателем")
    student.get_by_test_id("projector-toggle").click()
    expect(frame.locator("html")).to_have_attribute("data-theme", "projector")
    expect(frame.locator("html")).to_have_attribute("lang", "ru")
    teacher.get_by_test_id("lang-ru").click()
    expect(teacher.get_by_test_id("live-count")).to_have_text("следят: 1")
    student.screenshot(path=str(shots_dir / "room-student-ru-projector.png"))


def test_unknown_room_says_so(page: Any) -> None:
    page.goto(page.base_url + "/room/ZZZZZZ")
    expect(page.get_by_test_id("room-status")).to_have_text(re.compile("no live room ZZZZZZ"))


def test_student_page_shows_only_our_own_pages(page: Any) -> None:
    """A state is data from another browser: a path outside the app is never loaded."""
    import httpx
    from websockets.sync.client import connect

    body = httpx.post(page.base_url + "/api/rooms").json()
    ws_url = page.base_url.replace("http", "ws") + f"/api/rooms/{body['room']}/ws"
    with connect(f"{ws_url}?token={body['teacher_token']}") as teacher:
        teacher.recv(timeout=15)
        page.goto(f"{page.base_url}/room/{body['room']}")
        expect(page.get_by_test_id("room-status")).to_have_text(re.compile("Waiting"))
        for path in ("https://example.com/", "//example.com", "/api/health", "javascript:1"):
            teacher.send(f'{{"type": "state", "state": {{"path": "{path}", "query": ""}}}}')
        teacher.send('{"type": "state", "state": {"path": "/network", "query": ""}}')
        expect(page.get_by_test_id("room-page")).to_have_attribute("data-seq", "5")
        expect(page.frame_locator(FRAME).get_by_test_id("layer-list")).to_be_visible()
        assert page.get_by_test_id("room-page").get_attribute("data-shown") == "/network"
