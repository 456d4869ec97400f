"""Naive-loop reference convolutions in float64: obviously correct, deliberately slow.

Written straight from DESIGN §2 and PyTorch's documentation, sharing no code with server.core:
its own padding resolution, its own padding modes (an index rule per mode), and plain Python
loops over filters, output positions, channels and taps. Operands are in full form only:
input ``(C, *S)``, kernel ``(F, C/groups, *K)`` (transposed: ``(C, F/groups, *K)``).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np


def _per_axis(value: Any, nd: int) -> list[int]:
    if isinstance(value, int):
        return [value] * nd
    return [int(v) for v in value]


def ref_pads(
    padding: Any, spatial: list[int], kernel: list[int], stride: list[int], dilation: list[int]
) -> list[tuple[int, int]]:
    """(before, after) per axis for every padding form, from DESIGN §2."""
    nd = len(spatial)
    if padding == "valid":
        return [(0, 0)] * nd
    if padding == "full":
        return [(dilation[i] * (kernel[i] - 1),) * 2 for i in range(nd)]
    if padding == "same":
        pads = []
        for i in range(nd):
            out = math.ceil(spatial[i] / stride[i])
            total = max((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - spatial[i], 0)
            pads.append((total // 2, total - total // 2))
        return pads
    if isinstance(padding, int):
        return [(padding, padding)] * nd
    pads = []
    for item in padding:
        if isinstance(item, int):
            pads.append((item, item))
        else:
            pads.append((int(item[0]), int(item[1])))
    return pads


def _source(i: int, n: int, mode: str) -> int | None:
    """The input index a padded position reads (None: a zero)."""
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    # reflect (PyTorch): mirror about the edge element, which is not repeated
    return -i if i < 0 else 2 * (n - 1) - i


def conv_ref(
    x: Any,
    w: Any,
    *,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    padding_mode: str = "zeros",
    dilation: Any = 1,
    groups: int = 1,
    flip: bool = False,
) -> np.ndarray:
    """out[f, o] = bias[f] + sum_{c, k} w[f, c, k] * xpad[g*Cg + c, o*stride + k*dilation]."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 1
    spatial, kernel = list(x.shape[1:]), list(w.shape[2:])
    s, d = _per_axis(stride, nd), _per_axis(dilation, nd)
    pads = ref_pads(padding, spatial, kernel, s, d)
    out_shape = [
        (spatial[i] + pads[i][0] + pads[i][1] - d[i] * (kernel[i] - 1) - 1) // s[i] + 1
        for i in range(nd)
    ]
    filters, cg = w.shape[0], w.shape[1]
    fg = filters // groups
    out = np.zeros([filters, *out_shape])
    for f in range(filters):
        g = f // fg
        for o in itertools.product(*[range(n) for n in out_shape]):
            total = 0.0 if bias is None else float(np.asarray(bias, dtype=np.float64).flat[f])
            for c in range(cg):
                for k in itertools.product(*[range(n) for n in kernel]):
                    src = []
                    for i in range(nd):
                        padded = o[i] * s[i] + k[i] * d[i]
                        src.append(_source(padded - pads[i][0], spatial[i], padding_mode))
                    if any(v is None for v in src):
                        continue
                    kk = tuple(kernel[i] - 1 - k[i] for i in range(nd)) if flip else k
                    total += w[(f, c, *kk)] * x[(g * cg + c, *src)]
            out[(f, *o)] = total
    return out


def conv_transpose_ref(
    x: Any,
    w: Any,
    *,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """PyTorch's conv_transposeNd: every input value scatters value * kernel into the output."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 1
    spatial, kernel = list(x.shape[1:]), list(w.shape[2:])
    s, d = _per_axis(stride, nd), _per_axis(dilation, nd)
    p, op = _per_axis(padding, nd), _per_axis(output_padding, nd)
    channels, fg = w.shape[0], w.shape[1]
    cg = channels // groups
    out_shape = [
        (spatial[i] - 1) * s[i] - 2 * p[i] + d[i] * (kernel[i] - 1) + op[i] + 1 for i in range(nd)
    ]
    out = np.zeros([fg * groups, *out_shape])
    for c in range(channels):
        g = c // cg
        for i in itertools.product(*[range(n) for n in spatial]):
            for fl in range(fg):
                for k in itertools.product(*[range(n) for n in kernel]):
                    o = [i[a] * s[a] + k[a] * d[a] - p[a] for a in range(nd)]
                    if all(0 <= o[a] < out_shape[a] for a in range(nd)):
                        out[(g * fg + fl, *o)] += x[(c, *i)] * w[(c, fl, *k)]
    if bias is not None:
        b = np.broadcast_to(np.asarray(bias, dtype=np.float64), (fg * groups,))
        for f in range(fg * groups):
            out[f] += b[f]
    return out
