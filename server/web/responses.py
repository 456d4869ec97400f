"""Fast response encoders: JSON with NumPy arrays (orjson), .npy and PNG.

FastAPI's default path (``jsonable_encoder`` + validation of the response model) walks every
float in Python; a 512x512 map is a quarter of a million of them. The routes declare their
response models for /docs but hand these ready-made responses back.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from ..imaging.encode import NPY_MEDIA_TYPE, encode_npy

__all__ = ["json_response", "npy_response", "png_response", "records", "svertka_headers"]


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def json_response(content: Any, *, status_code: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """JSON with arrays encoded natively; non-finite floats must not reach here."""
    body = orjson.dumps(content, default=_default,
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status_code, media_type="application/json",
                    headers=headers)


def records(columns: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Rows of equally long columns as dicts whose values are NumPy scalars and row views.

    `json_response` writes those natively, with the same bytes as ``.tolist()`` would give
    (non-finite floats as ``null``), without building a Python float and list for every number:
    a page of frames then allocates one dict per frame instead of thousands of small objects
    for the garbage collector to walk.
    """
    keys = tuple(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def svertka_headers(shape: Any, pads: Any = None, **extra: Any) -> dict[str, str]:
    """``X-Svertka-*`` headers: compact JSON or comma lists a browser can parse directly."""
    headers = {"X-Svertka-Shape": ",".join(str(int(n)) for n in shape)}
    if pads is not None:
        headers["X-Svertka-Padding"] = json.dumps([list(p) for p in pads], separators=(",", ":"))
    for key, value in extra.items():
        name = "X-Svertka-" + "-".join(part.capitalize() for part in key.split("_"))
        headers[name] = value if isinstance(value, str) else json.dumps(value,
                                                                        separators=(",", ":"))
    return headers


def npy_response(array: np.ndarray, headers: dict[str, str]) -> Response:
    """Raw little-endian float32 as ``.npy`` (``numpy.load(io.BytesIO(body))``)."""
    return Response(encode_npy(array), media_type=NPY_MEDIA_TYPE,
                    headers={**headers, "Content-Disposition": 'inline; filename="output.npy"'})


def png_response(png: bytes, headers: dict[str, str]) -> Response:
    return Response(png, media_type="image/png", headers={**headers, "Cache-Control": "no-store"})
