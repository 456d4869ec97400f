"""Gathering the values under a few sliding windows straight from the unpadded input.

The step-through views need the taps of one page of windows (about a hundred), anywhere in an
input that may be a 2048x2048 photo. Padding the whole input for that would cost far more than the
page, so each window's taps are mapped to input indices per axis (clipped, mirrored or wrapped as
the padding mode says) and read with one fancy-indexing gather.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..shapes import Pads


def source_index(i: np.ndarray, n: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Input index read by (unpadded) index ``i`` of an axis of length ``n``, and whether ``i``
    is inside the input.

    ``mode`` is a padding mode; for ``"zeros"`` (and the constant padding of pooling) the index
    is clipped and the caller masks the taps outside.

    >>> source_index(np.arange(-2, 5), 3, "reflect")[0]
    array([2, 1, 0, 1, 2, 1, 0])
    """
    inside = (i >= 0) & (i < n)
    if mode == "circular":
        return np.mod(i, n), inside
    if mode == "reflect" and n > 1:
        period = 2 * (n - 1)
        j = np.mod(i, period)
        return np.where(j < n, j, period - j), inside
    return np.clip(i, 0, n - 1), inside


def gather(
    x: np.ndarray,
    channels: np.ndarray,
    origins: np.ndarray,
    kernel: Sequence[int],
    dilation: Sequence[int],
    pads: Pads,
    mode: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The taps of ``n`` windows: values ``(n, c, *K)`` and an inside-the-input mask ``(n, 1, *K)``.

    Parameters
    ----------
    x : ndarray, shape (C, *S)
    channels : int ndarray, shape (n, c)
        The input channels each window reads.
    origins : int ndarray, shape (n, nd)
        First tap of each window in padded-input coordinates.
    kernel, dilation, pads
        Per spatial axis.
    mode : str
        A padding mode; taps outside the input read the clipped edge, and the caller decides
        what they are (zero, ``-inf``) from the mask, unless the mode defines them.

    Cost: ``n * c * prod(K)`` reads and the same memory, independent of the size of ``x``.
    """
    n, nd = origins.shape
    shape_tail = (1,) * nd
    index: list[Any] = [channels.reshape(channels.shape + shape_tail)]
    inside = np.ones((n, 1) + shape_tail, dtype=bool)
    for axis in range(nd):
        taps = np.arange(kernel[axis]) * dilation[axis]
        i = origins[:, axis, None] + taps[None, :] - pads[axis][0]
        src, ok = source_index(i, x.shape[axis + 1], mode)
        bshape = [n, 1] + [1] * nd
        bshape[axis + 2] = kernel[axis]
        index.append(src.reshape(bshape))
        inside = inside & ok.reshape(bshape)
    return x[tuple(index)], inside


def page(
    total: int, offset: Any, limit: Any
) -> np.ndarray:
    """The sequence numbers ``offset <= k < min(offset + limit, total)`` of a page of frames."""
    for name, value in (("offset", offset), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ParameterError(
                f"`{name}` must be an int >= 0, got {value!r}",
                param=name,
                accepted="an int >= 0",
                suggestion={name: 0 if name == "offset" else 100},
            )
    return np.arange(min(int(offset), total), min(int(offset) + int(limit), total), dtype=np.int64)


def check_positions(positions: Any, out_shape: tuple[int, ...]) -> np.ndarray:
    """Validate output coordinates: ``(m, nd)`` ints inside ``out_shape`` (an int each in 1-D)."""
    nd = len(out_shape)
    if nd == 1:
        accepted = (
            f"a list of output positions, each an int (or a one-int list) from 0 to "
            f"{out_shape[0] - 1}"
        )
    else:
        accepted = (
            f"a list of output coordinates, each a list of {nd} ints with 0 <= position[i] < "
            f"{list(out_shape)}[i]"
        )
    if nd == 1 and isinstance(positions, (list, tuple)):
        # a 1-D position may be a bare int or a one-int list, mixed freely
        positions = [[p] if isinstance(p, (int, np.integer)) else p for p in positions]
    try:
        arr = np.asarray(positions)
    except (ValueError, TypeError):  # ragged lists
        arr = np.asarray(None, dtype=object)
    if nd == 1 and arr.ndim == 1 and arr.dtype.kind in "iu":
        arr = arr[:, None]
    if arr.size == 0 and 1 <= arr.ndim <= 2:
        return np.zeros((0, nd), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != nd or arr.dtype.kind not in "iu":
        raise ParameterError(
            f"`positions` must be {accepted}; got {positions!r} for an output of shape "
            f"{out_shape}",
            param="positions",
            accepted=accepted,
        )
    bad = (arr < 0) | (arr >= np.asarray(out_shape))
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        axis = int(np.argwhere(bad[row])[0][0])
        raise ParameterError(
            f"`positions`[{row}] = {arr[row].tolist()} is outside the output of shape "
            f"{out_shape}: axis {axis} must be in 0..{out_shape[axis] - 1}",
            param="positions",
            accepted=accepted,
        )
    return arr.astype(np.int64)


def json_list(a: np.ndarray) -> Any:
    """``a.tolist()`` with non-finite values (padding's ``-inf``) as ``None``, which JSON has."""
    if a.dtype.kind != "f" or np.isfinite(a).all():
        return a.tolist()
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()
