"""Encode arrays for the wire: PNG for pictures, NumPy's .npy for exact values."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

__all__ = ["NPY_MEDIA_TYPE", "encode_npy", "encode_png"]

NPY_MEDIA_TYPE = "application/x-npy"


def encode_png(pixels: np.ndarray | Image.Image, *, compress_level: int = 1) -> bytes:
    """PNG bytes of a uint8 ``(H, W)`` grey or ``(H, W, 3)`` RGB array (or a Pillow image).

    Level 1 by default: rendered maps are regenerated on every slider move, so encoding time
    matters more than a few percent of size. Cost: O(pixels).
    """
    if isinstance(pixels, Image.Image):
        image = pixels
    else:
        array = np.asarray(pixels)
        if array.dtype != np.uint8 or array.ndim not in (2, 3):
            raise ValueError(f"encode_png needs uint8 (H, W) or (H, W, 3), got {array.dtype} "
                             f"{array.shape}")
        image = Image.fromarray(np.ascontiguousarray(array))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def encode_npy(array: np.ndarray, *, dtype: str = "<f4") -> bytes:
    """``.npy`` bytes (little-endian float32 by default), readable with ``numpy.load``.

    Cost: O(elements); 4 bytes per element plus a 128-byte header.
    """
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=dtype), allow_pickle=False)
    return buffer.getvalue()
