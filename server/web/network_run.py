"""Running a layer stack for /api/network/run: the model, its input, the limits, the answer.

`plan_run` builds the model from the request (a stack or an uploaded model), loads the weights
and the input, and checks every limit from shapes alone before anything is computed; `run`
computes every layer once and shapes the answer: numbers while small, a PNG grid per layer when
asked (``render``), so a page never downloads megabytes of JSON.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..config import Settings
from ..imaging.decode import scaled_size, to_array
from ..imaging.encode import encode_png
from ..imaging.render import (
    block_mean,
    display,
    finite_range,
    png_filter,
    reduction_factor,
    tile,
)
from ..nn.layers import to_keras
from ..nn.model import LayerOutput, Sequential
from ..store import ImageStore, ModelStore
from .arrays import to_ndarray
from .errors import ApiError, limit_error
from .schemas.network import NetworkRunRequest, RenderSpec

__all__ = ["RunJob", "build_model", "drawn", "layer_rows", "plan_run", "render_layer", "run",
           "stack", "to_npz"]


@dataclass
class RunJob:
    """A validated run: the built model with its weights, the input in Keras's order."""

    model: Sequential
    x: np.ndarray
    source: dict[str, Any]
    training: bool
    seed: int
    outputs: set[str] | None
    render: RenderSpec | None
    return_weights: bool | set[str] = False
    return_input: bool = False
    results: list[LayerOutput] = field(default_factory=list)
    elapsed_ms: float = 0.0


def stack(body: NetworkRunRequest, models: ModelStore,
           ) -> tuple[list[int] | None, list[Any], dict[str, list[np.ndarray]] | None]:
    """Input shape, layers and (for an uploaded model) its weights."""
    if body.model_id is not None:
        for name in ("layers", "input_shape", "weights"):
            if getattr(body, name) is not None:
                raise ApiError(422, "validation", name, f"`{name}` cannot be combined with "
                               "`model_id`: an uploaded model brings its own",
                               accepted="leave it out", suggestion={name: None})
        model = models.get(body.model_id)
        return list(model.input_shape), model.layers, model.weights
    if body.layers is None:
        raise ApiError(422, "validation", "layers", "give `layers` (and `input_shape`) or a "
                       "`model_id`", accepted="`layers`: a list of layer objects")
    return body.input_shape, [layer.model_dump(exclude_none=False) for layer in body.layers], None


def _photo(body: NetworkRunRequest, store: ImageStore, settings: Settings,
           input_shape: list[int] | None) -> tuple[np.ndarray, dict[str, Any]]:
    """The photo as ``(H, W, C)``: resized to ``input_shape`` if given, else as asked."""
    assert body.image_id is not None
    decoded = store.decoded(body.image_id)
    source: dict[str, Any] = {"image_id": body.image_id, "original": [decoded.height,
                                                                       decoded.width]}
    if input_shape is None:
        color = body.color or "rgb"
        width, height = scaled_size(decoded.width, decoded.height, body.max_side)
        channels = 3 if color == "rgb" else 1
        _check_elements(height * width * channels, settings, "max_side")
        pixels = store.array(body.image_id, color, body.max_side)
        x = pixels.transpose(1, 2, 0) if color == "rgb" else pixels[..., None]
        source |= {"size": [height, width], "color": color, "resized": False}
    else:
        for name in ("color", "max_side"):
            if getattr(body, name) is not None:
                raise ApiError(422, "validation", name, f"`{name}` cannot be combined with "
                               "`input_shape`: the photo is resized to the model's input shape "
                               "and its colour follows the channels", accepted="leave it out",
                               suggestion={name: None})
        if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
            raise ApiError(422, "shape", "image_id", f"a photo can feed an input of shape "
                           f"[height, width, 1 or 3]; this model takes {input_shape}",
                           accepted="`input` as nested lists of the model's input shape")
        height, width, channels = input_shape
        _check_elements(height * width * channels, settings, "input_shape")
        color = "rgb" if channels == 3 else "gray"
        # grey first: one channel to resize instead of three
        pil = decoded.image.convert("RGB" if channels == 3 else "L")
        resized = (pil.width, pil.height) != (width, height)
        if resized:
            pil = pil.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        pixels = to_array(pil, color)
        x = pixels.transpose(1, 2, 0) if color == "rgb" else pixels[..., None]
        source |= {"size": [height, width], "color": color, "resized": resized,
                   "grey": color == "gray" and decoded.mode != "L"}
    if body.pixel_scale != 1.0:
        x = x * np.float32(body.pixel_scale)
        source["pixel_scale"] = body.pixel_scale
    return np.ascontiguousarray(x, dtype=np.float32), source


def _check_elements(count: int, settings: Settings, field_name: str) -> None:
    if count > settings.max_output_elements:
        raise limit_error(field_name, f"the input would hold {count} values, more than the limit "
                          f"of {settings.max_output_elements}",
                          accepted=f"an input of at most {settings.max_output_elements} values")


def plan_run(body: NetworkRunRequest, store: ImageStore, models: ModelStore,
             settings: Settings) -> RunJob:
    """Validate everything and check the limits; nothing is computed yet."""
    input_shape, layers, model_weights = stack(body, models)
    if (body.input is None) == (body.image_id is None):
        raise ApiError(422, "validation", "input", "give exactly one of `input` (nested lists) "
                       "or `image_id` (a stored photo)", accepted="`input` or `image_id`")
    if body.input is not None:
        for name in ("color", "max_side"):
            if getattr(body, name) is not None:
                raise ApiError(422, "validation", name, f"`{name}` applies to a photo "
                               "(`image_id`); an inline `input` is used as given",
                               accepted="leave it out", suggestion={name: None})
        x = to_ndarray(body.input, "input", max_elements=settings.max_json_elements,
                       dtype=np.float32)
        source: dict[str, Any] = {"inline": True}
        if input_shape is None:
            raise ApiError(422, "validation", "input_shape", "`input_shape` is needed with an "
                           "inline `input`", accepted="1 to 4 ints, channels last")
    else:
        x, source = _photo(body, store, settings, input_shape)
        input_shape = input_shape or list(x.shape)
    model = build_model(body, input_shape, layers, settings, model_weights)
    names = {layer.name for layer in model.layers}
    asked = {"outputs": body.outputs or [],
             "return_weights": [] if isinstance(body.return_weights, bool) else
             body.return_weights,
             "render.layers": body.render.layers or [] if body.render else []}
    for key, listed in asked.items():
        for i, name in enumerate(listed):
            if name not in names:
                raise ApiError(422, "validation", f"{key}[{i}]", f"`{key}[{i}]` names "
                               f"{name!r}, which is not a layer of the stack",
                               accepted="layer names: " + ", ".join(layer.name for layer in
                                                                     model.layers))
    if body.render is not None and body.render.channel is not None:
        _check_channel(model, body.render)
    x = to_keras(model.as_batch(x))[0]  # checked against the model's input, channels added
    return RunJob(model, x, source, body.training, body.seed,
                  None if body.outputs is None else set(body.outputs), body.render,
                  body.return_weights if isinstance(body.return_weights, bool)
                  else set(body.return_weights), body.return_input)


def _check_channel(model: Sequential, spec: RenderSpec) -> None:
    """`render.channel` exists in every layer that would be drawn (from the shapes alone)."""
    channel = spec.channel
    assert channel is not None
    for layer in model.layers:
        shape = layer.summary.output_shape
        if drawn(layer.name, len(shape), spec) and channel >= shape[-1]:
            raise ApiError(422, "validation", "render.channel", f"`render.channel` = {channel}, "
                           f"but layer '{layer.name}' has {shape[-1]} channel(s)",
                           accepted=f"0..{shape[-1] - 1}, or name the layers to draw in "
                           "`render.layers`", suggestion={"render.channel": shape[-1] - 1})


def drawn(name: str, ndim: int, spec: RenderSpec) -> bool:
    """Whether a layer's output (``ndim`` axes, Keras's order, no batch) gets a picture."""
    return ndim in (2, 3) and (spec.layers is None or name in spec.layers)


def build_model(body: NetworkRunRequest, input_shape: list[int] | None, layers: list[Any],
                settings: Settings,
                model_weights: dict[str, list[np.ndarray]] | None = None) -> Sequential:
    """The stack built for ``input_shape``, its limits checked, its weights: an uploaded
    model's own (``model_weights``), the request's, or seeded."""
    if input_shape is None:
        raise ApiError(422, "validation", "input_shape", "`input_shape` is needed to build the "
                       "stack", accepted="1 to 4 ints, channels last")
    model = Sequential(input_shape, layers)
    _check_limits(model, settings)
    if model_weights is not None:
        model.set_weights(model_weights)
    elif body.weights is None:
        SEEDED.apply(model, json.dumps([input_shape, layers, body.seed], sort_keys=True),
                     body.seed)
    else:
        loaded = {name: [to_ndarray(a, f"weights.{name}[{i}]",
                                    max_elements=settings.max_json_elements, dtype=np.float32)
                         for i, a in enumerate(arrays)] for name, arrays in body.weights.items()}
        model.set_weights(loaded, seed=body.seed)
    return model


class SeededWeights:
    """The seeded initial weights of recent stacks, up to ``limit`` bytes together.

    The page runs one stack again and again (live runs, each map opened large), and drawing a
    big Dense kernel (50176 x 10 after a VGG block) costs more than copying it. Every model
    gets copies, so nothing a request does reaches the kept arrays; the key is the whole stack
    with its input shape and seed, and the weights are the draws `Sequential.init_weights`
    makes for it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: OrderedDict[str, dict[str, list[np.ndarray]]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def apply(self, model: Sequential, key: str, seed: int) -> None:
        """Give ``model`` its weights for ``seed``: kept ones, or drawn (and then kept)."""
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
        if kept is not None:
            for layer in model.layers:
                layer.weights = [a.copy() for a in kept.get(layer.name, [])]
            return
        model.init_weights(seed)
        fresh = {name: [a.copy() for a in arrays] for name, arrays in model.get_weights().items()}
        size = sum(a.nbytes for arrays in fresh.values() for a in arrays)
        if size > self.limit:
            return
        with self.lock:
            if key in self.kept:
                return
            self.kept[key] = fresh
            self.size += size
            while self.size > self.limit:
                _, old = self.kept.popitem(last=False)
                self.size -= sum(a.nbytes for arrays in old.values() for a in arrays)


SEEDED = SeededWeights(32 << 20)


def _check_limits(model: Sequential, settings: Settings) -> None:
    """Work (multiply-adds) and the values every layer holds, from the shapes alone."""
    work = model.macs
    if work > settings.max_work:
        worst = max(model.layers, key=lambda layer: layer.summary.macs)
        where = f"layers[{worst.index}]"
        raise limit_error(where, f"the stack needs {work} multiply-adds ({where}, "
                          f"'{worst.name}', alone {worst.summary.macs}), more than the limit of "
                          f"{settings.max_work} per request", accepted="a smaller input "
                          "(`max_side` for a photo) or fewer or smaller filters")
    values = sum(math.prod(layer.summary.output_shape) for layer in model.layers)
    if values > settings.max_output_elements:
        raise limit_error("layers", f"the layers' outputs hold {values} values together, more "
                          f"than the limit of {settings.max_output_elements}",
                          accepted="a smaller input (`max_side` for a photo) or fewer filters")


def run(job: RunJob, settings: Settings) -> dict[str, Any]:
    """Compute every layer once; the JSON answer of /api/network/run."""
    start = time.perf_counter()
    job.results = job.model.run(job.x, training=job.training, seed=job.seed)
    job.elapsed_ms = (time.perf_counter() - start) * 1000.0
    budget = settings.max_json_elements
    extra: dict[str, Any] = {}
    if job.return_input:
        fits = job.x.size <= budget
        budget -= job.x.size if fits else 0
        extra["input"] = job.x if fits else None
    layers = layer_rows(job.results, settings, outputs=job.outputs, render=job.render,
                        return_weights=job.return_weights, budget=budget)
    return {"input_shape": list(job.model.input_shape), "input_source": job.source, **extra,
            "layers": layers, "total_params": sum(la.params for la in job.model.layers),
            "total_macs": job.model.macs, "elapsed_ms": round(job.elapsed_ms, 3)}


def layer_rows(results: list[LayerOutput], settings: Settings, *,
               outputs: set[str] | None = None, render: RenderSpec | None = None,
               return_weights: bool | set[str] = False,
               budget: int | None = None) -> list[dict[str, Any]]:
    """One answer row per layer: numbers (and weights, when asked) while the JSON budget
    lasts, the range, Dropout's mask, the PNG."""
    if budget is None:
        budget = settings.max_json_elements
    rows = []
    pictures: list[tuple[dict[str, Any], np.ndarray, tuple[float, float]]] = []
    for result in results:
        layer, out = result.layer, result.output
        # min and max are NaN or infinite exactly when a value is: no separate isfinite pass
        lo, hi = float(out.min()), float(out.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ApiError(422, "parameter", "weights", f"layer '{layer.name}' overflows the "
                           "float32 range: the weights or the input are too large",
                           accepted="values of moderate magnitude")
        send = (outputs is None or layer.name in outputs) and out.size <= budget
        if send:
            budget -= out.size
        mask = getattr(layer, "mask", None)
        if mask is not None:
            mask = np.moveaxis(mask[0], 0, -1) if mask.ndim > 2 else mask[0]
        row: dict[str, Any] = {
            "name": layer.name, "type": layer.type, "output_shape": list(out.shape),
            "params": layer.params, "macs": layer.summary.macs,
            "output": out if send else None,
            "range": [lo, hi],
            "mask": mask if send else None,
        }
        if return_weights is not False:
            size = sum(w.size for w in layer.weights)
            fits = (return_weights is True or layer.name in return_weights) and size <= budget
            budget -= size if fits else 0
            row["weights"] = list(layer.weights) if fits else None
        row |= {"png": None, "grid": None}
        if render is not None and drawn(layer.name, out.ndim, render):
            pictures.append((row, out, (lo, hi)))
        rows.append(row)
    if render is not None:
        level = settings.png_compress_level
        for (row, *_), picture in zip(pictures, _render_all(pictures, render, level),
                                      strict=True):
            row |= picture
    return rows


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _render_all(pictures: list[tuple[dict[str, Any], np.ndarray, tuple[float, float]]],
                spec: RenderSpec, compress_level: int) -> list[dict[str, Any]]:
    """`render_layer` of every layer, the layers side by side on the cores.

    Shrinking, scaling and deflating release the GIL, so two layers drawn at once take about
    the time of the larger one when a core is free. As `encode.deflate`'s pieces, these threads
    bypass the CPU limiter on purpose: they only shorten a request that holds a slot, and never
    wait on anything (deflate's own pool is another one).
    """
    global _pool
    workers = min(os.cpu_count() or 1, 4)
    if workers == 1 or len(pictures) < 2:
        return [render_layer(out, spec, compress_level, data_range=scale)
                for _, out, scale in pictures]
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="svertka-render")
    # the largest first: the last to finish is then a small one
    order = sorted(range(len(pictures)), key=lambda i: -pictures[i][1].size)
    futures = {i: _pool.submit(render_layer, pictures[i][1], spec, compress_level,
                               data_range=pictures[i][2]) for i in order}
    return [futures[i].result() for i in range(len(pictures))]


def render_layer(out: np.ndarray, spec: RenderSpec, compress_level: int, *,
                 data_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """A layer's channels as one PNG grid (data URL); vectors and volumes are not drawn.

    Maps larger than ``spec.max_side`` are shrunk by block means (`block_mean`; of |x| in
    ``abs`` mode) before they are scaled: a thumbnail costs its own pixels, not the map's, and
    every pixel still comes from the output. The scale is the range of the grid's channels (the
    first ``max_maps``) at full size, whichever channels are drawn and at whatever size.
    ``data_range``: the (finite) min and max of ``out`` when the caller has them already.
    """
    if out.ndim not in (2, 3):
        return {"png": None, "grid": None}
    # (C, H, W) or (C, steps): the layers compute channel-first, so this view is contiguous
    maps = np.moveaxis(out, -1, 0)
    if maps.ndim == 2:
        maps = maps[:, None, :]
    grid_maps = maps[: spec.max_maps]
    if data_range is None or grid_maps.shape[0] < maps.shape[0]:
        data_range = finite_range(grid_maps)  # only the grid's maps set the scale
    first = 0 if spec.channel is None else spec.channel
    chosen = grid_maps if spec.channel is None else maps[first:first + 1]
    factor = reduction_factor(chosen.shape[1:], spec.max_side)
    if spec.mode == "abs" and factor > 1:
        chosen = np.abs(chosen)  # the mean magnitude: opposite signs must not cancel out
    scaled, used = display(block_mean(chosen, factor), spec.mode, data_range=data_range)
    pixels, grid = tile(scaled)
    png = encode_png(pixels, compress_level=compress_level, filter=png_filter(spec.mode))
    return {"png": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "grid": {"count": grid.count, "rows": grid.rows, "columns": grid.columns,
                     "height": grid.height, "width": grid.width, "gap": grid.gap,
                     "factor": factor, "first": first, "range": [used[0], used[1]]}}


def to_npz(job: RunJob) -> bytes:
    """Every layer's output (and the input) as one ``.npz`` keyed by layer name."""
    buffer = io.BytesIO()
    arrays = {"input": job.x, **{r.layer.name: r.output for r in job.results}}
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()
