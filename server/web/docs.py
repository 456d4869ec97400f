"""The API manual at ``/docs``, served with Swagger UI's own files rather than from a CDN.

A classroom network is often offline or filtered; FastAPI's default page loads Swagger UI from
jsDelivr and stays blank there. The files come from the ``swagger-ui-bundle-v2`` wheel.
"""

from __future__ import annotations

import html

import swagger_ui_bundle
from fastapi import FastAPI
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
        return HTMLResponse(_PAGE.format(
            title=html.escape(f"{app.title} API"), assets=ASSETS, favicon=FAVICON,
            openapi=html.escape(app.openapi_url or "/openapi.json"),
        ))


# FastAPI's own page starts Swagger UI from an inline script, which the Content-Security-Policy
# forbids (server/web/security.py); static/js/docs.js does the same from the app's origin.
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{favicon}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/js/docs.js"></script>
</body>
</html>
"""
