"""Dependencies shared by the routers, as ``Annotated`` aliases, and the strict JSON route class.

The app's settings, store and CPU limiter live on ``app.state`` (set by `create_app`) rather than
in globals, so tests can build several apps with different data directories side by side.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
import numpy as np
import orjson
from fastapi import Depends, Request, UploadFile
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from ..config import Settings
from ..store import ImageStore
from .errors import ApiError

__all__ = ["THREAD_PARSE_BYTES", "LimiterDep", "MultipartRoute", "SettingsDep", "StoreDep",
           "StrictJSONRoute", "admit", "cpu_limiter", "parse_json", "read_upload", "run_cpu",
           "run_io"]

T = TypeVar("T")


# `async def` on purpose: FastAPI runs a plain `def` dependency in its threadpool, which would
# cost three thread hand-offs per request for three attribute lookups.
async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def app_store(request: Request) -> ImageStore:
    return request.app.state.store


async def app_limiter(request: Request) -> anyio.CapacityLimiter:
    return request.app.state.limiter


SettingsDep = Annotated[Settings, Depends(app_settings)]
StoreDep = Annotated[ImageStore, Depends(app_store)]
LimiterDep = Annotated[anyio.CapacityLimiter, Depends(app_limiter)]


_QUEUE_DEPTH: weakref.WeakKeyDictionary[anyio.CapacityLimiter, int] = (
    weakref.WeakKeyDictionary())
RETRY_AFTER_SECONDS = 1


def cpu_limiter(concurrency: int, queue_depth: int) -> anyio.CapacityLimiter:
    """The app's CPU limiter: ``concurrency`` threads compute, ``queue_depth`` requests wait.

    One request more than that is a 503 (`admit`): a classroom's burst then costs each refused
    client one retry instead of costing the server memory for every body parked in a queue.
    """
    limiter = anyio.CapacityLimiter(concurrency)
    _QUEUE_DEPTH[limiter] = queue_depth
    return limiter


def admit(limiter: anyio.CapacityLimiter) -> None:
    """Raise a 503 with ``Retry-After`` when every CPU slot is taken and the queue is full."""
    depth = _QUEUE_DEPTH.get(limiter)
    if depth is None:
        return  # a limiter made elsewhere (tests): unbounded, as before
    stats = limiter.statistics()
    if stats.borrowed_tokens >= stats.total_tokens and stats.tasks_waiting >= depth:
        error = ApiError(503, "busy", None, f"the server is busy: {stats.total_tokens} "
                         f"requests are computing and {stats.tasks_waiting} are waiting; "
                         f"try again in {RETRY_AFTER_SECONDS} s",
                         accepted="the same request again after the `Retry-After` seconds")
        error.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        raise error


async def run_cpu(limiter: anyio.CapacityLimiter, func: Callable[..., T], *args: Any,
                  **kwargs: Any) -> T:
    """Run ``func`` in a worker thread, at most ``max_concurrency`` at a time.

    NumPy releases the GIL in its kernels, so threads give real parallelism while the event loop
    keeps answering health checks and small requests. Floating-point overflow is silenced here
    because results are checked for finiteness and reported as a 422 instead. When the queue
    in front of the threads is full this is a 503 (`admit`).
    """
    admit(limiter)
    call = partial(func, *args, **kwargs)

    def quiet() -> T:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return call()

    return await anyio.to_thread.run_sync(quiet, limiter=limiter)


async def run_io(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking store I/O (disk, S3) in a worker thread, outside the CPU limit."""
    return await anyio.to_thread.run_sync(partial(func, *args, **kwargs))


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


def parse_json(body: bytes) -> Any:
    """Parse strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are rejected, as RFC 8259 does.

    Raises `json.JSONDecodeError`, which FastAPI reports as a validation error on ``body``.
    """
    try:  # orjson is strict (no NaN/Infinity) and several times faster on big arrays
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # re-parse below for a message that names the problem
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        # orjson stops at 1024 levels and the stdlib parser at Python's recursion limit
        raise json.JSONDecodeError("the JSON is nested too deeply", text, 0) from None
    except _NonFinite as error:
        word = str(error)
        raise json.JSONDecodeError(
            f"{word} is not a JSON number; send finite numbers only", text, max(text.find(word), 0)
        ) from None


THREAD_PARSE_BYTES = 64 * 1024
"""Bodies larger than this are parsed in a worker thread, smaller ones on the event loop.

Parsing blocks whichever thread runs it: a 16 MB body takes 0.05 s (floats) to 1.7 s (millions
of one-number lists), long enough to stall every other request if it ran on the loop. Up to
64 KiB the worst shape measured takes about 1 ms and a typical one 0.1 ms, while a thread
hand-off costs about 0.06 ms, so small bodies stay inline.
"""


class _StrictJSONRequest(Request):
    body_model: type[BaseModel] | None = None

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            limit = self.app.state.settings.max_upload_bytes
            body = await self.body()
            if len(body) > limit:
                raise ApiError(413, "too_large", "body",
                               f"the request body has {len(body)} bytes, more than {limit}",
                               accepted=f"JSON bodies of at most {limit} bytes; send large "
                               "images through POST /api/images and use `image_id`")
            if len(body) > THREAD_PARSE_BYTES:
                # the CPU limiter also bounds how many big parses (each building tens to
                # hundreds of MB of Python objects for a body at the limit) run at once
                limiter = self.app.state.limiter
                admit(limiter)
                self._json = await anyio.to_thread.run_sync(
                    _parse_and_validate, body, self.body_model, limiter=limiter)
            else:
                self._json = parse_json(body)
        return self._json


def _parse_and_validate(body: bytes, model: type[BaseModel] | None) -> Any:
    """Parse, then validate against the route's body model, both off the event loop.

    Validation walks every value of a big inline input, as long as parsing it; done here, the
    route receives the model instance, which FastAPI's own validation then passes through
    untouched. A body that does not validate is returned as parsed: FastAPI validates it again
    on the loop and reports the errors exactly as for a small body (only the failure is slow).
    """
    data = parse_json(body)
    if model is None:
        return data
    try:
        return model.model_validate(data)
    except ValidationError:
        return data


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    """The route's body model when the whole JSON body is that one model (not embedded)."""
    params = route.dependant.body_params
    if len(params) != 1 or route.body_field is None:
        return None
    info = params[0].field_info
    annotation = getattr(info, "annotation", None)
    if getattr(info, "embed", False) or not isinstance(annotation, type):
        return None
    return annotation if issubclass(annotation, BaseModel) else None


def _check_json_content_type(request: Request) -> None:
    """A body that is not declared JSON is a 415 that says so.

    FastAPI would otherwise validate the raw bytes as the body and answer "Input should be a
    valid dictionary", which sends the user looking in the wrong place (``curl -d`` declares
    form data unless told otherwise).
    """
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    ctype = request.headers.get("content-type")
    if ctype is None:
        if request.headers.get("content-length", "") == "0":
            return  # no body at all: validation reports the missing fields
        received = "no `content-type` header"
    else:
        media = ctype.split(";", 1)[0].strip().lower()
        if media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json")):
            return
        received = f"`content-type` {media!r}"
    raise ApiError(415, "unsupported_media", "content-type",
                   f"this endpoint reads a JSON body, but the request has {received}",
                   accepted="`content-type: application/json` with a JSON object body "
                   "(curl: -H 'content-type: application/json')")


class StrictJSONRoute(APIRoute):
    """A route whose JSON body parser rejects NaN/Infinity, oversized and non-JSON bodies."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        model = _body_model(self)

        async def strict_handler(request: Request) -> Response:
            _check_json_content_type(request)
            if request.method in ("POST", "PUT", "PATCH"):
                admit(request.app.state.limiter)  # refuse before the body is even read
            strict = _StrictJSONRequest(request.scope, request.receive)
            strict.body_model = model
            return await handler(strict)

        return strict_handler


class MultipartRoute(APIRoute):
    """A route whose POST body must be multipart/form-data (file uploads): 415 otherwise."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def multipart_handler(request: Request) -> Response:
            if request.method == "POST":
                admit(request.app.state.limiter)
                ctype = request.headers.get("content-type", "")
                media = ctype.split(";", 1)[0].strip().lower()
                if media != "multipart/form-data":
                    received = f"`content-type` {media!r}" if media else "no `content-type`"
                    raise ApiError(415, "unsupported_media", "content-type",
                                   f"an upload is multipart/form-data with the image in a field "
                                   f"named `file`, but the request has {received}",
                                   accepted="multipart/form-data with a `file` field (curl: "
                                   "-F file=@photo.jpg)")
            return await handler(request)

        return multipart_handler


UPLOAD_CHUNK = 1024 * 1024


async def read_upload(file: UploadFile, limit: int, what: str = "files") -> bytes:
    """The whole upload, read in chunks and refused with 413 as soon as it passes ``limit``."""
    chunks, size = [], 0
    while chunk := await file.read(UPLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", "file", f"`file` is larger than the limit of "
                           f"{limit} bytes", accepted=f"{what} of at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
