"""A convolution written out as the dense weight matrix of a fully connected layer.

A convolution is a fully connected layer with most connections removed and the remaining ones
sharing a few weights (the lesson's opening argument). `conv_matrix` builds that matrix: one row
per output value, one column per input value, each entry either one of the kernel's weights or a
structural zero, with the zero padding folded in (a tap that lands on padding connects to nothing).
`conv_matrix_counts` gives the three numbers the lesson compares without building anything:
the weights a fully connected layer would need, the connections the convolution keeps, and the
distinct weights they share.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ShapeError
from .shapes import as_tuple, normalize_operands, output_shape, resolve_padding

__all__ = ["ConvMatrix", "MatrixCounts", "conv_matrix", "conv_matrix_counts"]


@dataclass(frozen=True)
class MatrixCounts:
    """The lesson's comparison: what a fully connected layer needs, what a convolution keeps.

    Attributes
    ----------
    inputs, outputs : int
        Values in the input ``C * prod(S)`` and in the output ``F * prod(O)``: the matrix's
        columns and rows.
    fully_connected : int
        ``outputs * inputs``: the weights of a fully connected layer joining every input to every
        output (the lesson's 9 * 4 = 36, and 25 * 9 = 225).
    connections : int
        The entries that are a kernel weight (sparse connections): taps that land on the input,
        not on padding (the lesson's 4 * 4 = 16).
    shared_weights : int
        The kernel's distinct weights ``F * C/groups * prod(K)``, what the connections share
        (the lesson's 4, and 9); biases not included.
    """

    inputs: int
    outputs: int
    fully_connected: int
    connections: int
    shared_weights: int

    def as_dict(self) -> dict[str, int]:
        return {"inputs": self.inputs, "outputs": self.outputs,
                "fully_connected": self.fully_connected, "connections": self.connections,
                "shared_weights": self.shared_weights}


@dataclass(frozen=True)
class ConvMatrix:
    """`conv_matrix`'s result: the matrix, which weight each entry is, the shapes, the counts.

    Attributes
    ----------
    matrix : ndarray, shape (F * prod(O), C * prod(S))
        ``matrix @ x.ravel()`` equals ``conv(x, w, ...).ravel()`` (channel-first, row-major).
    index : ndarray of int64, same shape
        The flat index into ``w`` (shape ``kernel_shape``, row-major) of each entry; -1 for a
        structural zero.
    input_shape, kernel_shape, output_shape : tuple of int
        Full channel-first forms ``(C, *S)``, ``(F, C/groups, *K)``, ``(F, *O)``.
    pads : tuple of (int, int)
        The zero padding folded in, per spatial axis.
    counts : MatrixCounts
    """

    matrix: np.ndarray
    index: np.ndarray
    input_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    counts: MatrixCounts


@dataclass(frozen=True)
class _Geometry:
    input_shape: tuple[int, ...]  # (C, *S)
    kernel_shape: tuple[int, ...]  # (F, C/groups, *K)
    out: tuple[int, ...]  # O
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    groups: int


def _geometry(input_shape: Sequence[int], kernel_shape: Sequence[int], stride: Any,
              padding: Any, dilation: Any, groups: int) -> _Geometry:
    """Shapes in full form (DESIGN §2's shorthand applied), per-axis parameters, checked."""
    for name, shape in (("input_shape", input_shape), ("kernel", kernel_shape)):
        if not isinstance(shape, Sequence) or isinstance(shape, str):
            raise ShapeError(f"`{name}` must be a list of ints, got {shape!r}", param=name,
                             accepted="a list of ints >= 1")
        as_tuple(list(shape), len(shape), name)
    # only the shapes matter: zero-strided views cost no memory whatever the input's size
    op = normalize_operands(np.broadcast_to(np.float32(0), tuple(input_shape)),
                            np.broadcast_to(np.float32(0), tuple(kernel_shape)), groups=groups)
    nd = op.spatial_ndim
    spatial, kernel = op.x.shape[1:], op.w.shape[2:]
    strides = as_tuple(stride, nd, "stride")
    dilations = as_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, spatial_shape=spatial, kernel_shape=kernel, stride=strides,
                           dilation=dilations)
    out = output_shape(spatial, kernel, stride=strides, padding=pads, dilation=dilations)
    return _Geometry(tuple(op.x.shape), tuple(op.w.shape), out, strides, dilations, pads, groups)


def _axis_inputs(g: _Geometry, axis: int) -> np.ndarray:
    """Input coordinate of every (output, tap) pair along one axis, -1 where it is padding."""
    n, k = g.input_shape[1 + axis], g.kernel_shape[2 + axis]
    o = np.arange(g.out[axis])[:, None]
    t = np.arange(k)[None, :]
    p = o * g.stride[axis] + t * g.dilation[axis] - g.pads[axis][0]
    return np.where((p >= 0) & (p < n), p, -1)  # (O_axis, K_axis)


def _counts(g: _Geometry) -> MatrixCounts:
    filters, per_group = g.kernel_shape[:2]
    inputs, outputs = math.prod(g.input_shape), filters * math.prod(g.out)
    # landing inside the input is decided axis by axis, so the count is a product
    inside = math.prod(int((_axis_inputs(g, a) >= 0).sum()) for a in range(len(g.out)))
    return MatrixCounts(inputs=inputs, outputs=outputs, fully_connected=inputs * outputs,
                        connections=filters * per_group * inside,
                        shared_weights=math.prod(g.kernel_shape))


def conv_matrix_counts(input_shape: Sequence[int], kernel_shape: Sequence[int], *,
                       stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                       groups: int = 1) -> MatrixCounts:
    """The counts of `conv_matrix` from the shapes alone, without building the matrix.

    Parameters are those of `conv_matrix`, with the kernel's shape instead of the kernel.

    Notes
    -----
    Cost: ``O(sum(O * K))`` over the axes, whatever the sizes; use it for a photo whose matrix
    would not fit in memory.

    Examples
    --------
    >>> conv_matrix_counts((3, 3), (2, 2))
    MatrixCounts(inputs=9, outputs=4, fully_connected=36, connections=16, shared_weights=4)
    >>> conv_matrix_counts((3, 224, 224), (32, 3, 3, 3), padding="same").connections
    43094400
    """
    return _counts(_geometry(input_shape, kernel_shape, stride, padding, dilation, groups))


def conv_matrix(input_shape: Sequence[int], w: Any, *, stride: Any = 1, padding: Any = 0,
                dilation: Any = 1, groups: int = 1) -> ConvMatrix:
    """The dense weight matrix equal to convolving an input of ``input_shape`` with ``w``.

    Row ``r`` of the matrix is output value ``r`` (filter-major, then output positions in
    row-major order), column ``c`` is input value ``c`` (channel-major, then row-major): the
    order of ``out.ravel()`` and ``x.ravel()`` for channel-first arrays. Each entry is the kernel
    weight joining that input to that output, or 0 where they are not connected; zero padding is
    folded in (a tap on padding contributes nothing, so it has no column).

    Parameters
    ----------
    input_shape : sequence of int
        ``(C, *S)``, or ``(*S)`` with the shorthand of `server.core.conv` (DESIGN §2).
    w : array_like, shape (F, C/groups, *K) or (*K)
        The kernel, as for `server.core.conv`.
    stride, dilation : int or sequence of int, >= 1
    padding : int, sequence, or {"valid", "same", "full"}
        Zero padding only, in any form `server.core.conv` accepts.
    groups : int

    Returns
    -------
    ConvMatrix
        ``matrix`` (float64, or float32 for a float32 kernel), ``index`` (which weight of
        ``w.ravel()`` each entry is, -1 for zeros), the full shapes and the counts.

    Raises
    ------
    ShapeError, ParameterError, OutputSizeError
        As `server.core.conv` would for the same shapes and parameters.

    Notes
    -----
    Cost: the matrix and its index take ``16 * F * prod(O) * C * prod(S)`` bytes (float64 and
    int64), quadratic in the image size, so this is for teaching sizes; `conv_matrix_counts`
    gives the counts for any size. Time: one vectorized scatter per kernel tap.

    Examples
    --------
    >>> m = conv_matrix((3, 3), np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> m.matrix
    array([[1., 2., 0., 3., 4., 0., 0., 0., 0.],
           [0., 1., 2., 0., 3., 4., 0., 0., 0.],
           [0., 0., 0., 1., 2., 0., 3., 4., 0.],
           [0., 0., 0., 0., 1., 2., 0., 3., 4.]])
    >>> m.index[0]
    array([ 0,  1, -1,  2,  3, -1, -1, -1, -1])
    >>> m.counts.fully_connected, m.counts.connections, m.counts.shared_weights
    (36, 16, 4)
    """
    kernel = np.asarray(w)
    if kernel.dtype.kind not in "biuf":
        raise ShapeError(f"`kernel` must hold real numbers, got dtype {kernel.dtype}",
                         param="kernel", accepted="an array of real numbers")
    g = _geometry(input_shape, kernel.shape, stride, padding, dilation, groups)
    filters, per_group = g.kernel_shape[:2]
    channels, spatial = g.input_shape[0], g.input_shape[1:]
    nd = len(spatial)
    n_out, n_in = math.prod(g.out), math.prod(spatial)
    index = np.full((filters * n_out, channels * n_in), -1, dtype=np.int64)
    per_axis = [_axis_inputs(g, a) for a in range(nd)]
    f = np.arange(filters)[:, None, None]
    ci = np.arange(per_group)[None, :, None]
    channel = (f // (filters // groups)) * per_group + ci  # (F, C/g, 1): input channel of (f, ci)
    taps = math.prod(g.kernel_shape[2:])
    for t, tap in enumerate(itertools.product(*(range(k) for k in g.kernel_shape[2:]))):
        coords = np.meshgrid(*(per_axis[a][:, tap[a]] for a in range(nd)), indexing="ij")
        inside = np.logical_and.reduce([c >= 0 for c in coords]).ravel()
        if not inside.any():
            continue
        position = np.flatnonzero(inside)  # flat output positions whose tap lands inside
        column = np.ravel_multi_index(tuple(c.ravel()[inside] for c in coords), spatial)
        rows = f * n_out + position[None, None, :]
        cols = channel * n_in + column[None, None, :]
        weight = (f * per_group + ci) * taps + t  # flat index into w (F, C/g, *K)
        index[rows, cols] = np.broadcast_to(weight, np.broadcast_shapes(rows.shape, cols.shape))
    dtype = np.float32 if kernel.dtype == np.float32 else np.float64
    flat = kernel.astype(dtype, copy=False).reshape(-1)
    matrix = np.where(index >= 0, flat[np.maximum(index, 0)], dtype(0)).astype(dtype, copy=False)
    return ConvMatrix(matrix=matrix, index=index, input_shape=g.input_shape,
                      kernel_shape=g.kernel_shape, output_shape=(filters, *g.out), pads=g.pads,
                      counts=_counts(g))
