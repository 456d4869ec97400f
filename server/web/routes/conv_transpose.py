"""Transposed convolution (PyTorch's conv_transposeNd)."""

from __future__ import annotations

import math
import time

import numpy as np
from fastapi import APIRouter
from starlette.responses import Response

from ...core import as_tuple, conv_transpose, conv_transpose_shape
from ..arrays import load_input, to_ndarray
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..pipeline import check_size
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.misc import ConvTransposeRequest, ConvTransposeResponse
from .conv import check_finite, check_json_size

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
