"""The convolution pipeline behind /api/conv, /api/conv/render and /api/frames.

`plan_conv` turns a request into normalized operands and checks every limit from shapes alone
(output elements, work = output elements x taps) before anything is computed; `run_conv` then
computes, activates and pools. Both are synchronous and run in the CPU threadpool.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import Settings
from ..core import (
    CoreError,
    activate,
    conv,
    conv_method,
    explain_output_shape,
    normalize_operands,
    output_shape,
    pool,
    resolve_padding,
)
from ..core.shapes import Pads, as_tuple
from ..store import ImageStore
from .arrays import load_bias, load_input, load_kernel, shrink_hint
from .errors import ApiError, limit_error
from .schemas.common import PoolSpec, activation_parts
from .schemas.conv import ConvRequest, FramesRequest


@dataclass
class ConvJob:
    """A validated convolution: full-form operands ``(C, *S)``, ``(F, C/g, *K)`` and geometry."""

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    groups: int
    squeeze: bool
    stride: Any
    dilation: Any
    pads: Pads
    padding_mode: str
    flip: bool
    out_spatial: tuple[int, ...]
    explain: list[str]
    input_shape: tuple[int, ...]
    activation: str | None
    activation_params: dict[str, float] = field(default_factory=dict)

    @property
    def filters(self) -> int:
        return int(self.w.shape[0])

    @property
    def taps(self) -> int:
        return int(math.prod(self.w.shape[1:]))

    @property
    def shape(self) -> list[int]:
        """Shape of the convolution output as the client sees it (no filter axis in shorthand)."""
        full = [self.filters, *self.out_spatial]
        return full[1:] if self.squeeze else full

    def conv_kwargs(self) -> dict[str, Any]:
        return {"stride": self.stride, "padding": self.pads, "padding_mode": self.padding_mode,
                "dilation": self.dilation, "groups": self.groups}


def _expand_kernel(x: np.ndarray, w: np.ndarray, mode: str | None, groups: int,
                   ) -> tuple[np.ndarray, int]:
    """Apply `kernel_mode` to a kernel with only spatial axes against a channel-first input."""
    if mode is None or x.ndim < 2 or w.ndim != x.ndim - 1:
        return w, groups
    channels = x.shape[0]
    if mode == "per_channel_same":
        if groups != 1:
            raise ApiError(422, "parameter", "groups", f'`kernel_mode` "per_channel_same" makes '
                           f"one filter over all {channels} channels, so `groups` must be 1, "
                           f"got {groups}", accepted="1", suggestion={"groups": 1})
        return np.ascontiguousarray(np.broadcast_to(w, (1, channels, *w.shape))), 1
    if groups not in (1, channels):
        raise ApiError(422, "parameter", "groups", f'`kernel_mode` "depthwise" uses one group '
                       f"per channel ({channels}), got `groups` {groups}",
                       accepted=f"1 or {channels}", suggestion={"groups": channels})
    return np.ascontiguousarray(np.broadcast_to(w, (channels, 1, *w.shape))), channels


def plan_conv(req: ConvRequest | FramesRequest, store: ImageStore, settings: Settings, *,
              check_work: bool = True) -> ConvJob:
    """Validate a request into a `ConvJob`; raise a 4xx before any costly work."""
    x = load_input(req, store, settings)
    w = load_kernel(req.kernel, req.preset, settings)
    mode = req.kernel_mode
    if mode is None and req.image_id is not None and x.ndim == 3:
        mode = "per_channel_same"  # a preset on a colour photo: one map, like a conv layer
    w, groups = _expand_kernel(x, w, mode, req.groups)
    if x.dtype == np.float32:
        w = w.astype(np.float32)  # keep photo work in float32: half the memory, twice the speed
    operands = normalize_operands(x, w, groups=groups)
    xs, ws = operands.x, operands.w
    bias = load_bias(req.bias, ws.shape[0])
    if bias is not None and xs.dtype == np.float32:
        bias = bias.astype(np.float32)
    spatial, kernel = xs.shape[1:], ws.shape[2:]
    pads = resolve_padding(req.padding, spatial_shape=spatial, kernel_shape=kernel,
                           stride=req.stride, dilation=req.dilation)
    out = output_shape(spatial, kernel, stride=req.stride, padding=pads, dilation=req.dilation)
    name, params = activation_parts(req.activation)
    if name is not None:
        try:  # validate before the convolution runs, under the request's field name
            activate(np.zeros(0), name, **params)
        except CoreError as error:
            error.param = "activation"
            raise
    job = ConvJob(
        x=xs, w=ws, bias=bias, groups=groups, squeeze=operands.squeeze, stride=req.stride,
        dilation=req.dilation, pads=pads, padding_mode=req.padding_mode, flip=req.flip,
        out_spatial=out, input_shape=tuple(x.shape),
        explain=explain_output_shape(spatial, kernel, stride=req.stride, padding=pads,
                                     dilation=req.dilation),
        activation=name, activation_params=params,
    )
    if check_work:
        elements = job.filters * math.prod(out)
        check_padding_size(xs.shape, pads, settings)
        check_size(elements, elements * job.taps, req, x.shape, settings)
    return job


def check_padding_size(shape: tuple[int, ...], pads: Pads, settings: Settings) -> None:
    """Refuse padding that would make the padded input (which the core builds) enormous."""
    padded = shape[0] * math.prod(n + b + a for n, (b, a) in zip(shape[1:], pads, strict=True))
    extra = padded - math.prod(shape)
    if extra > settings.max_output_elements:
        raise limit_error(
            "padding", f"this `padding` ({[list(p) for p in pads]}) adds {extra} elements to "
            f"an input of shape {list(shape)}, more than the limit of "
            f"{settings.max_output_elements}",
            accepted=f"padding that adds at most {settings.max_output_elements} elements "
            '(SVERTKA_MAX_OUTPUT_ELEMENTS), e.g. "same" or "valid"',
            suggestion={"padding": "same"},
        )


def check_size(elements: int, work: int, req: Any, input_shape: tuple[int, ...],
               settings: Settings, *, work_field: str = "kernel") -> None:
    """Refuse results beyond `max_output_elements` or work beyond `max_work` (422 ``limit``)."""
    if elements > settings.max_output_elements:
        raise limit_error(
            "input", f"this `input` would give a result of {elements} elements, more than the "
            f"limit of {settings.max_output_elements}",
            accepted=f"results of at most {settings.max_output_elements} elements: a larger "
            "stride, fewer filters or a smaller `max_side`",
            suggestion=shrink_hint(req, input_shape, settings.max_output_elements / elements),
        )
    if work > settings.max_work:
        raise limit_error(
            work_field, f"`{work_field}` over {elements} outputs needs {work} operations, "
            f"more than the limit of {settings.max_work}",
            accepted=f"at most {settings.max_work} multiply-adds: a smaller kernel, a larger "
            "stride or a smaller `max_side`",
            suggestion=shrink_hint(req, input_shape, settings.max_work / work),
        )


@dataclass
class ConvResult:
    """The computed output (full form ``(F, *O)`` before squeezing) and how it was made."""

    output: np.ndarray
    activated: np.ndarray  # before pooling: what per-channel rendering shows as the total
    method: str
    elapsed_ms: float
    pool_pads: Pads | None = None
    pool_explain: list[str] | None = None


def run_conv(job: ConvJob, pool_spec: PoolSpec | None = None) -> ConvResult:
    """Convolve, add the bias, activate, pool. Cost: see `server.core.conv`."""
    start = time.perf_counter()
    kwargs = job.conv_kwargs()
    method = conv_method(job.x, job.w, **kwargs)
    y = conv(job.x, job.w, bias=job.bias, flip=job.flip, **kwargs)
    if job.activation is not None:
        y = activate(y, job.activation, **job.activation_params).astype(y.dtype, copy=False)
    activated = y
    pool_pads = pool_explain = None
    if pool_spec is not None:
        y, pool_pads, pool_explain = _pool(y, pool_spec)
    elapsed = (time.perf_counter() - start) * 1000.0
    return ConvResult(y, activated, method, elapsed, pool_pads, pool_explain)


def _pool(y: np.ndarray, spec: PoolSpec) -> tuple[np.ndarray, Pads, list[str]]:
    try:
        nd = y.ndim - 1
        kernel = as_tuple(spec.kernel_size, nd, "kernel_size")
        stride = kernel if spec.stride is None else spec.stride
        pads = resolve_padding(spec.padding, spatial_shape=y.shape[1:], kernel_shape=kernel,
                               stride=stride, dilation=spec.dilation)
        explain = explain_output_shape(y.shape[1:], kernel, stride=stride, padding=pads,
                                       dilation=spec.dilation, ceil_mode=spec.ceil_mode)
        out = pool(y, mode=spec.mode, kernel_size=list(kernel), stride=stride, padding=pads,
                   dilation=spec.dilation, ceil_mode=spec.ceil_mode,
                   count_include_pad=spec.count_include_pad)
    except CoreError as error:
        error.param = f"pool.{error.param}"  # the request nests these under `pool`
        raise
    check_windows_see_input(out, spec.mode, pads, spec.dilation, field="pool.padding")
    return out, pads, explain


def check_windows_see_input(out: np.ndarray, mode: str, pads: Any, dilation: Any, *,
                            field: str = "padding") -> None:
    """A dilated max-pooling window can land only on padding: its maximum is -infinity (as in
    PyTorch), which JSON cannot carry, so say which settings did it instead of sending null."""
    if mode == "max" and np.isneginf(out).any():
        raise ApiError(422, "padding", field, f"a max-pooling window covers only padding "
                       f"(`{field.split('.')[-1]}` {[list(p) for p in pads]}, `dilation` "
                       f"{dilation}): its maximum is -infinity, which JSON cannot carry",
                       accepted="padding and dilation such that every window has a tap inside "
                       "the input: less padding or a smaller dilation",
                       suggestion={"dilation": 1})  # padding <= kernel/2 then always works


def channel_partials(job: ConvJob, filter_index: int) -> np.ndarray:
    """Filter ``filter_index``'s contribution from each input channel of its group, no bias.

    One depthwise convolution computes them all: ``(C/groups, *O)``; their sum plus the bias is
    the filter's output before activation.
    """
    if not 0 <= filter_index < job.filters:
        raise ApiError(422, "parameter", "display.filter", f"`display.filter` must be in "
                       f"0..{job.filters - 1}, got {filter_index}",
                       accepted=f"an int from 0 to {job.filters - 1}",
                       suggestion={"filter": 0})
    per_group = job.w.shape[1]
    first = (filter_index // (job.filters // job.groups)) * per_group
    xg = job.x[first:first + per_group]
    wg = job.w[filter_index][:, None]
    kwargs = {**job.conv_kwargs(), "groups": per_group}
    return conv(xg, wg, flip=job.flip, **kwargs)
