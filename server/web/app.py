"""The application factory: settings, store, routers, error handlers, static files.

``create_app(settings)`` builds an independent app (its own data directory, store and CPU
limiter on ``app.state``), which is what tests and ``svertka serve`` both use.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..config import Settings
from ..rooms import create_hub
from ..store import ImageStore, ModelLimits, ModelStore, open_blob_store
from . import pages
from .deps import cpu_limiter
from .docs import install_docs
from .errors import ApiError, envelope, install_error_handlers
from .responses import json_response
from .routes import (
    conv,
    conv_matrix,
    conv_transpose,
    digits,
    dropout,
    exports,
    frames,
    health,
    images,
    kernels,
    models,
    network,
    network_export,
    pool,
    rooms,
    samples,
)
from .security import SecurityHeaders, cors_origins
from .timing import ServerTiming

log = logging.getLogger(__name__)

MULTIPART_OVERHEAD = 64 * 1024

DESCRIPTION = """\
Convolutional-network arithmetic on numbers and photos.

**A typical session:** `POST /api/images` a photo (or pick one from `GET /api/samples`), then
`POST /api/conv/render` with `{"image_id": ..., "preset": "sobel_x", "display": {"mode":
"signed"}}` for a PNG of the feature map, `POST /api/conv` for its numbers (`?format=npy` for
large ones), and `POST /api/frames` with `offset`/`limit` to page through every window.

Arrays are channel-first, `(C, *S)`, like PyTorch without the batch axis. Every 4xx answer has
the same envelope: `status`, `code`, `field`, `message`, `accepted`, `suggestion`.
"""

TAGS = [
    {"name": "images", "description": "Upload photos, fetch them, list the samples."},
    {"name": "kernels", "description": "Named 2D kernels usable as `preset`."},
    {"name": "convolution", "description": "Convolution as numbers, `.npy`, PNG, and frames."},
    {"name": "digits", "description": "The trained digit network; training streamed live."},
    {"name": "pooling", "description": "Max, average and global pooling; pooling frames."},
    {"name": "layers", "description": "Other layers: dropout."},
    {"name": "networks", "description": "Layer stacks in Keras's vocabulary: output shapes and "
     "parameter counts, as `model.summary()` reports them."},
    {"name": "service", "description": "Health and version."},
    {"name": "rooms", "description": "Live classroom rooms: the teacher's page drives the "
     "students' pages over a WebSocket, with quick polls."},
]


class BodySizeLimit:
    """Bound request bodies: refuse an over-long Content-Length before reading anything, and
    stop a chunked body (no Content-Length) as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 paths: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # paths with a limit of their own (model files): (bytes, the setting that sets it)
        self.paths = paths or {}

    def _limit(self, scope: Scope) -> tuple[int, str]:
        return self.paths.get(scope["path"], (self.max_bytes, "SVERTKA_MAX_UPLOAD_BYTES"))

    def _error(self, size: int | None, limit: int, setting: str) -> tuple[str, str]:
        limit -= MULTIPART_OVERHEAD
        has = f"has {size} bytes," if size is not None else "is"
        return (f"the request `body` {has} more than the limit of {limit} bytes",
                f"at most {limit} bytes ({setting})")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, setting = self._limit(scope)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > max_bytes:
            message, accepted = self._error(int(length), max_bytes, setting)
            body = envelope(413, "too_large", "body", message, accepted=accepted)
            await json_response(body, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_bytes:
                # an HTTPException passes through FastAPI's body parsing to the envelope handler
                text, accepted = self._error(None, max_bytes, setting)
                raise ApiError(413, "too_large", "body", text, accepted=accepted)
            return message

        await self.app(scope, counted_receive, send)


_frozen = False


def _freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the garbage collector's view, once.

    Modules, routes and schemas live as long as the process, yet a full collection walks all of
    them: about 40 ms on this app, landing on whichever request happens to trigger it. After
    ``gc.freeze()`` a full collection sees only what requests created (well under 1 ms).
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()  # what is garbage now should not be frozen with the rest
        gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Svertka app; ``settings`` default to the environment (``SVERTKA_*``)."""
    settings = settings or Settings()
    # Pillow's own decompression-bomb guard uses the same limit as our header check
    Image.MAX_IMAGE_PIXELS = settings.max_pixels

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.samples = await anyio.to_thread.run_sync(samples.ingest_samples, app.state.store)
        _freeze_startup_objects()
        yield
        await app.state.rooms.close()
        app.state.models.close()

    body_limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
    app = FastAPI(title="Svertka", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, openapi_tags=TAGS, docs_url=None, redoc_url=None,
                  # operation ids are the handler names (compute_conv, ...): stable for clients
                  generate_unique_id_function=lambda route: route.name)
    app.state.settings = settings
    # the store is what workers share (a directory or a bucket); the decode cache is per process
    app.state.store = ImageStore(open_blob_store(settings), max_pixels=settings.max_pixels,
                                 cache_bytes=settings.decode_cache_bytes)
    app.state.models = ModelStore(app.state.store.blobs, ModelLimits(
        max_bytes=settings.max_model_bytes, max_members=settings.max_model_members,
        max_expanded_bytes=settings.max_model_expanded_bytes,
        max_params=settings.max_model_params,
        reader_memory_bytes=settings.model_reader_memory_bytes,
        reader_seconds=settings.model_reader_seconds))
    app.state.limiter = cpu_limiter(settings.max_concurrency, settings.queue_depth)
    app.state.samples = []
    app.state.rooms = create_hub(settings)
    install_error_handlers(app)
    api = (health, images, samples, kernels, conv, pool, frames, exports, conv_transpose, dropout,
           network, conv_matrix, network_export, models, digits, rooms)
    for module in (*api, pages):
        app.include_router(module.router)
    pages.mount_static(app)
    install_docs(app)
    model_limit = (settings.max_model_bytes + MULTIPART_OVERHEAD, "SVERTKA_MAX_MODEL_BYTES")
    app.add_middleware(BodySizeLimit, max_bytes=body_limit, paths={"/api/models": model_limit})
    origins = cors_origins(settings.cors_origins)
    if origins:  # no CORS at all unless a setting names who may call from elsewhere
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type"],
                           expose_headers=["*"])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ServerTiming)  # outermost: its `total` includes every other layer
    return app
