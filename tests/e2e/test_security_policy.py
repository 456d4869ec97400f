"""Every page works under the Content-Security-Policy: no script is refused, and the scripts
that moved out of the templates (theme and language before first paint, the page start-up,
Swagger UI's start) still run. A refused script is also a console error, which fails the
`page` fixture."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WATCH = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation",
    (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
}"""


@pytest.mark.parametrize("path", ["/", "/step", "/network"])
def test_page_runs_scripts_when_policy_applies(strict_page: Any, path: str) -> None:
    page = strict_page
    page.add_init_script(WATCH.removeprefix("() => {").removesuffix("}"))
    page.goto(page.base_url + path + "?theme=projector")
    # page.js ran: the language switch shows its state; boot.js ran: the theme came from the URL
    page.wait_for_selector('[data-testid="lang-en"][aria-pressed="true"]')
    assert page.evaluate("document.documentElement.dataset.theme") == "projector"
    page.click('[data-testid="lang-ru"]')
    page.wait_for_selector('[data-testid="lang-ru"][aria-pressed="true"]')
    assert page.evaluate("window.__violations") == []
    policy = page.evaluate("""async () => (await fetch(location.href)).headers
                              .get('content-security-policy')""")
    assert "script-src 'self'" in policy


def test_docs_start_swagger_when_policy_applies(strict_page: Any) -> None:
    page = strict_page
    page.add_init_script(WATCH.removeprefix("() => {").removesuffix("}"))
    page.goto(page.base_url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    page.locator(".opblock-summary-path", has_text="/api/health").first.click()
    page.wait_for_selector(".opblock.is-open")
    assert page.evaluate("window.__violations") == []


def test_network_runs_a_stack_when_policy_applies(strict_page: Any) -> None:
    """The feature maps arrive as data: URLs and are cut on canvases: all allowed by the policy."""
    page = strict_page
    page.add_init_script(WATCH.removeprefix("() => {").removesuffix("}"))
    page.goto(page.base_url + "/network")
    page.wait_for_selector('[data-testid="run-photo"]:not([hidden])')
    page.get_by_test_id("run-network").click()
    page.wait_for_selector('[data-testid="layer-maps"] [data-testid="map-thumb"]')
    assert page.evaluate("window.__violations") == []
