"""Padding the spatial axes of a channel-first array, with PyTorch's four modes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import PaddingError, ParameterError
from .shapes import Pads

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# PyTorch's names on the left, NumPy's on the right
_NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def check_padding_mode(mode: Any) -> str:
    """Return ``mode`` if it is one of `PADDING_MODES`, else raise `ParameterError`."""
    if mode not in PADDING_MODES:
        accepted = ", ".join(f'"{m}"' for m in PADDING_MODES)
        raise ParameterError(
            f"`padding_mode` must be one of {accepted}, got {mode!r}",
            param="padding_mode",
            accepted=accepted,
            suggestion={"padding_mode": "zeros"},
        )
    return str(mode)


def check_padding_fits(spatial_shape: tuple[int, ...], pads: Pads, mode: str) -> None:
    """Reflect needs padding < side, circular padding <= side (as PyTorch); raise otherwise."""
    if mode not in ("reflect", "circular"):
        return
    for axis, (n, (before, after)) in enumerate(zip(spatial_shape, pads, strict=True)):
        limit = n - 1 if mode == "reflect" else n
        if max(before, after) > limit:
            raise PaddingError(
                f'`padding` of [{before}, {after}] on axis {axis} is too wide for padding_mode '
                f'"{mode}": that axis has {n} elements, so at most {limit} can be '
                + ("mirrored (the edge is not repeated)" if mode == "reflect" else "wrapped"),
                param="padding",
                accepted=f'at most {limit} on axis {axis} with "{mode}", or padding_mode '
                '"zeros"/"replicate" for any width',
                suggestion={"padding_mode": "replicate"},
            )


def pad(x: np.ndarray, pads: Pads, mode: str = "zeros") -> np.ndarray:
    """Pad the spatial axes (all but the first) of ``x`` by ``pads``.

    Parameters
    ----------
    x : ndarray, shape (C, *S)
    pads : one ``(before, after)`` pair per spatial axis
    mode : "zeros", "reflect" (mirror without repeating the edge), "replicate" or "circular"

    Returns a new array (or ``x`` itself when there is nothing to pad). Cost: one copy of the
    padded array.

    >>> pad(np.array([[1, 2, 3]]), ((2, 1),), "reflect")
    array([[3, 2, 1, 2, 3, 2]])
    >>> pad(np.array([[1, 2, 3]]), ((1, 2),), "circular")
    array([[3, 1, 2, 3, 1, 2]])
    """
    mode = check_padding_mode(mode)
    if not any(before or after for before, after in pads):
        return x
    check_padding_fits(tuple(x.shape[1:]), pads, mode)
    padded: np.ndarray = np.pad(x, ((0, 0), *pads), mode=_NUMPY_MODE[mode])  # type: ignore[call-overload]
    return padded
