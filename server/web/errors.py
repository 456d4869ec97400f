"""One error envelope for every 4xx, produced here and nowhere else.

``{"status", "code", "field", "message", "accepted", "suggestion", "errors"?}``: ``field`` names
the request field at fault (dotted for nested ones, e.g. ``display.mode``), ``accepted`` says what
would work, ``suggestion`` is the nearest valid setting when the core knows one. Each core error
class has its own handler so the mapping from class to status and code reads as a table.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..core.errors import CoreError, OutputSizeError, PaddingError, ParameterError, ShapeError
from ..imaging.decode import ImageError
from ..nn.keras_files import ModelFileError, ReaderUnavailableError
from ..nn.summary import ACCEPTED as NETWORK_ACCEPTED
from ..nn.summary import LAYER_TYPES
from ..store import ImageNotFoundError, ModelNotFoundError, StoreUnavailableError

__all__ = ["ApiError", "LimitError", "envelope", "install_error_handlers", "limit_error"]

# What each request field accepts, for validation errors (the core states its own).
ACCEPTED: dict[str, str] = {
    "input": "a nested list of finite numbers: (C, *S) or (*S) with 1 to 3 spatial axes",
    "image_id": "the id answered by POST /api/images or listed by GET /api/samples",
    "kernel": "a nested list of finite numbers: (F, C/groups, *K), or (*K) like the input",
    "preset": "a preset name from GET /api/kernels",
    "kernel_mode": '"per_channel_same" or "depthwise"',
    "bias": "a number or one number per filter",
    "color": '"rgb" or "gray"',
    "max_side": "an int >= 1",
    "stride": "an int >= 1 or one int per spatial axis",
    "dilation": "an int >= 1 or one int per spatial axis",
    "groups": "an int >= 1 dividing the input channels and the filters",
    "padding": 'an int >= 0, one per axis, one [before, after] pair per axis, or "valid", '
    '"same", "full"',
    "padding_mode": '"zeros", "reflect", "replicate" or "circular"',
    "activation": 'a name ("relu", "leaky_relu", "sigmoid", "tanh", "identity") or '
    '{"name": ..., "negative_slope": ...}',
    "mode": '"max" or "avg"',
    "kernel_size": "an int >= 1 or one int per spatial axis",
    "offset": "an int >= 0",
    "limit": "an int >= 1",
    "positions": "a list of output coordinates, one int per spatial axis each",
    "filters": "a list of filter indices",
    "pool": '{"mode": "max"|"avg", "kernel_size": int or one per axis, "stride", "padding", '
    '"dilation", "ceil_mode", "count_include_pad"}',
    "display": '{"mode": "clip"|"stretch"|"abs"|"signed", "layout": "grid"|"single"|"rgb", '
    '"filter": int, "per_channel": bool}',
    "p": "a number in [0, 1)",
    "flip": "true or false",
    "training": "true or false",
    "ceil_mode": "true or false",
    "count_include_pad": "true or false",
    "global_pool": "true or false",
    "format": '"json" or "npy"',
    "seed": "an int >= 0",
    "file": "a PNG, JPEG, WebP, GIF, BMP or TIFF image in a multipart field named `file`",
    "body": "a JSON object with finite numbers (NaN and Infinity are not JSON)",
    "input_shape": "[height, width, channels]: three ints from 1 to 8192",
    "layers": "a list of at most 64 layer objects, each naming its Keras class in `type`",
    "layers.type": "one of " + ", ".join(LAYER_TYPES) + " (Keras class names)",
}

MAX_MESSAGE = 2000
STORE_RETRY_AFTER_SECONDS = 5  # an object store's hiccup (a restart, a failover) is that short

_STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                 413: "too_large", 415: "unsupported_media", 422: "validation"}


class ApiError(HTTPException):
    """A 4xx raised by the web layer itself (limits, missing inputs, unknown ids).

    Subclassing HTTPException lets it pass through FastAPI's body parsing untouched.
    """

    def __init__(self, status: int, code: str, field: str | None, message: str, *,
                 accepted: str | None = None, suggestion: dict[str, Any] | None = None) -> None:
        super().__init__(status_code=status, detail=message)
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.accepted = accepted
        self.suggestion = suggestion


class LimitError(ApiError):
    """A request that would cost more than the settings allow (checked before computing)."""


def limit_error(field: str, message: str, *, accepted: str,
                suggestion: dict[str, Any] | None = None) -> LimitError:
    """A 422 ``limit`` naming the field to change; the suggestion brings it under the limit."""
    return LimitError(422, "limit", field, message, accepted=accepted, suggestion=suggestion)


def envelope(status: int, code: str, field: str | None, message: str, *,
             accepted: str | None = None, suggestion: dict[str, Any] | None = None,
             **extra: Any) -> dict[str, Any]:
    """The error body; ``extra`` adds fields such as ``errors``, ``axis`` or ``formula``.

    A message that quotes a huge value (a million `positions`) keeps its start and end: the
    sentence and what is accepted stay readable and the answer stays small.
    """
    if len(message) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2
        message = f"{message[:half]} ... {message[-half:]}"
    body = {"status": status, "code": code, "field": field, "message": message,
            "accepted": accepted, "suggestion": suggestion}
    body.update(extra)
    return body


def _respond(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _core(status: int, error: CoreError, **extra: Any) -> JSONResponse:
    code = getattr(error, "code", "parameter")
    if error.alternatives:
        extra["alternatives"] = error.alternatives
    return _respond(status, envelope(status, code, error.param, str(error),
                                     accepted=error.accepted, suggestion=error.suggestion,
                                     **extra))


async def handle_shape_error(request: Request, error: ShapeError) -> JSONResponse:
    """Incompatible arrays: 422 ``shape``."""
    return _core(422, error)


async def handle_parameter_error(request: Request, error: ParameterError) -> JSONResponse:
    """A parameter out of range or of the wrong form: 422 ``parameter``."""
    return _core(422, error)


async def handle_padding_error(request: Request, error: PaddingError) -> JSONResponse:
    """Padding the mode cannot produce: 422 ``padding``."""
    return _core(422, error)


async def handle_output_size_error(request: Request, error: OutputSizeError) -> JSONResponse:
    """An empty output axis: 422 ``output_size`` with the axis and the substituted formula."""
    return _core(422, error, axis=error.axis, formula=error.formula)


async def handle_core_error(request: Request, error: CoreError) -> JSONResponse:
    """Any other core error: 422 with the class's own code."""
    return _core(422, error)


async def handle_model_file_error(request: Request, error: ModelFileError) -> JSONResponse:
    """A model file refused: too large (413), not a model (415), or not computable here (422)."""
    return _core(error.status, error)


async def handle_image_error(request: Request, error: ImageError) -> JSONResponse:
    """Not an image (415) or too many pixels (413)."""
    return _respond(error.status, envelope(error.status, error.code, "file", error.message,
                                           accepted=error.accepted))


async def handle_not_found(request: Request, error: ImageNotFoundError) -> JSONResponse:
    """An unknown image id: 404."""
    message = (f"no image with `image_id` {_clip(error.image_id)!r}: it was never uploaded "
               "here or was evicted from the store; upload it again")
    return _respond(404, envelope(404, "not_found", "image_id", message,
                                  accepted=ACCEPTED["image_id"]))


async def handle_model_not_found(request: Request, error: ModelNotFoundError) -> JSONResponse:
    """An unknown model id: 404."""
    message = (f"no model with `model_id` {_clip(error.model_id)!r}: it was never uploaded "
               "here or was evicted from the store; upload it again")
    return _respond(404, envelope(404, "not_found", "model_id", message,
                                  accepted="an id answered by POST /api/models"))


def _unavailable(code: str, message: str, retry_after: int) -> JSONResponse:
    """503 with Retry-After: nothing is wrong with the request, a resource is not free now."""
    body = envelope(503, code, None, message,
                    accepted="the same request again after the `Retry-After` seconds")
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(retry_after)})


async def handle_store_unavailable(request: Request,
                                   error: StoreUnavailableError) -> JSONResponse:
    """The store of images and models did not answer: 503 ``unavailable`` with Retry-After."""
    # error.detail names internal hosts and buckets: it went to the log, not to the client
    message = ("the store of images and models is not answering right now; nothing is wrong "
               f"with the request: try again in {STORE_RETRY_AFTER_SECONDS} s")
    return _unavailable("unavailable", message, STORE_RETRY_AFTER_SECONDS)


async def handle_reader_unavailable(request: Request,
                                    error: ReaderUnavailableError) -> JSONResponse:
    """No process free to read a model file's HDF5 data: 503 ``busy`` with Retry-After."""
    return _unavailable(error.code, error.message, error.retry_after)


async def handle_api_error(request: Request, error: ApiError) -> JSONResponse:
    """Errors raised by the web layer itself."""
    body = envelope(error.status, error.code, error.field, error.message,
                    accepted=error.accepted, suggestion=error.suggestion)
    return JSONResponse(body, status_code=error.status, headers=error.headers)  # Retry-After


async def handle_http_exception(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method, body too large) in the envelope."""
    status = error.status_code
    field = "body" if status in (400, 413) else None
    # a broken upload (e.g. multipart without a boundary) is not about JSON
    upload = request.headers.get("content-type", "").lower().startswith("multipart/")
    accepted = (ACCEPTED["file"] if upload else ACCEPTED["body"]) if field else None
    body = envelope(status, _STATUS_CODES.get(status, "http_error"), field, str(error.detail),
                    accepted=accepted)
    return JSONResponse(body, status_code=status, headers=getattr(error, "headers", None))


def _clip(text: str, limit: int = 80) -> str:
    """Quote at most ``limit`` characters of a client's text: errors must not echo megabytes."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Lists whose items a client edits one by one: their errors name the item, `layers[2].filters`,
# so a page can show the message beside that very control. Elsewhere an index would only be noise.
_INDEXED = {"layers", "input_shape"}


def _field_from_loc(loc: tuple[Any, ...]) -> str:
    # pydantic puts union member tags ("int", "list[int]", "literal[...]", model names) in loc
    parts: list[str] = []
    previous: Any = None
    for p in loc[1:]:
        if isinstance(p, int) and previous in _INDEXED and parts:
            parts[-1] += f"[{p}]"
        elif isinstance(p, str) and not _is_tag(p):
            parts.append(p)
        previous = p
    if loc and loc[0] in ("query", "path", "header") and parts:
        return parts[-1]
    return ".".join(parts) if parts else "body"


def _accepted(field: str) -> str | None:
    """What a field accepts: its own entry, a layer argument's (Keras's), or its parent's."""
    top, last = field.split(".")[0], field.split(".")[-1]
    if top.startswith("layers[") and "." in field:
        return NETWORK_ACCEPTED.get(last) or (ACCEPTED["layers.type"] if last == "type" else None)
    # `pool.*` fields mean what the pool endpoint's fields of the same name mean
    return (ACCEPTED.get(field) or (top == "pool" and ACCEPTED.get(last))
            or ACCEPTED.get(top.split("[")[0]) or None)


def _is_tag(part: str) -> bool:
    return (part in {"int", "str", "float", "bool", "none", "list", "dict"} or part[:1].isupper()
            or any(ch in part for ch in "[]'-( "))


_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true/false", type(None): "null", bytes: "bytes that are not JSON"}


def _received(item: dict[str, Any]) -> str:
    """``, got true``: the value at fault in JSON spelling, short; nothing for missing fields."""
    if item.get("type") in ("missing", "extra_forbidden") or "input" not in item:
        return ""
    value = item["input"]
    scalar = (bool, int, float, str, type(None))
    if isinstance(value, list) and len(value) <= 8 and all(isinstance(v, scalar) for v in value):
        pass  # a short flat list such as [1, true] reads well; nested ones may be huge or deep
    elif not isinstance(value, scalar):
        return ""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, OverflowError):
        return ""
    return f", got {text if len(text) <= 60 else text[:57] + '...'}"


async def handle_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """Schema validation failures: 422 ``validation`` naming the first bad field, all listed."""
    items = []
    for item in error.errors():
        loc = tuple(item.get("loc", ()))
        field = _clip(_field_from_loc(loc))  # an unknown key may be any length
        if item.get("type") == "json_invalid":
            field = "body"
            detail = (item.get("ctx") or {}).get("error", "")
            message = f"the request body is not valid JSON: {detail}"
        elif field == "body" and item.get("type") in ("model_attributes_type", "dict_type"):
            kind = _JSON_KINDS.get(type(item.get("input")), "something else")
            message = (f"the request `body` must be a JSON object with the fields in /docs, "
                       f"got {kind}")
        else:
            message = f"`{field}`: {item.get('msg', 'invalid value')}{_received(item)}"
        if item.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # the layer's `type` is what is wrong (missing or not a Keras class we know)
            field = f"{field}.type"
            message = f"`{field}`: {item.get('msg', 'invalid value')}"
        accepted = _accepted(field)
        expected = (item.get("ctx") or {}).get("expected")
        if item.get("type") == "literal_error" and expected:
            # the schema's own choices: one field name ("format") has other ones elsewhere
            accepted = str(expected).replace("'", '"')
        if item.get("type") == "extra_forbidden":
            accepted = "only the fields this endpoint documents in /docs (check the spelling)"
        items.append(envelope(422, "validation", field, message, accepted=accepted))
    first = items[0] if items else envelope(422, "validation", "body", "invalid request")
    return _respond(422, {**first, "errors": items})


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler; Starlette picks the most specific class along the MRO."""
    app.add_exception_handler(ShapeError, handle_shape_error)
    app.add_exception_handler(ParameterError, handle_parameter_error)
    app.add_exception_handler(PaddingError, handle_padding_error)
    app.add_exception_handler(OutputSizeError, handle_output_size_error)
    app.add_exception_handler(CoreError, handle_core_error)
    app.add_exception_handler(ModelFileError, handle_model_file_error)
    app.add_exception_handler(ModelNotFoundError, handle_model_not_found)
    app.add_exception_handler(ImageError, handle_image_error)
    app.add_exception_handler(ImageNotFoundError, handle_not_found)
    app.add_exception_handler(StoreUnavailableError, handle_store_unavailable)
    app.add_exception_handler(ReaderUnavailableError, handle_reader_unavailable)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
