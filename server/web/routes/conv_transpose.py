"""Transposed convolution (PyTorch's conv_transposeNd)."""

from __future__ import annotations

import math
import time

import numpy as np
from fastapi import APIRouter
from starlette.responses import Response

from ...core import as_tuple, conv_transpose, conv_transpose_frames, conv_transpose_shape
from ...core import gather_geometry as core_gather_geometry
from ...imaging.animation import (
    ScatterFrame,
    ScatterStage,
    Stage,
    StageFrame,
    format_number,
    render_animation,
    render_scatter_animation,
)
from ..arrays import load_input, to_ndarray
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import ApiError, limit_error
from ..pipeline import check_size
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.misc import ConvTransposeRequest, ConvTransposeResponse
from ..schemas.transpose import (
    ConvTransposeAnimationRequest,
    ConvTransposeFramesRequest,
    ConvTransposeFramesResponse,
)
from ..timing import timing_header
from .conv import check_finite, check_json_size
from .exports import MAX_CHANNELS, MAX_SIDE, _axes, _size, _too_many, _wrap
from .exports import MAX_FRAMES as MAX_ANIMATION_FRAMES
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


@router.post(
    "/conv_transpose/animation",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}, "image/webp": {}},
                     "description": "The animation; `X-Svertka-Frames` says how many frames."}},
)
async def create_conv_transpose_animation(req: ConvTransposeAnimationRequest,
                                          settings: SettingsDep, store: StoreDep,
                                          limiter: LimiterDep) -> Response:
    """Draw a transposed convolution step by step (scatter or gather view) as a GIF or WebP."""
    data, count = await run_cpu(limiter, build_transpose_animation, req, store, settings)
    return Response(
        content=data, media_type=f"image/{req.format}",
        headers={"Content-Disposition": f'inline; filename="svertka-transposed-{req.view}.'
                 f'{req.format}"', "X-Svertka-Frames": str(count)},
    )


def _as_channels(x: np.ndarray, w: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The input as (C, *S) and the kernel as (C, F/groups, *K), as the core reads them."""
    if x.ndim == w.ndim and 1 <= x.ndim <= 3:
        return x[None], w[None, None]
    if w.ndim == x.ndim + 2:
        return x[None], w
    return x, w


def build_transpose_animation(req: ConvTransposeAnimationRequest, store: object,
                              settings: object) -> tuple[bytes, int]:
    """The encoded animation and its number of frames (runs in the CPU threadpool)."""
    if req.limit is not None and req.limit > MAX_ANIMATION_FRAMES:
        raise _too_many(req.limit)
    x, w, geometry = _operands(req, store, settings)
    kw = {"stride": req.stride, "padding": req.padding, "output_padding": req.output_padding,
          "dilation": req.dilation}
    if geometry is None:  # the core words the mismatch
        conv_transpose_frames(x, w, groups=req.groups, limit=1, **kw)
    xc, wc = _as_channels(np.asarray(x, np.float64), np.asarray(w, np.float64), req.groups)
    nd = xc.ndim - 1
    if nd > 2:
        raise ApiError(422, "shape", "input", f"an animation draws an `input` that is a signal or "
                       f"a matrix; got {nd} spatial axes in shape {list(x.shape)}",
                       accepted="`(L)`, `(C, L)`, `(H, W)` or `(C, H, W)`")
    if xc.shape[0] > MAX_CHANNELS:
        raise limit_error("input", f"the input has {xc.shape[0]} channels; an animation draws "
                          f"at most {MAX_CHANNELS} side by side",
                          accepted=f"at most {MAX_CHANNELS} channels")
    batch = conv_transpose_frames(xc, wc, bias=req.bias, groups=req.groups, limit=1, **kw)
    spatial = xc.shape[1:]
    kernel = wc.shape[2:]
    s, p, d, op = (as_tuple(v, nd, name, minimum=m) for v, name, m in (
        (req.stride, "stride", 1), (req.padding, "padding", 0), (req.dilation, "dilation", 1),
        (req.output_padding, "output_padding", 0)))
    axes = core_gather_geometry(spatial, kernel, **kw)
    full = [(n - 1) * si + di * (k - 1) + 1 + o
            for n, si, di, k, o in zip(spatial, s, d, kernel, op, strict=True)]
    grid = [a["upsampled"] + a["before"] + a["after"] for a in axes]
    widest = max(full + grid) if req.view == "gather" else max(full + list(spatial))
    if widest > MAX_SIDE:
        raise limit_error("input", f"this `input` would make a picture {widest} cells wide; an "
                          f"animation draws at most {MAX_SIDE} per side",
                          accepted="a smaller input, stride or kernel")
    if nd == 1:  # a signal is drawn as a matrix one row tall
        xc, wc = xc[:, None], wc[:, :, None]
        s, p, d, op = ((1, *s), (0, *p), (1, *d), (0, *op))
        axes = [{"upsampled": 1, "before": 0, "after": 0, "size": 1}, *axes]
        full = [1, *full]
    out_shape = tuple(a["size"] for a in axes)
    title = f"transposed {_size(spatial)} ⊛ᵀ {_size(kernel)}  stride {_axes(s[-nd:])}"
    title += f"  padding {_axes(p[-nd:])}" if any(p) else ""
    title += f"  output_padding {_axes(op[-nd:])}" if any(op) else ""
    title += f"  dilation {_axes(d[-nd:])}" if any(v > 1 for v in d) else ""
    title += f"  → {_size(batch.output_shape)}"
    start = req.offset
    stop = start + (req.limit if req.limit is not None else MAX_ANIMATION_FRAMES + 1)
    if req.view == "scatter":
        stage, frames = _scatter(xc, wc, req, s, p, d, full, out_shape, title, start, stop)
    else:
        stage, frames = _gather(xc, wc, req, s, d, axes, out_shape, title, start, stop, kw)
    if not frames:
        raise ApiError(422, "parameter", "offset", f"`offset` {req.offset} is past the last "
                       "frame: there is nothing to draw", accepted="an offset below the number "
                       "of frames", suggestion={"offset": 0})
    if len(frames) > MAX_ANIMATION_FRAMES:
        raise _too_many(None)
    if isinstance(stage, ScatterStage):
        data = render_scatter_animation(stage, frames, fmt=req.format, fps=req.fps)  # type: ignore[arg-type]
    else:
        data = render_animation(stage, frames, fmt=req.format, fps=req.fps)  # type: ignore[arg-type]
    return data, len(frames)


def _scatter(xc: np.ndarray, wc: np.ndarray, req: ConvTransposeAnimationRequest, s: tuple,
             p: tuple, d: tuple, full: list[int], out_shape: tuple, title: str, start: int,
             stop: int) -> tuple[ScatterStage, list[ScatterFrame]]:
    channels, fg = wc.shape[:2]
    groups = req.groups
    filters, cg = fg * groups, channels // groups
    bias = np.broadcast_to(np.asarray(0.0 if req.bias is None else req.bias, np.float64),
                           (filters,))
    kh, kw_ = wc.shape[2:]
    stamps = np.zeros((filters, channels, kh, kw_))
    for f in range(filters):
        g = f // fg
        stamps[f, g * cg:(g + 1) * cg] = wc[g * cg:(g + 1) * cg, f % fg]
    h, w = xc.shape[1:]
    frames: list[ScatterFrame] = []
    count = 0
    for f in range(filters):
        acc = np.full(full, bias[f])
        g = f // fg
        for c in range(g * cg, (g + 1) * cg):
            for r in range(h):
                for q in range(w):
                    value = float(xc[c, r, q])
                    region = (slice(r * s[0], r * s[0] + d[0] * (kh - 1) + 1, d[0]),
                              slice(q * s[1], q * s[1] + d[1] * (kw_ - 1) + 1, d[1]))
                    acc[region] += value * stamps[f, c]
                    if start <= count < stop:
                        where = f"({r}, {q})" if h > 1 else f"({q})"
                        at = f"({r * s[0]}, {q * s[1]})" if h > 1 else f"({q * s[1]})"
                        formula = (f"input {where} = {format_number(value)} adds "
                                   f"{_wrap(value)} × kernel at output {at}")
                        frames.append(ScatterFrame(map=f, channel=c, position=(r, q),
                                                   full=acc.copy(), formula=formula))
                    count += 1
    stage = ScatterStage(inputs=xc, kernel=stamps, stride=(s[0], s[1]), dilation=(d[0], d[1]),
                         full_shape=(full[0], full[1]), crop=(p[0], p[1]),
                         output_shape=(out_shape[0], out_shape[1]), maps=filters,
                         title=f"scatter · {title}")
    return stage, frames


def _gather(xc: np.ndarray, wc: np.ndarray, req: ConvTransposeAnimationRequest, stride: tuple,
            d: tuple,
            axes: list[dict[str, int]], out_shape: tuple, title: str, start: int, stop: int,
            kw: dict[str, object]) -> tuple[Stage, list[StageFrame]]:
    channels, fg = wc.shape[:2]
    groups = req.groups
    filters, cg = fg * groups, channels // groups
    up_shape = (channels, *(a["upsampled"] for a in axes))
    up = np.zeros(up_shape)
    real = np.zeros(up_shape, dtype=bool)
    pick = (slice(None), *(slice(None, None, si) for si in stride))
    up[pick] = xc
    real[pick] = True

    def frame_pad(a: np.ndarray) -> np.ndarray:
        for axis, spec in enumerate(axes, start=1):
            before, after = spec["before"], spec["after"]
            if before < 0:
                a = a.take(range(-before, a.shape[axis]), axis=axis)
            if after < 0:
                a = a.take(range(0, a.shape[axis] + after), axis=axis)
            widths = [(0, 0)] * a.ndim
            widths[axis] = (max(before, 0), max(after, 0))
            a = np.pad(a, widths)
        return a

    grid, real = frame_pad(up), frame_pad(real)
    kh, kw_ = wc.shape[2:]
    flipped = np.zeros((filters, cg, kh, kw_))
    for f in range(filters):
        g = f // fg
        flipped[f] = wc[g * cg:(g + 1) * cg, f % fg, ::-1, ::-1]
    spatial_x = xc.shape[1:]
    signal = spatial_x[0] == 1 and wc.shape[2] == 1
    batch = conv_transpose_frames(
        xc[:, 0] if signal else xc, wc[:, :, 0] if signal else wc, bias=req.bias,
        groups=req.groups, offset=start, limit=max(0, stop - start), **kw)  # type: ignore[arg-type]
    taps = batch.taps()
    frames: list[StageFrame] = []
    for i in range(len(batch)):
        f = int(batch.filter[i])
        pos = batch.position[i].tolist()
        at = (0, pos[0]) if signal else (pos[0], pos[1])
        terms = " + ".join(f"{_wrap(t['x'])}·{_wrap(t['w'])}" for t in taps[i]) or "0"
        value = float(batch.value[i])
        tail = f" + {_wrap(float(batch.bias[i]))}" if req.bias is not None else ""
        first = (f // fg) * cg
        frames.append(StageFrame(
            map=f, position=at, origin=at, output=value,
            formula=f"{terms}{tail} = {format_number(value)}   (the zeros add nothing)",
            short_formula=f"Σ of {len(taps[i])} stamps{tail} = {format_number(value)}",
            channels=tuple(range(first, first + cg))))
    pads = [f"{a['before']}|{a['after']}" for a in axes[-(1 if signal else 2):]]
    stage = Stage(
        padded=grid, pads=((0, 0), (0, 0)), kernel_size=(kh, kw_), dilation=(d[0], d[1]),
        output_shape=(out_shape[0], out_shape[1]), maps=filters, kernel=flipped, real=real,
        title=f"gather · {title} · zeros inserted, padding {' '.join(pads)}, kernel flipped",
    )
    return stage, frames
