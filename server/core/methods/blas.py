"""Direct calls into the BLAS that NumPy itself ships (OpenBLAS in NumPy's wheels), via ctypes.

NumPy's ``matmul`` cannot accumulate into its output (``C += A @ B``), so a
shift-and-add over taps through NumPy pays an extra temporary and an extra pass per tap. The BLAS
routines do it in one pass (``beta = 1``), reading the shifted planes in place through their
leading dimension. This module finds NumPy's bundled OpenBLAS (``numpy.libs/*openblas*``, symbols
``scipy_cblas_*64_``), checks it on a small product at import, and otherwise reports itself
unavailable: callers then use the pure-NumPy paths, which give the same results.
"""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

import numpy as np

_ROW_MAJOR, _NO_TRANS = 101, 111
_I64, _I32, _PTR = ctypes.c_int64, ctypes.c_int, ctypes.c_void_p

_gemm: dict[Any, Any] = {}
_axpy: dict[Any, Any] = {}


def _find() -> None:
    root = os.path.dirname(os.path.dirname(np.__file__))
    for path in sorted(glob.glob(os.path.join(root, "numpy.libs", "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
            funcs = {
                name: getattr(lib, f"scipy_cblas_{name}64_")
                for name in ("sgemm", "dgemm", "saxpy", "daxpy")
            }
        except (OSError, AttributeError):
            continue
        for prefix, scalar, dtype in (
            ("s", ctypes.c_float, np.float32),
            ("d", ctypes.c_double, np.float64),
        ):
            gemm = funcs[prefix + "gemm"]
            gemm.restype = None
            gemm.argtypes = [
                _I32,
                _I32,
                _I32,
                _I64,
                _I64,
                _I64,
                scalar,
                _PTR,
                _I64,
                _PTR,
                _I64,
                scalar,
                _PTR,
                _I64,
            ]
            _gemm[np.dtype(dtype)] = gemm
            axpy = funcs[prefix + "axpy"]
            axpy.restype = None
            axpy.argtypes = [_I64, scalar, _PTR, _I64, _PTR, _I64]
            _axpy[np.dtype(dtype)] = axpy
        if _self_test():
            return
        _gemm.clear()
        _axpy.clear()


def _self_test() -> bool:
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((3, 4)).astype(dtype)
        b = rng.standard_normal((4, 9)).astype(dtype)[:, 2:7]
        c = np.ones((3, 5), dtype)
        gemm_acc(a, b, c, beta=1.0)
        if not np.allclose(c, np.matmul(a, b) + 1, rtol=1e-5):
            return False
        y = np.ones(7, dtype)
        axpy_acc(0.5, b[0], y[1:6])
        if not np.allclose(y[1:6], 0.5 * b[0] + 1, rtol=1e-5) or y[0] != 1 or y[6] != 1:
            return False
    return True


def available(dtype: np.dtype[Any]) -> bool:
    """True when BLAS calls are possible for ``dtype`` (float32 or float64)."""
    return dtype in _gemm


def _ld(a: np.ndarray) -> int:
    """Leading dimension (row stride in elements) of a row-major 2-D array."""
    if a.shape[1] > 1 and a.strides[1] != a.itemsize:
        raise ValueError("BLAS operands need unit stride along their last axis")
    if a.shape[0] == 1:
        return max(int(a.shape[1]), 1)
    ld, rest = divmod(int(a.strides[0]), int(a.itemsize))
    if rest or ld < a.shape[1]:
        raise ValueError("BLAS operands need a row stride of at least their width")
    return ld


def gemm_acc(a: np.ndarray, b: np.ndarray, c: np.ndarray, beta: float) -> None:
    """``c = a @ b + beta * c`` in place (``c``, ``a``, ``b`` row-major views, one dtype)."""
    m, k = a.shape
    n = b.shape[1]
    _gemm[c.dtype](
        _ROW_MAJOR,
        _NO_TRANS,
        _NO_TRANS,
        m,
        n,
        k,
        1.0,
        a.ctypes.data,
        _ld(a),
        b.ctypes.data,
        _ld(b),
        beta,
        c.ctypes.data,
        _ld(c),
    )


def axpy_acc(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """``y += alpha * x`` in place (1-D views of one dtype with unit stride, same length).

    One pass over both (``numpy`` needs a temporary and two), threaded by the BLAS itself on
    long vectors.
    """
    if x.strides[0] != x.itemsize or y.strides[0] != y.itemsize or x.shape != y.shape:
        raise ValueError("axpy operands need unit stride and one length")
    _axpy[y.dtype](y.shape[0], alpha, x.ctypes.data, 1, y.ctypes.data, 1)


def axpy_raw(dtype: np.dtype[Any]) -> Any:
    """The bare ``?axpy(n, alpha, x_ptr, incx, y_ptr, incy)`` for ``dtype`` (callers pass
    addresses as ints, and own the bounds: nothing is checked)."""
    return _axpy[dtype]


_find()
