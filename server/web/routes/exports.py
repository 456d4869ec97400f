"""POST /api/frames/animation: the sliding window of a convolution or pooling as an animated image.

The frames are the same as `/api/frames` (convolution) or `server.core.pool_frames` (pooling);
`server.imaging.animation` draws them. Animations are for small teaching inputs, so the size of
the picture and the number of frames are bounded before anything is drawn.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from ...core import frames, pad, pool_frames
from ...core.shapes import as_tuple
from ...imaging.animation import Stage, StageFrame, format_number, render_animation
from ..arrays import load_input
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import ApiError, limit_error
from ..pipeline import plan_conv
from ..schemas.common import IntOrPerAxis
from ..schemas.conv import FramesRequest
from ..schemas.errors import ERROR_RESPONSES

__all__ = ["AnimationRequest", "router", "MAX_FRAMES", "MAX_SIDE", "MAX_CHANNELS"]

MAX_FRAMES = 400
"""Most frames in one animation (a 16x16 input with a 3x3 kernel and padding 1 has 256)."""
MAX_SIDE = 40
"""Most cells along either side of the padded input: beyond it the numbers are unreadable."""
MAX_CHANNELS = 4
"""Most input channels drawn side by side."""

router = APIRouter(prefix="/api", tags=["convolution"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)


class AnimationRequest(FramesRequest):
    """The `/api/frames` body (or a pooling one with `op: "pool"`) plus the picture's format."""

    op: Literal["conv", "pool"] = Field(
        default="conv", description='`"conv"`: the convolution fields as for `/api/frames`. '
        '`"pool"`: `mode`, `kernel_size`, `stride`, `padding`, `dilation`, `ceil_mode`, '
        "`count_include_pad` as for `/api/pool`; `filters` then selects channels.",
    )
    mode: Literal["max", "avg"] | None = Field(default=None, description="Pooling: max or avg.")
    kernel_size: IntOrPerAxis | None = Field(default=None, description="Pooling window.")
    stride: IntOrPerAxis | None = Field(  # type: ignore[assignment]
        default=None, description="Step of the window (default 1 for a convolution, "
        "`kernel_size` for pooling).")
    ceil_mode: bool = Field(default=False, description="Pooling: keep a last partial window.")
    count_include_pad: bool = Field(default=True, description="avg pooling: count padded "
                                    "zeros in the divisor.")
    limit: int | None = Field(  # type: ignore[assignment]
        default=None, ge=1, description=f"Frames to draw from `offset` (default: all, at most "
        f"{MAX_FRAMES}).")
    format: Literal["gif", "webp"] = Field(default="gif", description="Animated GIF or WebP.")
    fps: float = Field(default=2.0, gt=0, le=30, description="Frames per second.")

    model_config = {"json_schema_extra": {"examples": [
        {"input": [[1, 2, 0], [3, 1, 2], [0, 1, 4]], "kernel": [[1, 0], [-1, 2]],
         "format": "gif", "fps": 2},
        {"op": "pool", "input": [[1, 3, 2, 1], [4, 6, 5, 0], [3, 2, 1, 7], [1, 8, 2, 4]],
         "mode": "max", "kernel_size": 2, "format": "webp"},
    ]}}


@router.post(
    "/frames/animation",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}, "image/webp": {}},
                     "description": "The animation; `X-Svertka-Frames` says how many frames."}},
)
async def create_animation(req: AnimationRequest, settings: SettingsDep, store: StoreDep,
                           limiter: LimiterDep) -> Response:
    """Draw the sliding window frame by frame as an animated GIF or WebP."""
    data, count = await run_cpu(limiter, build_animation, req, store, settings)
    return Response(
        content=data, media_type=f"image/{req.format}",
        headers={"Content-Disposition": f'inline; filename="svertka-frames.{req.format}"',
                 "X-Svertka-Frames": str(count)},
    )


def build_animation(req: AnimationRequest, store: Any, settings: Any) -> tuple[bytes, int]:
    """The encoded animation and its number of frames (runs in the CPU threadpool)."""
    requested = req.limit if req.limit is not None else MAX_FRAMES + 1
    if req.limit is not None and req.limit > MAX_FRAMES:
        raise _too_many(req.limit)
    if req.op == "pool":
        stage, stage_frames = _pool_scene(req, store, settings, requested)
    else:
        stage, stage_frames = _conv_scene(req, store, settings, requested)
    if not stage_frames:
        raise ApiError(422, "parameter", "offset", f"`offset` {req.offset} is past the last "
                       "frame: there is nothing to draw", accepted="an offset below the number "
                       "of frames", suggestion={"offset": 0})
    if len(stage_frames) > MAX_FRAMES:
        raise _too_many(None)
    data = render_animation(stage, stage_frames, fmt=req.format, fps=req.fps)
    return data, len(stage_frames)


def _too_many(limit: int | None) -> ApiError:
    got = f"`limit` {limit} asks for" if limit is not None else "the request has"
    return limit_error("limit", f"{got} more than {MAX_FRAMES} frames; an animation draws at "
                       f"most {MAX_FRAMES}", accepted=f"`offset` and a `limit` of at most "
                       f"{MAX_FRAMES}, or a smaller input", suggestion={"limit": MAX_FRAMES})


def _check_picture(x: np.ndarray, pads: Any, *, photo: bool) -> None:
    if x.ndim not in (2, 3):
        raise ApiError(422, "shape", "input", f"an animation draws inputs with one or two "
                       f"spatial axes (signals or matrices, one per channel); got {x.ndim - 1} "
                       f"spatial axes in shape {list(x.shape)}",
                       accepted="`(L)`, `(C, L)`, `(H, W)` or `(C, H, W)`")
    if x.shape[0] > MAX_CHANNELS:
        raise limit_error("input", f"the input has {x.shape[0]} channels; an animation draws at "
                          f"most {MAX_CHANNELS} side by side", accepted=f"at most {MAX_CHANNELS} "
                          "channels")
    sides = [n + b + a for n, (b, a) in zip(x.shape[1:], pads, strict=True)]
    if max(sides) > MAX_SIDE:
        # `max_side` only shrinks a photo: with an inline input it is itself a 422
        raise limit_error("input", f"the padded input is {'x'.join(map(str, sides))} cells; an "
                          f"animation draws at most {MAX_SIDE} per side", accepted=f"inputs of "
                          f"at most {MAX_SIDE} cells per side with the padding, e.g. a photo "
                          "with a small `max_side`", suggestion={"max_side": 16} if photo
                          else None)


def _picture(values: Any, row: int) -> tuple[int, int]:
    """Per-axis values as the picture's (row, column): a signal is drawn as one row, so its
    row gets ``row`` (0 for a coordinate, 1 for a size, a step or a dilation)."""
    ints = [int(v) for v in values]
    return (row, ints[0]) if len(ints) == 1 else (ints[0], ints[1])


def _row(coords: Any) -> tuple[int, int]:
    """Picture coordinates of an input or output position."""
    return _picture(coords, 0)


def _as_rows(padded: np.ndarray, pads: Any) -> tuple[np.ndarray, Any]:
    """A signal's padded input ``(C, L)`` and its pads as a picture one row tall."""
    if padded.ndim == 3:
        return padded, pads
    return padded[:, None], ((0, 0), *pads)


def _size(shape: Any) -> str:
    """A shape as the title writes it: ``3×5×5``."""
    return "×".join(str(int(n)) for n in shape)


def _axes(values: Any) -> str:
    """One number when every axis (or side) agrees, else all of them."""
    values = [int(v) for v in values]
    return str(values[0]) if len(set(values)) == 1 else ",".join(map(str, values))


def _wrap(value: float) -> str:
    text = format_number(value)
    return f"({text})" if text.startswith("−") else text


def _conv_formula(patch: np.ndarray, weights: np.ndarray, bias: float | None, value: float,
                  activation: str | None, output: float) -> tuple[str, str]:
    groups = [" + ".join(f"{_wrap(x)}·{_wrap(w)}" for x, w in zip(p.ravel(), k.ravel(),
                                                                  strict=True))
              for p, k in zip(patch, weights, strict=True)]
    sums = [float((p * k).sum()) for p, k in zip(patch, weights, strict=True)]
    full = " + ".join(f"({g})" for g in groups) if len(groups) > 1 else groups[0]
    short = " + ".join(_wrap(s) for s in sums)
    tail = f" + {_wrap(bias)}" if bias is not None else ""
    tail += f" = {format_number(value)}"
    if activation:
        tail += f"  →  {activation}({format_number(value)}) = {format_number(output)}"
    if len(groups) == 1:
        short = f"Σ = {format_number(sums[0])}"
    return full + tail, short + tail


def _conv_scene(req: AnimationRequest, store: Any, settings: Any,
                requested: int) -> tuple[Stage, list[StageFrame]]:
    conv_req = req.model_copy(update={"stride": 1 if req.stride is None else req.stride})
    job = plan_conv(conv_req, store, settings)  # type: ignore[arg-type]
    _check_picture(job.x, job.pads, photo=req.image_id is not None)
    batch = frames(
        job.x, job.w, bias=job.bias, stride=job.stride, padding=job.pads,
        padding_mode=job.padding_mode, dilation=job.dilation, groups=job.groups, flip=job.flip,
        activation=job.activation, activation_params=job.activation_params,
        offset=req.offset, limit=requested, positions=req.positions, filters=req.filters,
    )
    x = np.asarray(job.x, dtype=np.float64)
    nd = x.ndim - 1
    weights = np.asarray(job.w, dtype=np.float64)
    if job.flip:  # what the frames' products actually used
        weights = weights[(..., *[slice(None, None, -1)] * nd)]
    n_filters, per_group = weights.shape[:2]
    stage_frames = []
    for i in range(len(batch)):
        f = int(batch.filter[i])
        first = (f // (n_filters // job.groups)) * per_group
        formula, short = _conv_formula(
            batch.patch[i], weights[f], None if job.bias is None else float(batch.bias[i]),
            float(batch.value[i]), job.activation, float(batch.output[i]))
        stage_frames.append(StageFrame(
            map=f, position=_row(batch.position[i]), origin=_row(batch.origin[i]),
            output=float(batch.output[i]), formula=formula, short_formula=short,
            channels=tuple(range(first, first + per_group)),
        ))
    stride, dilation = as_tuple(job.stride, nd, "stride"), as_tuple(job.dilation, nd, "dilation")
    out_text = _size((n_filters, *batch.output_shape) if n_filters > 1 else batch.output_shape)
    title = (f"{_size(x.shape[1:])} ⊛ {_size(weights.shape[2:])}  "
             f"stride {_axes(stride)}  padding {_axes(np.ravel(batch.padding))}  dilation "
             f"{_axes(dilation)}  → {out_text}")
    padded, pads = _as_rows(pad(x, batch.padding, job.padding_mode), batch.padding)
    kernel = weights if nd == 2 else weights[:, :, None]
    stage = Stage(
        padded=padded, pads=pads, kernel_size=_picture(kernel.shape[2:], 1),
        dilation=_picture(dilation, 1), output_shape=_picture(batch.output_shape, 1),
        maps=n_filters, title=title, kernel=kernel,
    )
    return stage, stage_frames


def _pool_scene(req: AnimationRequest, store: Any, settings: Any,
                requested: int) -> tuple[Stage, list[StageFrame]]:
    if req.mode is None or req.kernel_size is None:
        missing = "mode" if req.mode is None else "kernel_size"
        raise ApiError(422, "validation", missing, f'`op` "pool" needs `{missing}`',
                       accepted='`mode` ("max" or "avg") and `kernel_size`')
    x = load_input(req, store, settings)
    # a bare signal, or channels of signals pooled by a one-axis window, has one spatial axis;
    # any other two-axis input is a grey matrix (as /api/pool reads it)
    signal = x.ndim == 1 or (x.ndim == 2 and isinstance(req.kernel_size, list)
                             and len(req.kernel_size) == 1)
    if x.ndim == 1 or (x.ndim == 2 and not signal):
        x = x[None]
    batch = pool_frames(
        x, mode=req.mode, kernel_size=req.kernel_size, stride=req.stride, padding=req.padding,
        dilation=req.dilation, ceil_mode=req.ceil_mode, count_include_pad=req.count_include_pad,
        offset=req.offset, limit=requested, positions=req.positions, channels=req.filters,
    )
    _check_picture(x, batch.padding, photo=req.image_id is not None)
    nd = x.ndim - 1
    window_shape = as_tuple(req.kernel_size, nd, "kernel_size")
    stage_frames = []
    for i in range(len(batch)):
        window = batch.window[i]
        counted = batch.counted[i]
        if req.mode == "max":
            values = ", ".join(format_number(v) for v, c in zip(window.ravel(), counted.ravel(),
                                                                strict=True) if c)
            formula = f"max({values}) = {format_number(float(batch.value[i]))}"
            winner: tuple[int, int] | None = _row(batch.winner[i])
        else:
            values = " + ".join(_wrap(v) for v, c in zip(window.ravel(), counted.ravel(),
                                                         strict=True) if c)
            formula = (f"({values}) / {int(batch.divisor[i])} = "
                       f"{format_number(float(batch.value[i]))}")
            winner = None
        c = int(batch.channel[i])
        stage_frames.append(StageFrame(
            map=c, position=_row(batch.position[i]), origin=_row(batch.origin[i]),
            output=float(batch.value[i]), formula=formula, channels=(c,), winner=winner,
        ))
    fill = math.nan if req.mode == "max" else 0.0  # max pads with -inf: drawn as empty cells
    padded = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), *batch.padding),
                    constant_values=fill)
    stride = as_tuple(req.kernel_size if req.stride is None else req.stride, nd, "stride")
    dilation = as_tuple(req.dilation, nd, "dilation")
    title = (f"{req.mode} pool {_size(x.shape[1:])}  window {_size(window_shape)}  stride "
             f"{_axes(stride)}  padding {_axes(np.ravel(batch.padding))}  → "
             f"{_size(batch.output_shape)}")
    padded, pads = _as_rows(padded, batch.padding)
    stage = Stage(
        padded=padded, pads=pads, kernel_size=_picture(window_shape, 1),
        dilation=_picture(dilation, 1), output_shape=_picture(batch.output_shape, 1),
        maps=int(x.shape[0]), title=title, kernel=None,
    )
    return stage, stage_frames
