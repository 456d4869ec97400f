"""The numeric core: pure NumPy convolution arithmetic (no web, no images, no I/O)."""

from __future__ import annotations

from .errors import CoreError, OutputSizeError, PaddingError, ParameterError, ShapeError
from .padding import PADDING_MODES, pad
from .shapes import (
    as_tuple,
    explain_output_shape,
    normalize_operands,
    output_shape,
    resolve_padding,
)

__all__ = [
    "PADDING_MODES",
    "CoreError",
    "OutputSizeError",
    "PaddingError",
    "ParameterError",
    "ShapeError",
    "as_tuple",
    "explain_output_shape",
    "normalize_operands",
    "output_shape",
    "pad",
    "resolve_padding",
]
