"""A convolution as the dense weight matrix of a fully connected layer, with the lesson's counts."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter
from starlette.responses import Response

from ...core import conv_matrix, conv_matrix_counts
from ...core.shapes import as_tuple, output_shape, resolve_padding
from ..arrays import to_ndarray
from ..deps import LimiterDep, SettingsDep, StrictJSONRoute, run_cpu
from ..errors import ApiError, limit_error
from ..responses import json_response
from ..schemas.conv_matrix import (
    MAX_MATRIX_ENTRIES,
    MAX_WINDOW,
    ConvMatrixRequest,
    ConvMatrixResponse,
)
from ..schemas.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["convolution"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)

# JavaScript numbers are exact up to 2**53 - 1; a larger count would reach the page rounded.
MAX_COUNT = 2**53 - 1


def _shapes(body: ConvMatrixRequest, kernel: np.ndarray | None) -> tuple[list[int], list[int]]:
    """The core's input shape (with the shorthand for a one-channel kernel) and kernel shape."""
    spatial = list(body.input_shape)
    nd = len(spatial)
    if kernel is None:
        k = as_tuple(body.kernel_size, nd, "kernel_size")
        channels, filters = body.channels or 1, body.filters or 1
        if channels % body.groups or filters % body.groups:
            raise ApiError(422, "shape", "groups", f"`groups` = {body.groups} must divide the "
                           f"channels ({channels}) and the filters ({filters})",
                           accepted=f"a common divisor of {channels} and {filters}",
                           suggestion={"groups": 1})
        return [channels, *spatial], [filters, channels // body.groups, *k]
    if body.filters is not None:
        raise ApiError(422, "validation", "filters", "`filters` goes with `kernel_size`; an "
                       "inline `kernel` has its filters on its first axis",
                       accepted="leave it out", suggestion={"filters": None})
    if kernel.ndim == nd:
        channels = 1
        shapes = spatial, list(kernel.shape)
    elif kernel.ndim == nd + 2:
        channels = kernel.shape[1] * body.groups
        shapes = [channels, *spatial], list(kernel.shape)
    else:
        raise ApiError(422, "shape", "kernel", f"`kernel` has {kernel.ndim} axes; for an input "
                       f"of {nd} spatial axes it needs {nd} (one channel, one filter) or "
                       f"{nd + 2} (filters, channels per group, then the window)",
                       accepted=f"a kernel of {nd} or {nd + 2} axes")
    if body.channels is not None and body.channels != channels:
        raise ApiError(422, "shape", "channels", f"`channels` = {body.channels} disagrees with "
                       f"the kernel, which reads {channels} input channels (shape "
                       f"{list(kernel.shape)}, groups {body.groups})",
                       accepted=f"{channels}, or leave it out", suggestion={"channels": None})
    return shapes


def _matrix(body: ConvMatrixRequest, max_json: int) -> dict[str, Any]:
    if (body.kernel is None) == (body.kernel_size is None):
        raise ApiError(422, "validation", "kernel", "give exactly one of `kernel` (the numbers) "
                       "or `kernel_size` (with `channels` and `filters`)",
                       accepted="`kernel` or `kernel_size`")
    if body.kernel is None and body.channels is None and body.groups > 1:
        raise ApiError(422, "validation", "channels", "`groups` needs `channels`",
                       accepted="the input channels, a multiple of `groups`")
    kernel = (None if body.kernel is None
              else to_ndarray(body.kernel, "kernel", max_elements=max_json))
    input_shape, kernel_shape = _shapes(body, kernel)
    geometry = {"stride": body.stride, "padding": body.padding, "dilation": body.dilation,
                "groups": body.groups}
    nd = len(body.input_shape)
    x_full = input_shape if len(input_shape) > nd else [1, *input_shape]
    w_full = kernel_shape if len(kernel_shape) > nd else [1, 1, *kernel_shape]
    pads = resolve_padding(body.padding, spatial_shape=body.input_shape,
                           kernel_shape=w_full[2:], stride=body.stride, dilation=body.dilation)
    if max(max(p) for p in pads) > MAX_WINDOW:
        raise ApiError(422, "parameter", "padding", f"`padding` {[list(p) for p in pads]} is "
                       f"more than {MAX_WINDOW} on a side", accepted=f"at most {MAX_WINDOW} per "
                       "side", suggestion={"padding": "same"})
    counts = conv_matrix_counts(input_shape, kernel_shape, **geometry)
    if counts.fully_connected > MAX_COUNT:
        raise limit_error("input_shape", f"a fully connected layer here would have "
                          f"{counts.fully_connected} weights, more than a browser counts "
                          f"exactly (2**53 - 1)", accepted="a smaller input or fewer filters")
    entries = counts.fully_connected  # rows x columns
    limit = None
    if entries > MAX_MATRIX_ENTRIES and body.include != "counts":
        message = (f"`input_shape` {list(body.input_shape)} with these channels and filters "
                   f"gives a matrix of {counts.outputs} x {counts.inputs} = {entries} entries, "
                   f"more than the {MAX_MATRIX_ENTRIES} answered")
        accepted = (f"at most {MAX_MATRIX_ENTRIES} entries: a smaller input, fewer channels "
                    "or filters; the counts are answered for any size")
        if body.include == "always":
            raise limit_error("input_shape", message, accepted=accepted,
                              suggestion={"include": "auto"})
        limit = {"message": message, "accepted": accepted}
    full = (conv_matrix(input_shape, kernel if kernel is not None else np.zeros(kernel_shape),
                        **geometry) if body.include != "counts" and limit is None else None)
    out = output_shape(body.input_shape, w_full[2:], stride=body.stride, padding=pads,
                       dilation=body.dilation)
    answer: dict[str, Any] = {
        "input_shape": x_full, "kernel_shape": w_full, "output_shape": [w_full[0], *out],
        "padding": [list(p) for p in pads],
        "rows": counts.outputs, "columns": counts.inputs, "counts": counts.as_dict(),
        "index": full.index if full is not None else None,
        "matrix": full.matrix if full is not None and kernel is not None else None,
        "limit": limit,
    }
    return answer


@router.post("/conv/matrix", response_model=ConvMatrixResponse)
async def compute_conv_matrix(body: ConvMatrixRequest, settings: SettingsDep,
                              limiter: LimiterDep) -> Response:
    """A convolution as a fully connected layer's weight matrix: entries, weights, counts."""
    return await run_cpu(limiter, lambda: json_response(_matrix(body, settings.max_json_elements)))
