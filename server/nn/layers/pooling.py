"""Pooling layers: Max/AveragePooling1D/2D/3D over windows, Global*PoolingND over whole maps."""

from __future__ import annotations

import numpy as np

from ...core import pool, pool_backward
from .. import _keras_args as args
from ._batched import batch_first, batch_last, tiled_pool, tiled_pool_grad
from .base import Layer, Shape, Summary


class Pooling(Layer):
    """``keras.layers.{Max,Average}PoolingND``, computed by `server.core.pool`.

    Keras's ``"same"`` pads as TensorFlow does: the padding never wins a maximum and is not
    counted in an average (``count_include_pad=False`` in the core's, PyTorch's, terms).
    """

    nd: int
    mode: str  # "max" or "avg"
    _pooled: np.ndarray | None = None  # the last training output (batched path)

    def read_args(self) -> None:
        i, a = self.index, self.args
        self.pool_size = args.ints(i, "pool_size", a["pool_size"], self.nd)
        # Keras: strides=None means "as large as the window", so windows do not overlap
        self.strides = (self.pool_size if a["strides"] is None
                        else args.ints(i, "strides", a["strides"], self.nd))
        self.padding = args.padding(i, a["padding"])

    def compute(self, shape: Shape) -> Summary:
        self.needs_map(shape, self.nd)
        out, explain = self.window(shape, self.pool_size, self.strides, self.padding,
                                   (1,) * self.nd, "pool_size")
        how = "largest value" if self.mode == "max" else "mean"
        size, step = "x".join(map(str, self.pool_size)), "x".join(map(str, self.strides))
        note = f"the {how} of each {size} window, step {step}, channel by channel: nothing to learn"
        return Summary((*out, shape[-1]), note=note, explain=explain)

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        self._pooled = None
        if training and self._tiles(x):
            # the training path (`_batched`): the taps as views of the batch-last layout
            xc = batch_last(x)
            self._x, self._pooled = xc, tiled_pool(xc, self.mode, self.pool_size)
            return batch_first(self._pooled)
        n, c, *spatial = x.shape
        # pooling works channel by channel, so the batch joins the channel axis: one core call
        out = pool(x.reshape(n * c, *spatial), **self._geometry())
        if training:
            self._x = x
        return out.reshape(n, c, *out.shape[1:])

    def _tiles(self, x: np.ndarray) -> bool:
        """Windows that tile the built input exactly (stride = pool size, sizes multiples of
        it: no padding either way), on float32."""
        shape = self.input_shape
        return (self.strides == self.pool_size and x.dtype == np.float32
                and x.shape[1:] == (shape[-1], *shape[:-1])
                and all(n % k == 0 for n, k in zip(shape[:-1], self.pool_size, strict=True)))

    def _geometry(self) -> dict[str, object]:
        return {"mode": self.mode, "kernel_size": list(self.pool_size),
                "stride": list(self.strides), "padding": self.padding,
                "count_include_pad": False}

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, pooled = self._x, self._pooled
        if pooled is not None:
            # NaN equals nothing, so a window holding one goes to the core (PyTorch's rule)
            if self.mode == "avg" or not np.isnan(pooled).any():
                return batch_first(tiled_pool_grad(x, pooled, batch_last(grad), self.mode,
                                                   self.pool_size))
            x = batch_first(x)
        n, c, *spatial = x.shape
        g = pool_backward(x.reshape(n * c, *spatial), grad.reshape(n * c, *grad.shape[2:]),
                          **self._geometry())
        return g.reshape(x.shape).astype(np.float32, copy=False)


class GlobalPooling(Layer):
    """``keras.layers.Global{Max,Average}PoolingND``: one number per channel (``keepdims``)."""

    nd: int
    mode: str

    def read_args(self) -> None:
        self.keepdims = args.flag(self.index, "keepdims", self.args["keepdims"])

    def compute(self, shape: Shape) -> Summary:
        self.needs_map(shape, self.nd)
        how = "largest value" if self.mode == "max" else "mean"
        size = "x".join(map(str, shape[:-1]))
        out = (*(1,) * self.nd, shape[-1]) if self.keepdims else (shape[-1],)
        return Summary(out, note=f"the {how} of each whole {size} map: one number per channel")

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        axes = tuple(range(2, x.ndim))
        reduce = np.max if self.mode == "max" else np.mean
        if training:
            self._x = x
        return np.asarray(reduce(x, axis=axes, keepdims=self.keepdims), dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x = self._x
        n, c = x.shape[:2]
        g = grad.reshape(n, c, -1)
        flat = x.reshape(n, c, -1)
        if self.mode == "avg":
            spread = np.broadcast_to(g / flat.shape[2], flat.shape)
        else:
            # all to the first maximum of each map, as PyTorch's autograd does
            spread = np.zeros_like(flat)
            np.put_along_axis(spread, flat.argmax(axis=2)[..., None], g, axis=2)
        return np.ascontiguousarray(spread, dtype=np.float32).reshape(x.shape)
