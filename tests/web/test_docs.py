"""The API manual works without a network: Swagger UI's files are served by the app itself."""

from __future__ import annotations

from typing import Any


def test_docs_page_loads_swagger_from_the_app(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert "/openapi.json" in page.text


def test_docs_assets_are_served(client: Any) -> None:
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_redoc_is_not_offered_without_its_cdn(client: Any) -> None:
    assert client.get("/redoc").status_code == 404
