"""HTML pages: Jinja2 templates from the top-level ``templates/`` folder, assets from ``static/``.

The app factory includes `router` and calls `mount_static(app)`; the folders are located relative
to the repository so the pages work from a clone without installing anything.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

router = APIRouter(include_in_schema=False)

# Browsers must not keep an old page around while the modules it imports change under it.
_NO_STORE = {"Cache-Control": "no-cache"}


def _page(request: Request, name: str) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {}, headers=_NO_STORE)


@router.get("/", response_class=HTMLResponse)
def get_playground(request: Request) -> HTMLResponse:
    """The playground: kernels on photos."""
    return _page(request, "index.html")


@router.get("/step", response_class=HTMLResponse)
def get_step(request: Request) -> HTMLResponse:
    """The step-through animator."""
    return _page(request, "step.html")


@router.get("/network", response_class=HTMLResponse)
def get_network(request: Request) -> HTMLResponse:
    """Layer stacks: build a Keras model and see its shapes and parameter counts."""
    return _page(request, "network.html")


@router.get("/digits", response_class=HTMLResponse)
def get_digits(request: Request) -> HTMLResponse:
    """The trained digit network: draw a digit, see every layer, watch it train."""
    return _page(request, "digits.html")


@router.get("/room/{code}", response_class=HTMLResponse)
def get_room(request: Request, code: str) -> HTMLResponse:
    """A student's page in a live room: it follows the teacher's page."""
    return templates.TemplateResponse(request, "room.html", {"code": code.strip().upper()[:16]},
                                      headers=_NO_STORE)


def mount_static(app: FastAPI) -> None:
    """Serve ``static/`` at ``/static`` (ES modules, the stylesheet, sample photos)."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
