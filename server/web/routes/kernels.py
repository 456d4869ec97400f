"""Kernel presets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...core.kernels import PRESETS
from ..schemas.misc import KernelResponse

router = APIRouter(prefix="/api", tags=["kernels"])


@router.get("/kernels", response_model=list[KernelResponse])
async def list_kernels() -> list[dict[str, Any]]:
    """List the kernel presets usable as `preset` in /api/conv (English and Russian texts)."""
    return [preset.to_dict() for preset in PRESETS.values()]
