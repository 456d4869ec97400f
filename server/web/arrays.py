"""Request values -> NumPy arrays: the input (inline or a stored photo), kernels, bias.

Everything that can go wrong with user-supplied numbers is caught here and reported against the
field it came from, so the core only ever sees rectangular, finite, bounded arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..config import Settings
from ..core.kernels import PRESETS
from ..store import ImageStore
from .errors import ACCEPTED, ApiError, limit_error
from .schemas.common import InputSource


def to_ndarray(value: Any, field: str, *, max_elements: int, dtype: Any = np.float64,
               ) -> np.ndarray:
    """A rectangular nested list of finite numbers as an array, or a 422 naming ``field``."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (ValueError, TypeError) as error:
        reason = "inhomogeneous" if "inhomogeneous" in str(error) else "not numbers"
        message = (f"`{field}` must be a rectangular nested list of numbers (every row the "
                   f"same length); got a ragged list" if reason == "inhomogeneous" else
                   f"`{field}` must contain only numbers: {error}")
        raise ApiError(422, "validation", field, message, accepted=ACCEPTED.get(field)) from None
    if array.ndim == 0:
        raise ApiError(422, "validation", field, f"`{field}` must be a nested list, got a single "
                       "number", accepted=ACCEPTED.get(field))
    if array.size == 0:
        raise ApiError(422, "shape", field, f"`{field}` is empty (shape {array.shape})",
                       accepted=ACCEPTED.get(field))
    if array.size > max_elements:
        raise limit_error(field, f"`{field}` has {array.size} numbers, more than the limit of "
                          f"{max_elements}", accepted=f"at most {max_elements} numbers; upload "
                          "large images with POST /api/images and pass `image_id`")
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ApiError(422, "validation", field,
                       f"`{field}` holds a non-finite number (null, NaN or Infinity) at index "
                       f"{list(where)}", accepted=ACCEPTED.get(field))
    return array


def load_input(source: InputSource, store: ImageStore, settings: Settings) -> np.ndarray:
    """The request's input: float64 for inline numbers, cached float32 for a stored photo."""
    if source.input is not None and source.image_id is not None:
        raise ApiError(422, "validation", "input", "give either `input` or `image_id`, not both",
                       accepted="exactly one of `input` and `image_id`")
    if source.image_id is not None:
        return store.array(source.image_id, source.color, source.max_side)
    if source.input is None:
        raise ApiError(422, "validation", "input", "the request has neither `input` nor "
                       "`image_id`", accepted="exactly one of `input` (nested numbers) and "
                       "`image_id` (from POST /api/images or GET /api/samples)")
    return to_ndarray(source.input, "input", max_elements=settings.max_json_elements)


def load_kernel(kernel: Any, preset: str | None, settings: Settings) -> np.ndarray:
    """The kernel from ``kernel`` (nested lists) or ``preset`` (a name), exactly one of them."""
    if kernel is not None and preset is not None:
        raise ApiError(422, "validation", "kernel", "give either `kernel` or `preset`, not both",
                       accepted="exactly one of `kernel` and `preset`")
    if preset is not None:
        if preset not in PRESETS:
            names = ", ".join(PRESETS)
            raise ApiError(422, "parameter", "preset", f"unknown preset {preset!r}; the presets "
                           f"are: {names}", accepted=names, suggestion={"preset": "identity"})
        return np.array(PRESETS[preset].kernel, dtype=np.float64)
    if kernel is None:
        raise ApiError(422, "validation", "kernel", "the request has neither `kernel` nor "
                       "`preset`", accepted=ACCEPTED["kernel"] + "; or `preset`")
    return to_ndarray(kernel, "kernel", max_elements=settings.max_json_elements)


def load_bias(bias: float | list[float] | None, filters: int) -> np.ndarray | None:
    """``None``, or one value per filter (a single number is repeated)."""
    if bias is None:
        return None
    if isinstance(bias, list):
        if len(bias) != filters:
            raise ApiError(422, "shape", "bias", f"`bias` has {len(bias)} values but there are "
                           f"{filters} filter(s)", accepted=f"a number or a list of {filters} "
                           "numbers")
        return np.asarray(bias, dtype=np.float64)
    return np.full(filters, float(bias))


def shrink_hint(source: InputSource, shape: tuple[int, ...], ratio: float) -> dict[str, Any] | None:
    """For a photo, the ``max_side`` that would bring the cost down by ``ratio`` (< 1)."""
    if source.image_id is None or len(shape) < 2:
        return None
    side = max(shape[-2:])
    # cost grows with the square of the side for 2D maps
    return {"max_side": max(1, math.floor(side * math.sqrt(ratio) * 0.95))}
