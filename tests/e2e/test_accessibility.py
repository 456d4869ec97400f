"""Every page, in both themes and in the states with most on screen, passes axe-core's checks
with no serious or critical finding (contrast of every text, ARIA roles and their structure,
names of controls, one h1 per page, scrollable regions reachable by keyboard)."""

from __future__ import annotations

from typing import Any

import pytest

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

BLOCKING = ("serious", "critical")


def _settle(page: Any) -> None:
    """Wait until the page has drawn what the server sent."""
    # <html data-pending> counts armed debounces and requests not yet read (static/js/pending.js);
    # the page sets it on its first request, so "0" means it started and every answer is in
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.documentElement.dataset.pending === '0'")
    # the playground paints its map after the answer is read (an image decode)
    page.wait_for_function("() => !document.querySelector('#output-box.busy')")


def _findings(page: Any) -> list[str]:
    result = axe_playwright.Axe().run(page)
    found = []
    for violation in result.response["violations"]:
        if violation["impact"] in BLOCKING:
            for node in violation["nodes"][:5]:
                summary = node.get("failureSummary", "").replace("\n", " ")
                found.append(f"{violation['id']} ({violation['impact']}) {node['target']}: "
                             f"{summary[:200]}")
    return found


PAGES = [
    "/",
    "/step",
    "/step?scene=filters",
    "/step?scene=maxpool",
    "/step?scene=signal1d",
    "/step?scene=volume3d",
    "/network",
]


@pytest.mark.parametrize("theme", ["normal", "projector"])
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_serious_accessibility_findings(page: Any, path: str, theme: str) -> None:
    query = "" if theme == "normal" else ("&" if "?" in path else "?") + "theme=projector"
    page.goto(f"{page.base_url}{path}{query}")
    _settle(page)
    assert _findings(page) == []


@pytest.mark.parametrize("theme", ["normal", "projector"])
def test_playground_kernel_per_channel_has_no_serious_findings(page: Any, theme: str) -> None:
    # the channel tabs (a coloured tab with its label) exist only in this mode
    query = "" if theme == "normal" else "?theme=projector"
    page.goto(f"{page.base_url}/{query}")
    _settle(page)
    page.check('[data-testid="kmode-per"]')
    page.wait_for_selector('.kernel-tab[aria-pressed="true"]')
    _settle(page)
    assert _findings(page) == []


@pytest.mark.parametrize("theme", ["normal", "projector"])
def test_network_error_state_has_no_serious_findings(page: Any, theme: str) -> None:
    page.allow_console(r"status of 422")
    query = "" if theme == "normal" else "?theme=projector"
    page.goto(f"{page.base_url}/network{query}")
    _settle(page)
    page.fill('[data-testid="input-h"]', "2")  # the first 3x3 convolution no longer fits
    page.wait_for_selector('[data-testid="layer-error"]')
    _settle(page)
    assert _findings(page) == []
