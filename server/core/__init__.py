"""The numeric core: pure NumPy convolution arithmetic (no web, no images, no I/O)."""

from __future__ import annotations

from .activations import ACTIVATIONS, Activation, activate, dropout
from .conv import conv, conv_method
from .dense import dense, flatten
from .errors import CoreError, OutputSizeError, PaddingError, ParameterError, ShapeError
from .frames import FrameBatch, PoolFrameBatch, frames, pool_frames
from .gradients import conv_backward, pool_backward
from .kernels import PRESETS, Preset, get_preset
from .padding import PADDING_MODES, pad
from .pooling import POOL_MODES, global_pool, pool
from .shapes import (
    as_tuple,
    explain_output_shape,
    normalize_operands,
    output_shape,
    resolve_padding,
)
from .transpose import conv_transpose, conv_transpose_shape
from .transpose_frames import TransposeFrameBatch, conv_transpose_frames, gather_geometry

__all__ = [
    "ACTIVATIONS",
    "POOL_MODES",
    "PRESETS",
    "Activation",
    "FrameBatch",
    "PoolFrameBatch",
    "Preset",
    "activate",
    "dense",
    "dropout",
    "flatten",
    "frames",
    "get_preset",
    "global_pool",
    "pool",
    "pool_backward",
    "pool_frames",
    "PADDING_MODES",
    "CoreError",
    "OutputSizeError",
    "PaddingError",
    "ParameterError",
    "ShapeError",
    "as_tuple",
    "conv",
    "conv_backward",
    "conv_method",
    "conv_transpose",
    "conv_transpose_shape",
    "conv_transpose_frames",
    "gather_geometry",
    "TransposeFrameBatch",
    "explain_output_shape",
    "normalize_operands",
    "output_shape",
    "pad",
    "resolve_padding",
]
