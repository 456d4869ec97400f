"""Liveness and version."""

from __future__ import annotations

from fastapi import APIRouter

from ... import __version__
from ..schemas.misc import HealthResponse

router = APIRouter(prefix="/api", tags=["service"])


@router.get("/health", response_model=HealthResponse)
async def get_health() -> HealthResponse:
    """Report that the service is up, and its version."""
    return HealthResponse(status="ok", version=__version__)
