"""The API manual at ``/docs``, served with Swagger UI's own files rather than from a CDN.

A classroom network is often offline or filtered; FastAPI's default page loads Swagger UI from
jsDelivr and stays blank there. The files come from the ``swagger-ui-bundle-v2`` wheel.
"""

from __future__ import annotations

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
# the pages' icon (templates/base.html), inline so the manual needs no other file
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect "
    "width='16' height='16' rx='3' fill='%23134e8c'/%3E%3Cpath d='M3 3h4v4H3zM9 9h4v4H9z' "
    "fill='%23ffb000'/%3E%3C/svg%3E"
)


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI's files at ``/docs-assets`` and the manual at ``/docs``.

    The app must be built with ``docs_url=None`` and ``redoc_url=None`` (ReDoc would need a CDN).
    """
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def read_docs() -> HTMLResponse:
        """The interactive API manual."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
        )
