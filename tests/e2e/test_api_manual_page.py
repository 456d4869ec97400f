"""The API manual renders in a browser with no network: Swagger UI comes from the app."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_docs_render_offline_with_every_endpoint(page: Any, shots_dir: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(page.base_url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Svertka" in page.inner_text(".swagger-ui .info .title")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    for path in ("/api/images", "/api/conv", "/api/conv/render", "/api/frames", "/api/pool"):
        assert path in paths
    page.screenshot(path=str(shots_dir / "docs-1280x800.png"))
