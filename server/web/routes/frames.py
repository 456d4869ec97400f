"""Sliding-window frames of a convolution, paged, for the step-through animator."""

from __future__ import annotations

import math
import time

from fastapi import APIRouter
from starlette.responses import Response

from ...core import frames
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import limit_error
from ..pipeline import plan_conv
from ..responses import json_response, records
from ..schemas.conv import FramesRequest, FramesResponse
from ..schemas.errors import ERROR_RESPONSES
from ..timing import timing_header
from .conv import check_finite

# the keys of a frame (DESIGN §3), in order: `FrameBatch` fields of the same names
FRAME_FIELDS = ("index", "filter", "position", "origin", "patch", "products", "channel_sums",
                "bias", "value", "output")

router = APIRouter(prefix="/api", tags=["convolution"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)


MAX_FRAMES = 2**53 - 1
"""Frame indices must survive JSON clients: JavaScript numbers are exact up to 2**53 - 1."""


def check_frame_count(total: int, body: FramesRequest) -> None:
    """Refuse a convolution with more frames than a client can index (422 ``limit``)."""
    if total > MAX_FRAMES:
        field = "padding" if body.padding not in (0, "valid") else "input"
        raise limit_error(field, f"this `{field}` gives {total} frames, more than "
                          f"{MAX_FRAMES} (2**53 - 1), the largest index a JSON client such as "
                          "a browser can represent exactly",
                          accepted=f"at most {MAX_FRAMES} frames: less padding or a smaller "
                          "input", suggestion={"padding": "same"} if field == "padding" else None)


@router.post("/frames", response_model=FramesResponse)
async def list_frames(body: FramesRequest, settings: SettingsDep, store: StoreDep,
                      limiter: LimiterDep) -> Response:
    """Page through every placement of every filter's window with all its arithmetic."""

    def work() -> Response:
        # a page costs frames x taps whatever the output size: no work limit on the whole conv
        start = time.perf_counter()
        job = plan_conv(body, store, settings, check_work=False)
        check_frame_count(job.filters * math.prod(job.out_spatial), body)
        per_frame = 2 * job.taps + job.w.shape[1] + 16
        limit = max(1, min(body.limit, settings.max_frames_per_page,
                           settings.max_json_elements // per_frame))
        batch = frames(
            job.x, job.w, bias=job.bias, flip=job.flip, activation=job.activation,
            activation_params=job.activation_params or None, offset=body.offset, limit=limit,
            positions=body.positions, filters=body.filters, **job.conv_kwargs(),
        )
        for name in ("products", "value", "output"):
            check_finite(getattr(batch, name))  # null in JSON would hide the overflow
        end = body.offset + len(batch)
        elapsed = (time.perf_counter() - start) * 1000.0
        return json_response(headers=timing_header(frames=elapsed), content={
            "total": batch.total, "offset": body.offset, "limit": limit,
            "next_offset": end if len(batch) and end < batch.total else None,
            "frames": records({name: getattr(batch, name) for name in FRAME_FIELDS}),
            "shape": job.shape, "padding": [list(p) for p in job.pads], "explain": job.explain,
        })

    return await run_cpu(limiter, work)
