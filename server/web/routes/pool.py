"""Pooling: numbers and rendered maps."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from fastapi import APIRouter
from starlette.responses import Response

from ...core import explain_output_shape, global_pool, pool, pool_frames
from ...core.pooling import pool_geometry
from ..arrays import load_input
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import ApiError
from ..pipeline import check_size, check_windows_see_input
from ..rendering import render_maps
from ..responses import json_response, png_response, svertka_headers
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.pool import (
    PoolFramesRequest,
    PoolFramesResponse,
    PoolRenderRequest,
    PoolRequest,
    PoolResponse,
)
from ..timing import timing_header
from .conv import check_finite, check_json_size

router = APIRouter(prefix="/api", tags=["pooling"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)


def _pool(body: PoolRequest, store: Any, settings: Any) -> dict[str, Any]:
    x = load_input(body, store, settings)
    input_shape = list(x.shape)
    squeeze = False
    if body.image_id is not None and x.ndim == 2:
        # a grey photo is one channel, whatever form kernel_size takes
        x, squeeze = x[None], True
    start = time.perf_counter()
    if body.global_pool:
        full = global_pool(x, body.mode)
        pads: list[list[int]] = []
        explain = [f"global {body.mode} pooling: one value per channel"]
    else:
        if body.kernel_size is None:
            raise ApiError(422, "validation", "kernel_size", "`kernel_size` is required unless "
                           "`global_pool` is true", accepted="an int >= 1 or one per axis",
                           suggestion={"kernel_size": 2})
        g = pool_geometry(x, mode=body.mode, kernel_size=body.kernel_size, stride=body.stride,
                          padding=body.padding, dilation=body.dilation,
                          ceil_mode=body.ceil_mode, count_include_pad=body.count_include_pad)
        elements = g.x.shape[0] * math.prod(g.out_shape)
        check_size(elements, elements * math.prod(g.kernel), body, x.shape, settings,
                   work_field="kernel_size")
        full = pool(g.x, mode=body.mode, kernel_size=body.kernel_size, stride=body.stride,
                   padding=body.padding, dilation=body.dilation, ceil_mode=body.ceil_mode,
                   count_include_pad=body.count_include_pad)
        # the core read a channel-less input as one channel; so do we, then squeeze at the end
        squeeze = squeeze or g.squeeze
        pads = [list(p) for p in g.pads]
        explain = explain_output_shape(g.spatial_shape, g.kernel, stride=g.stride,
                                       padding=g.pads, dilation=g.dilation,
                                       ceil_mode=g.ceil_mode)
    if not body.global_pool:
        check_windows_see_input(full, body.mode, pads, body.dilation)
    check_finite(full, "`input` values are")  # an average of huge values can overflow
    elapsed = (time.perf_counter() - start) * 1000.0
    return {"full": full, "squeeze": squeeze, "padding": pads, "explain": explain,
            "input_shape": input_shape, "elapsed_ms": elapsed}


@router.post("/pool", response_model=PoolResponse)
async def compute_pool(body: PoolRequest, settings: SettingsDep, store: StoreDep,
                       limiter: LimiterDep) -> Response:
    """Max or average pooling (or global pooling) of an input or a stored photo."""

    def work() -> Response:
        r = _pool(body, store, settings)
        out = r["full"][0] if r["squeeze"] else r["full"]
        check_json_size(out, settings.max_json_elements)
        return json_response({
            "shape": list(out.shape), "output": out, "padding": r["padding"],
            "explain": r["explain"], "input_shape": r["input_shape"],
            "range": [float(np.min(out)), float(np.max(out))],
            "elapsed_ms": round(r["elapsed_ms"], 3),
        })

    return await run_cpu(limiter, work)


@router.post("/pool/render", response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "The pooled map(s)."}})
async def render_pool(body: PoolRenderRequest, settings: SettingsDep, store: StoreDep,
                      limiter: LimiterDep) -> Response:
    """Pool like /api/pool and draw the result as PNG (range and geometry in headers)."""

    def work() -> Response:
        if body.display.per_channel:
            raise ApiError(422, "parameter", "display.per_channel", "`per_channel` draws a "
                           "convolution's contribution from each input channel; pooling keeps "
                           "channels apart, so there is nothing to split",
                           accepted="`per_channel: false` here (every channel is already its "
                           'own map with `layout: "grid"`)', suggestion={"per_channel": False})
        r = _pool(body, store, settings)
        maps = r["full"]
        shape = list(maps.shape[1:] if r["squeeze"] else maps.shape)
        start = time.perf_counter()
        png, extra = render_maps(maps, body.display, compress_level=settings.png_compress_level,
                                 max_pixels=settings.max_output_elements)
        headers = svertka_headers(shape, r["padding"],
                                  elapsed_ms=f"{r['elapsed_ms']:.3f}")
        timing = timing_header(pool=r["elapsed_ms"],
                               render=(time.perf_counter() - start) * 1000.0)
        return png_response(png, {**headers, **extra, **timing})

    return await run_cpu(limiter, work)


@router.post("/pool/frames", response_model=PoolFramesResponse)
async def list_pool_frames(body: PoolFramesRequest, settings: SettingsDep, store: StoreDep,
                           limiter: LimiterDep) -> Response:
    """Page through pooling windows: the taps, the winner (max) or sum and divisor (avg)."""

    def work() -> Response:
        if body.global_pool or body.kernel_size is None:
            raise ApiError(422, "validation", "kernel_size", "pooling frames need a window: "
                           "give `kernel_size` (global pooling has a single window per channel)",
                           accepted="an int >= 1 or one per axis", suggestion={"kernel_size": 2})
        x = load_input(body, store, settings)
        grey_photo = body.image_id is not None and x.ndim == 2
        if grey_photo:
            x = x[None]
        g = pool_geometry(x, mode=body.mode, kernel_size=body.kernel_size, stride=body.stride,
                          padding=body.padding, dilation=body.dilation,
                          ceil_mode=body.ceil_mode, count_include_pad=body.count_include_pad)
        per_frame = 3 * math.prod(g.kernel) + 16
        limit = max(1, min(body.limit, settings.max_frames_per_page,
                           settings.max_json_elements // per_frame))
        batch = pool_frames(g.x, mode=body.mode, kernel_size=list(g.kernel), stride=g.stride,
                            padding=g.pads, dilation=g.dilation, ceil_mode=g.ceil_mode,
                            count_include_pad=g.count_include_pad, offset=body.offset,
                            limit=limit, positions=body.positions, channels=body.channels)
        end = body.offset + len(batch)
        shape = list(g.out_shape) if g.squeeze or grey_photo else [g.x.shape[0], *g.out_shape]
        return json_response({
            "total": batch.total, "offset": body.offset, "limit": limit,
            "next_offset": end if len(batch) and end < batch.total else None,
            "frames": batch.to_list(), "shape": shape,
            "padding": [list(p) for p in g.pads],
            "explain": explain_output_shape(g.spatial_shape, g.kernel, stride=g.stride,
                                            padding=g.pads, dilation=g.dilation,
                                            ceil_mode=g.ceil_mode),
        })

    return await run_cpu(limiter, work)
