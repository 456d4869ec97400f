"""The trained digit network: its weights, predictions, training from scratch as a stream, and
the smallest training there is (a kernel recovered by gradient descent), also streamed.

Streams are Server-Sent Events: the work runs in a thread and hands events to the response
through a queue; a client that leaves ends the stream, which stops the work at the next step.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Any

import anyio
import numpy as np
import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ...core import get_preset
from ...nn import digits
from ...nn.learn_kernel import learn_kernel
from ...nn.optimizers import SGD, Adam
from ...nn.train_digits import train
from ...nn.training import Progress, evaluate
from ..arrays import to_ndarray
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import ApiError
from ..network_run import layer_rows
from ..responses import json_response
from ..schemas.digits import (
    DigitsPrediction,
    DigitsPredictRequest,
    DigitsTrainRequest,
    LearnKernelRequest,
)
from ..schemas.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["digits"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)

SSE = {200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events."}}
BATCH_EVENTS = 40  # about this many batch reports per epoch at most, so the page keeps up


def _model(weights: dict[str, list[Any]] | None, settings: Any) -> Any:
    model, _ = digits.bundled_model()
    if weights is not None:
        loaded = {name: [to_ndarray(a, f"weights.{name}[{i}]",
                                    max_elements=settings.max_json_elements, dtype=np.float32)
                         for i, a in enumerate(arrays)] for name, arrays in weights.items()}
        model.set_weights(loaded)
    return model


@router.get("/digits/model")
async def get_digits_model() -> Response:
    """The shipped digit network: its layers, weights and how it was trained."""
    model, facts = digits.bundled_model()
    layers = [{"name": layer.name, **spec} for layer, spec in zip(model.layers, digits.STACK,
                                                                   strict=True)]
    return json_response({"input_shape": list(model.input_shape), "layers": layers,
                          "weights": model.get_weights(), "pixel_scale": digits.PIXEL_SCALE,
                          **facts})


def _grid(value: list[list[float]], field: str, *, low: int, high: int,
          top: float, settings: Any) -> np.ndarray:
    grid = to_ndarray(value, field, max_elements=settings.max_json_elements, dtype=np.float32)
    accepted = (f"a grid of {low}x{low}" if low == high else
                f"a grid of {low} to {high} rows and columns") + f" of numbers from 0 to {top:g}"
    if grid.ndim != 2 or not (low <= grid.shape[0] <= high and low <= grid.shape[1] <= high):
        raise ApiError(422, "shape", field, f"`{field}` must be {accepted}, got shape "
                       f"{list(grid.shape)}", accepted=accepted)
    if grid.min() < 0 or grid.max() > top:
        raise ApiError(422, "validation", field, f"`{field}` values must lie in 0..{top:g}, got "
                       f"{float(grid.min()):g}..{float(grid.max()):g}", accepted=accepted)
    return grid


@router.post("/digits/predict", response_model=DigitsPrediction)
async def predict_digit(body: DigitsPredictRequest, settings: SettingsDep,
                        limiter: LimiterDep) -> Response:
    """Read a digit: an 8x8 UCI grid or a drawing, through every layer of the network."""
    if (body.pixels is None) == (body.drawing is None):
        raise ApiError(422, "validation", "pixels", "give exactly one of `pixels` (8x8, 0..16) "
                       "or `drawing` (a larger grid of ink 0..1)", accepted="`pixels` or "
                       "`drawing`")

    def work() -> Response:
        reduction = None
        if body.pixels is not None:
            pixels = _grid(body.pixels, "pixels", low=8, high=8, top=16, settings=settings)
        else:
            drawing = _grid(body.drawing or [], "drawing", low=8, high=512, top=1,
                            settings=settings)
            reduced = digits.reduce_drawing(drawing)
            pixels = reduced.pixels
            reduction = {"box": list(reduced.box), "scaled": reduced.scaled,
                         "pixels": reduced.pixels}
        model = _model(body.weights, settings)
        results = model.run(pixels * np.float32(digits.PIXEL_SCALE))
        probabilities = results[-1].output
        return json_response({"label": int(probabilities.argmax()),
                              "probabilities": probabilities, "pixels": pixels,
                              "reduction": reduction, "layers": layer_rows(results, settings)})

    return await run_cpu(limiter, work)


class _Jobs:
    """Training runs in progress: one per client, a few in all."""

    def __init__(self) -> None:
        self.clients: set[str] = set()
        self.lock = threading.Lock()

    def start(self, client: str, limit: int) -> None:
        with self.lock:
            if client in self.clients:
                raise ApiError(409, "busy", "client", "this page already has a training run; "
                               "stop it or wait for it to end", accepted="one run at a time "
                               "per page")
            if len(self.clients) >= limit:
                raise ApiError(503, "busy", "client", f"{limit} training runs are going on "
                               "already; try again in a few seconds",
                               accepted="a retry after the others end")
            self.clients.add(client)

    def end(self, client: str) -> None:
        with self.lock:
            self.clients.discard(client)


def _event(name: str, data: Any) -> bytes:
    payload = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    return b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"


def _stream(produce: Callable[[Callable[[str, Any], bool]], None],
            on_end: Callable[[], None] = lambda: None) -> StreamingResponse:
    """Run ``produce(emit)`` in a thread of its own; each ``emit(name, data)`` becomes an event.

    ``emit`` answers False once the client has gone (the response stopped reading), and the
    producer stops there. The queue between them is short, so a slow reader slows the work
    instead of piling events up in memory.
    """
    events: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
    stop = threading.Event()

    def emit(name: str, data: Any) -> bool:
        chunk = _event(name, data)
        while not stop.is_set():
            try:
                events.put(chunk, timeout=0.25)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            produce(emit)
        except Exception as error:  # noqa: BLE001 (reported to the client as an event)
            emit("error", {"message": str(error)})
        finally:
            while not stop.is_set():
                try:
                    events.put(None, timeout=0.25)
                    break
                except queue.Full:
                    continue

    async def body() -> AsyncGenerator[bytes, None]:
        thread = threading.Thread(target=worker, name="svertka-stream", daemon=True)
        thread.start()
        try:
            while (chunk := await anyio.to_thread.run_sync(events.get)) is not None:
                yield chunk
        finally:
            stop.set()  # the client left or the stream ended: the producer stops

    return _EventStream(body(), on_end)


class _EventStream(StreamingResponse):
    """An SSE response that runs ``on_end`` once it is done with, however it ends.

    The body generator's own ``finally`` is not enough: a client gone before the first byte
    (``send`` raising at the response start) leaves the generator never started, so nothing in
    it runs, and a run's slot would stay taken until a restart.
    """

    def __init__(self, content: AsyncGenerator[bytes, None], on_end: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._content = content
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                # `async for` does not close a generator it leaves by an exception; close it
                # now so its producer thread stops at once, not when it is garbage collected
                await self._content.aclose()
            finally:
                self._on_end()


@router.post("/digits/train", responses=SSE)
async def train_digits(body: DigitsTrainRequest, request: Request,
                       settings: SettingsDep) -> Response:
    """Train the digit network from scratch; progress streamed as Server-Sent Events."""
    jobs: _Jobs = request.app.state.__dict__.setdefault("training_jobs", _Jobs())
    data = digits.load()
    batches = math.ceil(len(data.train_y) / body.batch_size)
    every = max(1, batches // BATCH_EVENTS)

    def produce(emit: Callable[[str, Any], bool]) -> None:
        emit("start", {"epochs": body.epochs, "batches": batches,
                       "train_size": len(data.train_y), "test_size": len(data.test_y)})
        optimizer = (Adam(body.learning_rate or 0.01) if body.optimizer == "adam"
                     else SGD(body.learning_rate or 0.05, momentum=0.9))
        model = digits.new_model()
        alive = [True]  # the last emit's answer: False once the client has gone

        def report(p: Progress) -> bool:
            if p.kind == "batch":
                if p.batch % every == 0 or p.batch == p.batches:
                    alive[0] = emit("batch", {"epoch": p.epoch, "batch": p.batch,
                                              "batches": p.batches, "loss": p.loss,
                                              "accuracy": p.accuracy})
                return alive[0]
            alive[0] = emit("epoch", {
                "epoch": p.epoch, "loss": p.loss, "accuracy": p.accuracy,
                "val_loss": p.val_loss, "val_accuracy": p.val_accuracy,
                "kernels": model.layers[0].weights[0], "seconds": p.seconds})
            return alive[0]

        model, history, accuracy = train(model=model, seed=body.seed, epochs=body.epochs,
                                         batch_size=body.batch_size, optimizer=optimizer,
                                         callback=report)
        if len(history) < body.epochs:
            return  # stopped: the client left
        _, _, predicted = evaluate(model, data.inputs("test"), data.test_y)
        confusion = np.zeros((10, 10), dtype=np.int64)
        np.add.at(confusion, (data.test_y, predicted), 1)
        emit("done", {"test_accuracy": accuracy, "confusion": confusion,
                      "weights": model.get_weights(), "seconds": history[-1].seconds})

    # taken last, just before the response that releases it whatever happens to the client
    jobs.start(body.client, settings.max_training_jobs)
    return _stream(produce, on_end=lambda: jobs.end(body.client))


@router.post("/learn/kernel", responses=SSE)
async def learn_a_kernel(body: LearnKernelRequest, settings: SettingsDep,
                         store: StoreDep) -> Response:
    """Recover a hidden kernel from a photo and its filtered copy; steps streamed as SSE."""
    if isinstance(body.target, str):
        try:
            target = np.asarray(get_preset(body.target).kernel, dtype=np.float64)
        except ValueError:
            raise ApiError(422, "validation", "target", f"`target` {body.target!r} is not a "
                           "kernel preset", accepted="a name from GET /api/kernels, or a 3x3 "
                           "grid") from None
    else:
        target = to_ndarray(body.target, "target", max_elements=64)
    if target.shape != (3, 3):
        raise ApiError(422, "shape", "target", f"`target` must be a 3x3 kernel, got shape "
                       f"{list(target.shape)}", accepted="a 3x3 preset or grid")
    image_id = body.image_id or store.ids()[0]
    photo = await anyio.to_thread.run_sync(store.array, image_id, "gray", body.max_side)

    def produce(emit: Callable[[str, Any], bool]) -> None:
        emit("start", {"target": target, "image": list(photo.shape), "image_id": image_id,
                       "steps": body.steps})
        last = None
        for step in learn_kernel(np.asarray(photo), target, steps=body.steps):
            last = step
            if not emit("step", {"step": step.step, "loss": step.loss, "kernel": step.kernel}):
                return
        assert last is not None
        emit("done", {"kernel": last.kernel, "target": target, "loss": last.loss,
                      "steps": last.step})

    return _stream(produce)
