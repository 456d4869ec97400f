"""The step page's transposed convolution in a real Chromium: both views against NumPy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.e2e

READY = '[data-testid="step-page"][aria-busy="false"]'
SCATTER = '[data-testid="scatter-output"] .st-cell'
GATHER = '[data-testid="output-grid"] .st-cell'
FORMULA = '[data-testid="frame-formula"]'
LESSONS = ["t_nopad", "t_pad", "t_half", "t_full", "t_stride", "t_stride_pad", "t_odd"]


def fmt(value: float) -> str:
    """The page's number format in English: at most two decimals, a real minus sign."""
    rounded = math.floor(value * 100 + 0.5) / 100
    if rounded == 0:
        return "0"
    return f"{rounded:.2f}".rstrip("0").rstrip(".").replace("-", "−")


def wrap(value: float) -> str:
    return f"({fmt(value)})" if value < 0 else fmt(value)


# ---- NumPy oracles (one channel, one filter, 2-D) -----------------------------------------

def scatter_steps(x: np.ndarray, w: np.ndarray, s: int, d: int, op: int,
                  bias: float = 0.0) -> list[np.ndarray]:
    """The uncut output after each input cell (row-major) has stamped x * w."""
    k = w.shape[0]
    full = np.full([(n - 1) * s + d * (k - 1) + 1 + op for n in x.shape], bias)
    states = []
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            span = d * (k - 1) + 1
            full[r * s: r * s + span: d, c * s: c * s + span: d] += x[r, c] * w
            states.append(full.copy())
    return states


def gather_grid(x: np.ndarray, k: int, s: int, p: int, d: int, op: int) -> np.ndarray:
    """Zeros inserted, padded d*(k-1)-p before and that plus output_padding after."""
    up = np.zeros([(n - 1) * s + 1 for n in x.shape])
    up[::s, ::s] = x
    reach = d * (k - 1) - p
    if reach < 0:
        up = up[-reach: up.shape[0] + reach, -reach: up.shape[1] + reach]
        return np.pad(up, ((0, op), (0, op)))
    return np.pad(up, ((reach, reach + op), (reach, reach + op)))


def direct(grid: np.ndarray, w: np.ndarray, d: int) -> np.ndarray:
    k = w.shape[0]
    size = [n - d * (k - 1) for n in grid.shape]
    out = np.zeros(size)
    for i in range(k):
        for j in range(k):
            out += w[i, j] * grid[i * d: i * d + size[0], j * d: j * d + size[1]]
    return out


def torch_out(x: np.ndarray, w: np.ndarray, s: int, p: int, d: int, op: int) -> np.ndarray:
    return torch.nn.functional.conv_transpose2d(
        torch.tensor(x[None, None]), torch.tensor(w[None, None]), stride=s, padding=p,
        output_padding=op, dilation=d)[0, 0].numpy()


# ---- helpers --------------------------------------------------------------------------------

def open_step(page: Any, query: str) -> None:
    page.goto(f"{page.base_url}/step{query}")
    page.wait_for_selector(READY)


def texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def scene(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.svertkaStep.store.get('scene')")


def params(sc: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int, int, int, int]:
    x = np.asarray(sc["input"][0], dtype=float)
    w = np.asarray(sc["kernel"][0][0], dtype=float)
    pad = sc["padding"] if isinstance(sc["padding"], int) else sc["padding"][0]
    return x, w, sc["stride"][0], pad, sc["dilation"][0], sc["output_padding"][0]


def wait_counter(page: Any, i: int, n: int) -> None:
    page.wait_for_function(
        "(t) => document.querySelector('[data-testid=frame-counter]').textContent === t",
        arg=f"step {i} of {n}")


def show_view(page: Any, view: str) -> None:
    page.click(f'[data-testid="view-{view}"]')
    grid = "scatter-output" if view == "scatter" else "output-grid"
    page.wait_for_selector(f'[data-testid="{grid}"]')


def open_lesson(page: Any, name: str) -> None:
    page.click(f'[data-testid="lesson-{name}"]')
    page.wait_for_function(
        "(n) => document.querySelector(`[data-testid=lesson-${n}]`).ariaPressed === 'true'"
        " && document.querySelector('[data-testid=step-page]').ariaBusy === 'false'", arg=name)


# ---- tests ----------------------------------------------------------------------------------

def test_scatter_view_adds_stamps_like_numpy(page: Any) -> None:
    open_step(page, "?scene=t_stride_pad")
    x, w, s, p, d, op = params(scene(page))
    states = scatter_steps(x, w, s, d, op)
    assert len(states) == 9
    for i in (0, 1, 4):
        while int(page.eval_on_selector('[data-testid="scrubber"]', "e => e.value")) < i:
            page.click('[data-testid="step-forward"]')
        wait_counter(page, i + 1, 9)
        assert texts(page, SCATTER) == [fmt(v) for v in states[i].ravel()]
        # the input cell that stamps and the cells its stamp lands on
        current = page.locator('[data-testid="input-grid-0"] .st-cell.current')
        assert (current.get_attribute("data-r"), current.get_attribute("data-c")) == \
            tuple(map(str, divmod(i, 3)))
        assert page.locator(f"{SCATTER}.tap").count() == w.size
        r, c = divmod(i, 3)
        products = ", ".join(fmt(v) for v in (x[r, c] * w).ravel())
        assert page.inner_text(FORMULA).strip() == (
            f"Input ({r}, {c}) = {fmt(x[r, c])} stamps {fmt(x[r, c])} × kernel onto the "
            f"output: {products}")
    page.keyboard.press("End")
    wait_counter(page, 9, 9)
    final = states[-1]
    assert texts(page, SCATTER) == [fmt(v) for v in final.ravel()]
    # padding 1 cuts the border: the kept cells are the transposed convolution
    kept = final[p: final.shape[0] - p, p: final.shape[1] - p]
    np.testing.assert_allclose(kept, torch_out(x, w, s, p, d, op))
    dashed = page.locator(f"{SCATTER}.pad").count()
    assert dashed == final.size - kept.size


def test_gather_view_is_the_direct_convolution_like_numpy(page: Any) -> None:
    open_step(page, "?scene=t_odd")
    show_view(page, "gather")
    x, w, s, p, d, op = params(scene(page))
    grid = gather_grid(x, w.shape[0], s, p, d, op)
    assert texts(page, '[data-testid="input-grid-0"] .st-cell') == [fmt(v) for v in grid.ravel()]
    # inserted zeros and padding are drawn apart from the input's own cells
    assert page.locator('[data-testid="input-grid-0"] .st-cell:not(.pad)').count() == x.size
    flipped = w[::-1, ::-1]
    assert texts(page, '[data-testid="kernel-grid-0"] .st-cell') == [
        fmt(v) for v in flipped.ravel()]
    out = direct(grid, flipped, d)
    np.testing.assert_allclose(out, torch_out(x, w, s, p, d, op))
    total = out.size
    for i in (0, 7):
        page.locator('[data-testid="scrubber"]').fill(str(i))
        wait_counter(page, i + 1, total)
        r, c = divmod(i, out.shape[1])
        patch = grid[r: r + w.shape[0], c: c + w.shape[1]]
        terms = " + ".join(f"{wrap(a)}·{wrap(b)}" for a, b in zip(patch.ravel(), flipped.ravel(),
                                                                  strict=True))
        assert page.inner_text(FORMULA).strip() == f"{terms} = {fmt(out[r, c])}"
        stamps = page.locator('[data-testid="input-grid-0"] .st-cell.stamp').count()
        assert stamps == int(np.count_nonzero(
            gather_grid(np.ones_like(x), w.shape[0], s, p, d, op)[r: r + 3, c: c + 3]))
    page.keyboard.press("End")
    wait_counter(page, total, total)
    assert texts(page, GATHER) == [fmt(v) for v in out.ravel()]
    page.wait_for_function("() => location.search.includes('view=gather')")
    assert "5 + 1 + 2 = 8" in page.inner_text('[data-testid="gather-explain"]')


def test_hover_output_cell_lights_every_stamp_that_reaches_it(page: Any) -> None:
    open_step(page, "?scene=t_stride")
    x, w, s, p, d, op = params(scene(page))
    states = scatter_steps(x, w, s, d, op)
    page.hover(f'{SCATTER}[data-r="2"][data-c="2"]')
    page.wait_for_selector(f'{SCATTER}.current')
    # stride 2, 3x3 kernel: output (2, 2) is reached by all four inputs
    reaching = page.locator('[data-testid="input-grid-0"] .st-cell.mult')
    assert reaching.count() == 4
    stamped = {(int(e.get_attribute("data-r")), int(e.get_attribute("data-c")))
               for e in page.locator(f"{SCATTER}.stamp").element_handles()}
    expected = {(r * s + i, c * s + j) for r in range(2) for c in range(2)
                for i in range(3) for j in range(3)}
    assert stamped == expected
    terms = [f"{fmt(x[r, c])}·{fmt(w[2 - r * 2, 2 - c * 2])}" for r in range(2) for c in range(2)]
    assert page.inner_text(FORMULA).strip() == f"{' + '.join(terms)} = {fmt(states[-1][2, 2])}"


@pytest.mark.parametrize("name", LESSONS)
def test_every_lesson_scene_agrees_with_torch_in_both_views(page: Any, name: str) -> None:
    open_step(page, "?scene=t_nopad")
    if name != "t_nopad":
        open_lesson(page, name)
    x, w, s, p, d, op = params(scene(page))
    ref = torch_out(x, w, s, p, d, op)
    page.keyboard.press("End")
    wait_counter(page, x.size, x.size)
    cells = page.locator(f"{SCATTER}:not(.pad)")
    assert [t.strip() for t in cells.all_inner_texts()] == [fmt(v) for v in ref.ravel()]
    shape = page.inner_text('[data-testid="shape-formula"]')
    assert f"→ {ref.shape[0]}×{ref.shape[1]}" in shape
    axis = f"({x.shape[0]} − 1)·{s} − 2·{p} + {d}·({w.shape[0]} − 1) + {op} + 1 = {ref.shape[0]}"
    assert axis in shape
    show_view(page, "gather")
    page.keyboard.press("End")
    wait_counter(page, ref.size, ref.size)
    assert texts(page, GATHER) == [fmt(v) for v in ref.ravel()]


def test_forward_convolution_opens_in_one_click(page: Any) -> None:
    open_step(page, "?scene=t_odd")
    assert "6×6 input with a 3×3 kernel, stride 2, padding 1" in page.inner_text(
        '[data-testid="transposed-forward"]')
    page.click('[data-testid="show-forward"]')
    page.wait_for_function("() => window.svertkaStep.store.get('scene').op === 'conv'")
    page.wait_for_selector(READY)
    page.wait_for_selector('[data-testid="output-grid"]')
    assert "6×6 → 3×3" in page.inner_text('[data-testid="shape-formula"]')
    assert page.locator('[data-testid="transposed-views"]').is_hidden()


def test_output_padding_error_names_the_nearest_valid_setting(page: Any) -> None:
    page.allow_console(r"status of 422")
    open_step(page, "?scene=t_stride")
    page.click('[data-testid="setup-panel"] summary')
    page.fill('[data-testid="scene-output-padding"]', "2")
    page.click('[data-testid="scene-apply"]')
    error = page.locator('[data-testid="step-error"]')
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "output_padding = 1" in text and "at most 1" in text
    assert "(2 − 1)·2 − 2·0 + 1·(3 − 1) + 2 + 1 = 7" in text


def test_export_downloads_both_views(page: Any) -> None:
    open_step(page, "?scene=t_stride")
    for view, frames in (("scatter", 4), ("gather", 25)):
        show_view(page, view)
        with page.expect_download() as info:
            page.click('[data-testid="export-gif"]')
        download = info.value
        assert download.suggested_filename == f"svertka-t_stride-{view}.gif"
        from PIL import Image
        with Image.open(download.path()) as image:
            assert image.n_frames == frames


def test_screenshots_of_both_views(page: Any, shots_dir: Path) -> None:
    open_step(page, "?scene=t_stride_pad&frame=4")
    page.screenshot(path=str(shots_dir / "step-transposed-scatter.png"), full_page=True)
    page.hover(f'{SCATTER}[data-r="3"][data-c="3"]')
    page.wait_for_selector(f"{SCATTER}.stamp")
    page.screenshot(path=str(shots_dir / "step-transposed-scatter-hover.png"))
    show_view(page, "gather")
    page.mouse.move(0, 0)
    page.screenshot(path=str(shots_dir / "step-transposed-gather.png"), full_page=True)
    page.click('[data-testid="projector-toggle"]')
    assert page.get_attribute("html", "data-theme") == "projector"
    page.screenshot(path=str(shots_dir / "step-transposed-gather-projector.png"))
    show_view(page, "scatter")
    page.screenshot(path=str(shots_dir / "step-transposed-scatter-projector.png"))
    page.evaluate("() => localStorage.clear()")
