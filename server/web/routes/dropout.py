"""Dropout with a seeded mask (inverted dropout, as Keras and PyTorch)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ...core import dropout
from ..arrays import load_input
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.misc import DropoutRequest, DropoutResponse
from .conv import check_finite, check_json_size

router = APIRouter(prefix="/api", tags=["layers"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)


@router.post("/dropout", response_model=DropoutResponse)
async def apply_dropout(body: DropoutRequest, settings: SettingsDep, store: StoreDep,
                        limiter: LimiterDep) -> Response:
    """Drop each element with probability `p` (same `seed`, same mask); scale the rest."""

    def work() -> Response:
        x = load_input(body, store, settings)
        check_json_size(x, settings.max_json_elements // 2)  # output and mask
        out, mask = dropout(x, body.p, seed=body.seed, training=body.training)
        check_finite(out, "`input` values divided by `1 - p` are")
        return json_response({
            "shape": list(out.shape), "output": out, "mask": mask, "kept": int(mask.sum()),
            "p": body.p, "seed": body.seed, "training": body.training,
        })

    return await run_cpu(limiter, work)
