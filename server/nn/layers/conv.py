"""Convolution layers (Conv1D/2D/3D) and the zero padding around a map (ZeroPadding1D/2D/3D)."""

from __future__ import annotations

import math

import numpy as np

from ...core import conv, conv_backward, resolve_padding
from ...core.errors import ParameterError, ShapeError
from .. import _keras_args as args
from ..activations import activation_backward, apply_activation
from ._batched import (
    COLS_BYTES,
    Pads,
    batch_first,
    batch_last,
    conv_input_grad,
    conv_windows,
    pad_batch,
)
from .base import AXIS_LABELS, Layer, Shape, Summary, glorot_uniform


class Conv(Layer):
    """``keras.layers.ConvND``: ``filters`` kernels slid over ``nd`` axes, a bias, an activation.

    Computed by `server.core.conv` one example at a time (the core tiles big photos so memory
    stays bounded); the kernel is turned from Keras's ``(*K, C_in/groups, F)`` to the core's
    ``(F, C_in/groups, *K)``. A training batch of a stride-1 convolution takes the batched path
    (`_batched`), which keeps its windows for the kernel's gradient; the rest go through
    `server.core.conv_backward`.
    """

    nd: int
    weight_names = ("kernel", "bias")
    _built_pads: Pads | None = None
    _cols: np.ndarray | None = None  # the last training batch's windows (batched path)

    def read_args(self) -> None:
        i, a, nd = self.index, self.args, self.nd
        self.filters = args.positive(i, "filters", a["filters"])
        self.kernel_size = args.ints(i, "kernel_size", a["kernel_size"], nd)
        self.strides = args.ints(i, "strides", a["strides"], nd)
        self.dilation = args.ints(i, "dilation_rate", a["dilation_rate"], nd)
        self.groups = args.positive(i, "groups", a["groups"])
        self.padding = args.padding(i, a["padding"])
        self.activation = args.activation(i, a["activation"])
        self.use_bias = args.flag(i, "use_bias", a["use_bias"])
        if max(self.strides) > 1 and max(self.dilation) > 1:
            raise ParameterError(
                f"`{self.field('dilation_rate')}` = {a['dilation_rate']!r} cannot be combined "
                f"with strides {a['strides']!r}: Keras refuses strides > 1 together with "
                "dilation_rate > 1", param=self.field("dilation_rate"),
                accepted="dilation_rate 1 when strides > 1",
                suggestion={self.field("dilation_rate"): 1},
                alternatives=[{self.field("strides"): 1}])
        if self.filters % self.groups:
            raise ParameterError(
                f"`{self.field('filters')}` = {self.filters} must be a multiple of groups "
                f"{self.groups}", param=self.field("filters"),
                accepted=f"a multiple of {self.groups}")

    def compute(self, shape: Shape) -> Summary:
        self.needs_map(shape, self.nd)
        cin, f, g = shape[-1], self.filters, self.groups
        if cin % g:
            raise ShapeError(
                f"`{self.field('groups')}` = {g} must divide the {cin} input channels of "
                f"layer '{self.name}'", param=self.field("groups"),
                accepted=f"a divisor of {cin}", suggestion={self.field("groups"): 1})
        out, explain = self.window(shape, self.kernel_size, self.strides, self.padding,
                                   self.dilation, "kernel_size")
        k = self.kernel_size
        per_filter = math.prod(k) * (cin // g)
        self.weight_shapes = [(*k, cin // g, f)] + ([(f,)] if self.use_bias else [])
        taps = "*".join(map(str, (*k, cin // g)))
        weights = per_filter * f
        params = weights + (f if self.use_bias else 0)
        formula = (f"({taps} + 1) * {f} = {params}" if self.use_bias
                   else f"{taps} * {f} = {params}")
        size = "x".join(map(str, (*k, cin // g)))
        note = (f"{f} filters of {size}, each with {'one bias' if self.use_bias else 'no bias'};"
                " the same weights at every position"
                + (f"; then {self.activation}" if self.activation != "linear" else ""))
        return Summary((*out, f), params, 0, formula, note, explain,
                       macs=math.prod(out) * f * per_filter)

    def init_weights(self, rng: np.random.Generator) -> None:
        kernel_shape = self.weight_shapes[0]
        receptive = math.prod(self.kernel_size)
        self.weights = [glorot_uniform(rng, kernel_shape, receptive * kernel_shape[-2],
                                       receptive * self.filters)]
        if self.use_bias:
            self.weights.append(np.zeros(self.filters, np.float32))

    def core_kernel(self) -> np.ndarray:
        """The kernel in the core's layout ``(F, C_in/groups, *K)``."""
        nd = self.nd
        return np.ascontiguousarray(np.transpose(self.weights[0], (nd + 1, nd, *range(nd))))

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        if training and self._batched(x):
            return self._forward_batched(x)
        w = self.core_kernel()
        bias = self.weights[1] if self.use_bias else None
        geometry = {"stride": self.strides, "padding": self.padding, "dilation": self.dilation,
                    "groups": self.groups}
        if len(x) > 1 and self.nd < 3:
            # a batch as one more spatial axis that the kernel does not span (size 1, no
            # padding): one core call for the whole batch instead of one per example
            wide = np.ascontiguousarray(np.moveaxis(x, 0, 1))  # (C, N, *S)
            z = conv(wide, w[:, :, None], bias=bias, stride=(1, *self.strides),
                     padding=[(0, 0), *self._pads(x.shape[2:])], dilation=(1, *self.dilation),
                     groups=self.groups)
            z = np.moveaxis(z, 1, 0)
        else:
            # one example (a page's photo) needs no stacking copy of a map that can be megabytes
            z = (conv(x[0], w, bias=bias, **geometry)[None] if len(x) == 1
                 else np.stack([conv(sample, w, bias=bias, **geometry) for sample in x]))
        if not training and self.activation == "relu":
            return np.maximum(z, 0, out=z)  # the output is ours alone: no second array
        y = apply_activation(z, self.activation, axis=1)
        if training:
            self._cache = (x, z, y)
            self._cols = None
        return y

    def _pads(self, spatial: tuple[int, ...]) -> list[tuple[int, int]]:
        pads = resolve_padding(self.padding, spatial_shape=spatial,
                               kernel_shape=self.kernel_size, stride=self.strides,
                               dilation=self.dilation)
        return [(int(a), int(b)) for a, b in pads]

    # -- training on a whole batch (see `_batched`) -----------------------------------------
    def _batched(self, x: np.ndarray) -> bool:
        """Whether a training batch takes the batched path: stride 1, one group, float32,
        the built input shape, and windows that fit `COLS_BYTES`."""
        nd, shape = self.nd, self.input_shape
        out = self.summary.output_shape[:-1]
        return (self.groups == 1 and all(s == 1 for s in self.strides)
                and x.dtype == np.float32 and self.weights[0].dtype == np.float32
                and x.shape[1:] == (shape[-1], *shape[:-1])
                and 4 * shape[-1] * math.prod(self.kernel_size) * math.prod(out) * len(x)
                <= COLS_BYTES and len(out) == nd)

    def _forward_batched(self, x: np.ndarray) -> np.ndarray:
        nd = self.nd
        out = tuple(self.summary.output_shape[:-1])
        pads = self._train_pads()
        cols = conv_windows(pad_batch(batch_last(x), pads), self.kernel_size, self.dilation,
                            out)
        w = self.core_kernel()
        z = (w.reshape(len(w), -1) @ cols).reshape(len(w), *out, len(x))  # (F, *O, N)
        if self.use_bias:
            z += self.weights[1].reshape(-1, *(1,) * (nd + 1))
        if self.activation in ("relu", "linear"):
            # ReLU's derivative reads as well from its output: no second array
            y = np.maximum(z, 0, out=z) if self.activation == "relu" else z
        else:
            y = apply_activation(z, self.activation, axis=0)
        self._cache = (x, z, y)
        self._cols = cols
        return batch_first(y)

    def _train_pads(self) -> Pads:
        """The padding of the built input shape (resolved once)."""
        if self._built_pads is None:
            self._built_pads = tuple(self._pads(tuple(self.input_shape[:-1])))
        return self._built_pads

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._cols is not None:
            grad_x = self._backward_batched(grad, input_grad=True)
            assert grad_x is not None
            return grad_x
        x, z, y = self._cache
        g = activation_backward(self.activation, z, y, grad, axis=1)
        grad_x, grad_w, grad_b = conv_backward(
            x, self.core_kernel(), g, stride=self.strides, padding=self.padding,
            dilation=self.dilation, groups=self.groups, batch=True)
        nd = self.nd
        self.grads = [np.transpose(grad_w, (*range(2, nd + 2), 1, 0)).astype(np.float32)]
        if self.use_bias:
            self.grads.append(grad_b.astype(np.float32))
        return grad_x.astype(np.float32, copy=False)

    def backward_weights(self, grad: np.ndarray) -> None:
        if self._cols is None:
            super().backward_weights(grad)
        else:
            self._backward_batched(grad, input_grad=False)

    def _backward_batched(self, grad: np.ndarray, *, input_grad: bool) -> np.ndarray | None:
        _, z, y = self._cache
        cols = self._cols
        assert cols is not None
        gz = batch_last(grad)  # (F, *O, N): a view of what the next layer gave back
        if self.activation == "relu":
            g = gz * (y > 0)
        else:
            g = activation_backward(self.activation, z, y, gz, axis=0)
        rows = g.reshape(len(g), -1)
        w = self.core_kernel()
        nd = self.nd
        grad_w = (rows @ cols.T).reshape(w.shape)
        self.grads = [np.ascontiguousarray(grad_w.transpose(*range(2, nd + 2), 1, 0))]
        if self.use_bias:
            self.grads.append(rows.sum(axis=1))
        if not input_grad:
            return None
        return batch_first(conv_input_grad(g, w, self._train_pads(), self.dilation))


class ZeroPadding(Layer):
    """``keras.layers.ZeroPaddingND``: rows and columns of zeros around every channel."""

    nd: int

    def read_args(self) -> None:
        self.pads = args.zero_padding(self.index, self.args["padding"], self.nd)

    def compute(self, shape: Shape) -> Summary:
        self.needs_map(shape, self.nd)
        out = tuple(n + a + b for n, (a, b) in zip(shape[:-1], self.pads, strict=True))
        labels = AXIS_LABELS[self.nd]
        explain = [f"{lab}: {n} + {a} + {b} = {o}" for lab, n, (a, b), o in
                   zip(labels, shape[:-1], self.pads, out, strict=True)]
        return Summary((*out, shape[-1]), note="zeros added around each map, as padding "
                       "inside a convolution would: nothing to learn", explain=explain)

    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, 0), *self.pads))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        inside = tuple(slice(a, n - b) for (a, b), n in zip(self.pads, grad.shape[2:],
                                                             strict=True))
        return grad[(slice(None), slice(None), *inside)]
