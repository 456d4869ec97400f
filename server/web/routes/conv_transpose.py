"""Transposed convolution (PyTorch's conv_transposeNd)."""

from __future__ import annotations

import math
import time

import numpy as np
from fastapi import APIRouter
from starlette.responses import Response

from ...core import as_tuple, conv_transpose, conv_transpose_frames, conv_transpose_shape
from ...core import gather_geometry as core_gather_geometry
from ..arrays import load_input, to_ndarray
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import limit_error
from ..pipeline import check_size
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.misc import ConvTransposeRequest, ConvTransposeResponse
from ..schemas.transpose import ConvTransposeFramesRequest, ConvTransposeFramesResponse
from ..timing import timing_header
from .conv import check_finite, check_json_size
from .frames import MAX_FRAMES

router = APIRouter(prefix="/api", tags=["convolution"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)


def _geometry(x: np.ndarray, w: np.ndarray, groups: int) -> tuple[tuple[int, ...],
                                                                    tuple[int, ...], int] | None:
    """Spatial shape, kernel shape and filter count under DESIGN §2's rules (None: let the
    core report the mismatch)."""
    if x.ndim == w.ndim and 1 <= x.ndim <= 3:
        return x.shape, w.shape, 1
    if w.ndim == x.ndim + 2 and 1 <= x.ndim <= 3:
        return x.shape, w.shape[2:], w.shape[1] * groups
    if w.ndim == x.ndim + 1 and 2 <= x.ndim <= 4:
        return x.shape[1:], w.shape[2:], w.shape[1] * groups
    return None


@router.post("/conv_transpose", response_model=ConvTransposeResponse)
async def compute_conv_transpose(body: ConvTransposeRequest, settings: SettingsDep,
                                 store: StoreDep, limiter: LimiterDep) -> Response:
    """Transposed convolution: each input value scatters a scaled kernel into the output."""

    def work() -> Response:
        x = load_input(body, store, settings)
        w = to_ndarray(body.kernel, "kernel", max_elements=settings.max_json_elements)
        w = w.astype(x.dtype)
        explain: list[str] = []
        padding: list[list[int]] = []
        # groups < 1: no geometry to estimate; the core names the parameter
        geometry = _geometry(x, w, body.groups) if body.groups >= 1 else None
        if geometry is not None:
            spatial, kernel, filters = geometry
            out = conv_transpose_shape(spatial, kernel, stride=body.stride, padding=body.padding,
                                       output_padding=body.output_padding,
                                       dilation=body.dilation)
            nd = len(spatial)
            s, p, d, op = (as_tuple(v, nd, name, minimum=m) for v, name, m in (
                (body.stride, "stride", 1), (body.padding, "padding", 0),
                (body.dilation, "dilation", 1), (body.output_padding, "output_padding", 0)))
            padding = [[p[a], p[a]] for a in range(nd)]
            explain = [f"axis {a}: ({spatial[a]} - 1)*{s[a]} - 2*{p[a]} + {d[a]}*({kernel[a]} - "
                       f"1) + {op[a]} + 1 = {out[a]}" for a in range(nd)]
            channels = x.size // math.prod(spatial)
            # every input value scatters one kernel per output channel of its group
            work = channels * (filters // body.groups or 1) * math.prod(kernel) * math.prod(spatial)
            check_size(filters * math.prod(out), work, body, x.shape, settings)
        start = time.perf_counter()
        y = conv_transpose(x, w, bias=body.bias, stride=body.stride, padding=body.padding,
                           output_padding=body.output_padding, dilation=body.dilation,
                           groups=body.groups)
        elapsed = (time.perf_counter() - start) * 1000.0
        check_finite(y)
        check_json_size(y, settings.max_json_elements)
        return json_response({
            "shape": list(y.shape), "output": y, "padding": padding, "explain": explain,
            "input_shape": list(x.shape), "kernel_shape": list(w.shape),
            "range": [float(y.min()), float(y.max())], "elapsed_ms": round(elapsed, 3),
        })

    return await run_cpu(limiter, work)


def _operands(body: ConvTransposeRequest, store: object, settings: object) -> tuple[
        np.ndarray, np.ndarray, tuple[tuple[int, ...], tuple[int, ...], int] | None]:
    """The input, the kernel (in the input's dtype) and their geometry (None: the core names
    the mismatch)."""
    x = load_input(body, store, settings)  # type: ignore[arg-type]
    w = to_ndarray(body.kernel, "kernel", max_elements=settings.max_json_elements)  # type: ignore[attr-defined]
    w = w.astype(x.dtype)
    geometry = _geometry(x, w, body.groups) if body.groups >= 1 else None
    return x, w, geometry


@router.post("/conv_transpose/frames", response_model=ConvTransposeFramesResponse)
async def list_conv_transpose_frames(body: ConvTransposeFramesRequest, settings: SettingsDep,
                                     store: StoreDep, limiter: LimiterDep) -> Response:
    """Page through every output cell of a transposed convolution with the stamps reaching it."""

    def work() -> Response:
        start = time.perf_counter()
        x, w, geometry = _operands(body, store, settings)
        limit = max(1, min(body.limit, settings.max_frames_per_page))
        if geometry is not None:
            spatial, kernel, filters = geometry
            out = conv_transpose_shape(spatial, kernel, stride=body.stride, padding=body.padding,
                                       output_padding=body.output_padding,
                                       dilation=body.dilation)
            total = filters * math.prod(out)
            if total > MAX_FRAMES:
                raise limit_error("input", f"this `input` gives {total} frames, more than "
                                  f"{MAX_FRAMES} (2**53 - 1), the largest index a JSON client "
                                  "such as a browser can represent exactly",
                                  accepted=f"at most {MAX_FRAMES} frames: a smaller input or "
                                  "stride")
            channels = x.size // math.prod(spatial)
            # a tap is a dict of 4 + 2*nd numbers; a frame has a few more besides
            per_frame = (channels // body.groups) * math.prod(kernel) * (4 + 2 * len(spatial))
            limit = max(1, min(limit, settings.max_json_elements // (per_frame + 16)))
        batch = conv_transpose_frames(
            x, w, bias=body.bias, stride=body.stride, padding=body.padding,
            output_padding=body.output_padding, dilation=body.dilation, groups=body.groups,
            offset=body.offset, limit=limit, positions=body.positions, filters=body.filters,
        )
        check_finite(batch.tap_product)
        check_finite(batch.value)  # null in JSON would hide the overflow
        nd = batch.position.shape[1]
        spatial = tuple(int(n) for n in x.shape[-nd:]) if geometry is None else geometry[0]
        kernel = tuple(int(k) for k in w.shape[-nd:])
        axes = core_gather_geometry(spatial, kernel, stride=body.stride, padding=body.padding,
                                    output_padding=body.output_padding, dilation=body.dilation)
        s, p, d, op = (as_tuple(v, nd, name, minimum=m) for v, name, m in (
            (body.stride, "stride", 1), (body.padding, "padding", 0),
            (body.dilation, "dilation", 1), (body.output_padding, "output_padding", 0)))
        explain = [f"axis {a}: ({spatial[a]} - 1)*{s[a]} - 2*{p[a]} + {d[a]}*({kernel[a]} - 1) "
                   f"+ {op[a]} + 1 = {batch.output_shape[a]}" for a in range(nd)]
        shorthand = x.ndim == w.ndim
        n_filters = 1 if shorthand else int(w.shape[1]) * body.groups
        shape = list(batch.output_shape) if shorthand else [n_filters, *batch.output_shape]
        end = body.offset + len(batch)
        elapsed = (time.perf_counter() - start) * 1000.0
        return json_response(headers=timing_header(frames=elapsed), content={
            "total": batch.total, "offset": body.offset, "limit": limit,
            "next_offset": end if len(batch) and end < batch.total else None,
            "frames": batch.to_list(), "shape": shape,
            "padding": [[p[a], p[a]] for a in range(nd)], "explain": explain, "gather": axes,
        })

    return await run_cpu(limiter, work)
