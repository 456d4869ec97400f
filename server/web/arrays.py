"""Request values -> NumPy arrays: the input (inline or a stored photo), kernels, bias.

Everything that can go wrong with user-supplied numbers is caught here and reported against the
field it came from, so the core only ever sees rectangular, finite, bounded arrays.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from ..config import Settings
from ..core.kernels import PRESETS
from ..imaging.decode import scaled_size
from ..store import ImageStore
from .errors import ACCEPTED, ApiError, limit_error
from .schemas.common import InputSource


def to_ndarray(value: Any, field: str, *, max_elements: int, dtype: Any = np.float64,
               ) -> np.ndarray:
    """A rectangular nested list of finite numbers as an array, or a 422 naming ``field``.

    NumPy is left to infer the type first so that what is not a number is reported as such
    instead of being converted: ``true``/``false`` (a bool array), text, ``null`` and integers
    beyond float64 (object arrays). Cost: one pass over the values, plus a copy for integers.
    """
    accepted = ACCEPTED.get(field)
    try:
        raw = np.asarray(value)
    except ValueError as error:
        if "inhomogeneous" in str(error):
            message = (f"`{field}` must be a rectangular nested list of numbers (every row the "
                       "same length); got a ragged list")
        elif "dimension" in str(error):
            message = f"`{field}` is nested too deeply: NumPy allows at most 64 levels of lists"
        else:
            message = f"`{field}` must contain only numbers: {error}"
        raise ApiError(422, "validation", field, message, accepted=accepted) from None
    if raw.ndim == 0:
        raise ApiError(422, "validation", field, f"`{field}` must be a nested list, got a single "
                       "value", accepted=accepted)
    if raw.size == 0:
        raise ApiError(422, "shape", field, f"`{field}` is empty (shape {raw.shape})",
                       accepted=accepted)
    if raw.size > max_elements:
        raise limit_error(field, f"`{field}` has {raw.size} numbers, more than the limit of "
                          f"{max_elements}", accepted=f"at most {max_elements} numbers; upload "
                          "large images with POST /api/images and pass `image_id`")
    if raw.dtype.kind == "b":
        raise ApiError(422, "validation", field, f"`{field}` holds true/false, which are not "
                       "numbers in JSON; send 1 and 0", accepted=accepted)
    if raw.dtype.kind in "iuf":
        array = raw.astype(dtype, copy=False)
    else:
        array = _convert_mixed(raw, field, dtype)
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ApiError(422, "validation", field,
                       f"`{field}` holds a non-finite number (NaN or Infinity) at index "
                       f"{list(where)}", accepted=accepted)
    return array


def _convert_mixed(raw: np.ndarray, field: str, dtype: Any) -> np.ndarray:
    """Text, null, or huge integers mixed in: name the first value that is not a number."""
    flat = raw.reshape(-1)
    for i, item in enumerate(flat.tolist()):
        index = [int(j) for j in np.unravel_index(i, raw.shape)]
        if item is None:
            problem = "null"
        elif isinstance(item, bool):
            problem = "true/false, which are not numbers in JSON (send 1 and 0)"
        elif isinstance(item, int) and not math.isfinite(_as_float(item)):
            problem = (f"an integer of {len(str(abs(item)))} digits, beyond the float64 range "
                       "(about 1.8e308)")
        elif not isinstance(item, int | float):
            problem = f"{type(item).__name__} {str(item)[:40]!r}, not a number"
        else:
            continue
        raise ApiError(422, "validation", field, f"`{field}` holds {problem} at index {index}",
                       accepted=ACCEPTED.get(field))
    return raw.astype(dtype)


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def load_input(source: InputSource, store: ImageStore, settings: Settings) -> np.ndarray:
    """The request's input: float64 for inline numbers, cached float32 for a stored photo."""
    if source.input is not None and source.image_id is not None:
        raise ApiError(422, "validation", "input", "give either `input` or `image_id`, not both",
                       accepted="exactly one of `input` and `image_id`")
    if source.image_id is not None:
        _check_photo_size(source, store, settings)
        return store.array(source.image_id, source.color, source.max_side)
    if source.input is None:
        raise ApiError(422, "validation", "input", "the request has neither `input` nor "
                       "`image_id`", accepted="exactly one of `input` (nested numbers) and "
                       "`image_id` (from POST /api/images or GET /api/samples)")
    _refuse_photo_options(source)
    return to_ndarray(source.input, "input", max_elements=settings.max_json_elements)


# the fields that say how a stored photo becomes numbers: meaningless for an inline `input`
_PHOTO_OPTIONS = ("max_side", "color")


def _refuse_photo_options(source: InputSource) -> None:
    """A photo option set next to an inline `input` is a 422, not silently ignored.

    A client that sends `max_side` with its own array expects a smaller result and would get
    the full-size one with a 200. Only fields the client wrote count (`model_fields_set`), so
    the schema's defaults never trigger this; an explicit ``"max_side": null`` means "no
    downscaling", which is what an inline input gets anyway, so it passes. The suggestion is
    a merge patch: null means leave the field out.
    """
    for name in _PHOTO_OPTIONS:
        value = getattr(source, name)
        if name in source.model_fields_set and value is not None:
            raise ApiError(
                422, "validation", name,
                f"`{name}` {json.dumps(value)} applies only to a photo given by `image_id`; this "
                f"request has an inline `input`, which is used as given: drop `{name}`",
                accepted=f"`{name}` only with image_id; an inline input is used as given",
                suggestion={name: None},
            )


def _check_photo_size(source: InputSource, store: ImageStore, settings: Settings) -> None:
    """Refuse a photo whose float array alone would pass the output limit, before making it
    (a 40-megapixel RGB photo is 480 MB of float32); the answer suggests a `max_side` that fits."""
    image = store.decoded(source.image_id)  # type: ignore[arg-type]
    width, height = scaled_size(image.width, image.height, source.max_side)
    channels = 3 if source.color == "rgb" else 1
    elements = channels * width * height
    if elements <= settings.max_output_elements:
        return
    side = max(width, height) * math.sqrt(settings.max_output_elements / elements)
    raise limit_error(
        "max_side", f"with `max_side` {source.max_side}, the photo as an array is "
        f"{channels}x{height}x{width} = {elements} values, more than the limit of "
        f"{settings.max_output_elements}",
        accepted=f"a `max_side` that keeps it within {settings.max_output_elements} values "
        "(SVERTKA_MAX_OUTPUT_ELEMENTS)",
        suggestion={"max_side": max(1, math.floor(side))},
    )


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
