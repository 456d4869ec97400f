"""Convolution layers (Conv1D/2D/3D) and the zero padding around a map (ZeroPadding1D/2D/3D)."""

from __future__ import annotations

import math

import numpy as np

from ...core import conv
from ...core.errors import ParameterError, ShapeError
from .. import _keras_args as args
from ..activations import apply_activation
from .base import AXIS_LABELS, Layer, Shape, Summary, glorot_uniform


class Conv(Layer):
    """``keras.layers.ConvND``: ``filters`` kernels slid over ``nd`` axes, a bias, an activation.

    Computed by `server.core.conv` one example at a time (the core tiles big photos so memory
    stays bounded); the kernel is turned from Keras's ``(*K, C_in/groups, F)`` to the core's
    ``(F, C_in/groups, *K)``.
    """

    nd: int
    weight_names = ("kernel", "bias")

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
        w = self.core_kernel()
        bias = self.weights[1] if self.use_bias else None
        def one(sample: np.ndarray) -> np.ndarray:
            return conv(sample, w, bias=bias, stride=self.strides, padding=self.padding,
                        dilation=self.dilation, groups=self.groups)

        # one example (a page's photo) needs no stacking copy of a map that can be megabytes
        out = one(x[0])[None] if len(x) == 1 else np.stack([one(sample) for sample in x])
        if self.activation == "relu":  # the output is ours alone: no second array
            return np.maximum(out, 0, out=out)
        return apply_activation(out, self.activation, axis=1)


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
