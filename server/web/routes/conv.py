"""Convolution: numbers (JSON or .npy) and rendered feature maps (PNG)."""

from __future__ import annotations

import time
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query
from starlette.responses import Response

from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import ApiError, limit_error
from ..pipeline import channel_partials, plan_conv, run_conv
from ..rendering import render_maps
from ..responses import json_response, npy_response, png_response, svertka_headers
from ..schemas.conv import ConvRenderRequest, ConvRequest, ConvResponse
from ..schemas.errors import ERROR_RESPONSES
from ..timing import timing_header

router = APIRouter(prefix="/api", tags=["convolution"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)

FormatQuery = Annotated[Literal["json", "npy"], Query(
    description='`"json"`: nested lists. `"npy"`: the raw float32 array as a NumPy `.npy` '
    "file (`numpy.load(io.BytesIO(body))`), for large outputs; shape and padding in the "
    "`X-Svertka-Shape` and `X-Svertka-Padding` headers.")]


def check_json_size(array: np.ndarray, limit: int) -> None:
    """Big results go out as PNG or .npy: JSON of millions of floats helps nobody."""
    if array.size > limit:
        raise limit_error("format", f"the output has {array.size} numbers, more than the JSON "
                          f"limit of {limit}; ask for `format=npy` or a PNG",
                          accepted="`?format=npy` (raw float32) or POST /api/conv/render (PNG) "
                          "for large results",
                          suggestion={"format": "npy"})


def check_finite(array: np.ndarray, cause: str = "`input` or `kernel` values are") -> None:
    """A result that overflowed to infinity is the input's fault: 422, never ``null`` in JSON."""
    if not np.isfinite(array).all():
        raise ApiError(422, "parameter", "input", "the result overflows the floating-point "
                       f"range: {cause} too large for float64",
                       accepted="values of moderate magnitude (|x| well below 1e308)")


@router.post("/conv", response_model=ConvResponse,
             responses={200: {"content": {"application/x-npy": {}}}})
async def compute_conv(body: ConvRequest, settings: SettingsDep, store: StoreDep,
                       limiter: LimiterDep, format: FormatQuery = "json") -> Response:
    """Convolve an input (numbers or a stored photo) with a kernel; optionally activate, pool."""

    def work() -> Response:
        job = plan_conv(body, store, settings)
        result = run_conv(job, body.pool)
        out = result.output[0] if job.squeeze else result.output
        check_finite(out)
        timing = timing_header(conv=result.elapsed_ms)
        if format == "npy":
            return npy_response(out, {**svertka_headers(out.shape, job.pads,
                                                        method=result.method), **timing})
        check_json_size(out, settings.max_json_elements)
        return json_response(headers=timing, content={
            "shape": list(out.shape), "output": out, "padding": [list(p) for p in job.pads],
            "explain": job.explain, "pool_padding": None if result.pool_pads is None
            else [list(p) for p in result.pool_pads], "pool_explain": result.pool_explain,
            "input_shape": list(job.input_shape), "kernel_shape": list(job.w.shape),
            "groups": job.groups, "method": result.method,
            "range": [float(out.min()), float(out.max())],
            "elapsed_ms": round(result.elapsed_ms, 3),
        })

    return await run_cpu(limiter, work)


@router.post("/conv/render", response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "The feature map(s)."}})
async def render_conv(body: ConvRenderRequest, settings: SettingsDep, store: StoreDep,
                      limiter: LimiterDep) -> Response:
    """Convolve like /api/conv and draw the result as PNG (range and geometry in headers)."""
    spec = body.display

    def work() -> Response:
        job = plan_conv(body, store, settings)
        labels = None
        start = time.perf_counter()
        if spec.per_channel:
            if body.pool is not None:
                raise ApiError(422, "parameter", "display.per_channel", "`per_channel` shows "
                               "the convolution before pooling; remove `pool` or set "
                               "`per_channel` to false", accepted="`per_channel` without `pool`",
                               suggestion={"per_channel": False})
            partials = channel_partials(job, spec.filter)
            result = run_conv(job)
            total = result.activated[spec.filter]
            maps = np.concatenate([partials, total[None].astype(partials.dtype)])
            check_finite(maps)
            names = ["R", "G", "B"] if body.image_id and body.color == "rgb" else [
                f"c{i}" for i in range(partials.shape[0])]
            labels = [*names[: partials.shape[0]], "sum"]
            shape = list(maps.shape)
            spec_single = spec.model_copy(update={"layout": "grid"})
            png, extra = render_maps(maps, spec_single, compress_level=settings.png_compress_level,
                                     labels=labels)
        else:
            result = run_conv(job, body.pool)
            check_finite(result.output)
            out = result.output
            shape = list(out.shape[1:] if job.squeeze else out.shape)
            png, extra = render_maps(out, spec, compress_level=settings.png_compress_level,
                                     max_pixels=settings.max_output_elements)
        total_ms = (time.perf_counter() - start) * 1000.0
        headers = svertka_headers(shape, job.pads, method=result.method,
                                  elapsed_ms=f"{result.elapsed_ms:.3f}")
        timing = timing_header(conv=result.elapsed_ms, render=total_ms - result.elapsed_ms)
        return png_response(png, {**headers, **extra, **timing})

    return await run_cpu(limiter, work)
