"""One Keras layer as PyTorch source: the module that computes it and the lines loading its weights.

PyTorch computes channel-first, Keras channels-last; the model keeps PyTorch's order inside and
the script moves the channels at the edges, as `server.nn` itself does. What differs from a
one-to-one translation is written out where it happens: kernels transposed, Keras's "same"
padding as explicit (possibly uneven) padding, average pooling that ignores that padding,
Flatten in Keras's order, BatchNormalization's epsilon and moving statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core.shapes import resolve_padding
from .layers import Layer

__all__ = ["TorchLayer", "torch_layer", "uneven_same_average"]

# Keras activation name -> the PyTorch module computing it (channels on dim 1 inside)
ACTIVATION_MODULES = {
    "relu": "nn.ReLU()", "relu6": "nn.ReLU6()",
    "leaky_relu": "nn.LeakyReLU(0.2)",  # keras.activations.leaky_relu's default slope
    "elu": "nn.ELU()", "selu": "nn.SELU()", "gelu": "nn.GELU()",  # exact erf form, as Keras
    "silu": "nn.SiLU()", "swish": "nn.SiLU()", "mish": "nn.Mish()", "sigmoid": "nn.Sigmoid()",
    "hard_sigmoid": "nn.Hardsigmoid()", "hard_silu": "nn.Hardswish()", "tanh": "nn.Tanh()",
    "softplus": "nn.Softplus()", "softsign": "nn.Softsign()", "exponential": "Exp()",
    "softmax": "nn.Softmax(dim=1)", "log_softmax": "nn.LogSoftmax(dim=1)",
    "linear": "nn.Identity()",
}


@dataclass
class TorchLayer:
    """The module expression (one line or a named nn.Sequential) and its weight-loading lines."""

    attr: str
    parts: list[tuple[str, str, str]] = field(default_factory=list)  # (name, module, comment)
    load: list[str] = field(default_factory=list)

    def path(self, part: str) -> str:
        return f"model.{self.attr}" + (f".{part}" if len(self.parts) > 1 else "")


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a Keras layer name (Keras allows '.' and '-', PyTorch does not)."""
    base = re.sub(r"\W", "_", name)
    if not base.isidentifier() or base[0].isdigit():
        base = "layer_" + base
    attr, n = base, 1
    while attr in taken:
        attr, n = f"{base}_{n}", n + 1
    taken.add(attr)
    return attr


def _torch_pads(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """F.pad's order: the last axis first, each as (before, after)."""
    return tuple(v for before, after in reversed(pads) for v in (before, after))


def _tup(values: tuple[int, ...] | list[int]) -> str:
    return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"


def _same_pads(layer: Layer, kernel: tuple[int, ...], strides: tuple[int, ...],
               dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    nd = len(kernel)
    if getattr(layer, "padding", "valid") != "same":
        return ((0, 0),) * nd
    return resolve_padding("same", spatial_shape=layer.input_shape[:nd], kernel_shape=kernel,
                           stride=strides, dilation=dilation)


def uneven_same_average(layer: Layer) -> bool:
    """Average pooling whose "same" padding is larger after than before on some axis: where
    Keras's backends disagree (torch repeats the edge; TensorFlow and JAX, like Svertka, average
    the values inside only)."""
    if not layer.type.startswith("AveragePooling"):
        return False
    k, s = layer.pool_size, layer.strides  # type: ignore[attr-defined]
    return any(a != b for a, b in _same_pads(layer, k, s, (1,) * len(k)))


def _activation(out: TorchLayer, activation: str) -> None:
    if activation != "linear":
        out.parts.append(("act", ACTIVATION_MODULES[activation], f"activation={activation!r}"))


def torch_layer(layer: Layer, attr: str) -> TorchLayer:
    """The PyTorch module for ``layer`` (built, with its input shape known)."""
    kind, shape = layer.type, layer.input_shape
    out = TorchLayer(attr)
    if kind.startswith("Conv"):
        _conv(layer, out)
    elif kind.startswith(("MaxPooling", "AveragePooling")):
        _pool(layer, out)
    elif kind.startswith("Global"):
        mode = "max" if "Max" in kind else "avg"
        keepdims = layer.keepdims  # type: ignore[attr-defined]
        out.parts.append(("pool", f"GlobalPool({mode!r}, keepdims={keepdims})", ""))
    elif kind.startswith("ZeroPadding"):
        nd = layer.nd  # type: ignore[attr-defined]
        pads = _torch_pads(layer.pads)  # type: ignore[attr-defined]
        out.parts.append(("pad", f"nn.ConstantPad{nd}d({_tup(pads)}, 0.0)",
                          "F.pad order: last axis first"))
    elif kind == "Dense":
        _dense(layer, out)
    elif kind == "Flatten":
        out.parts.append(("flatten", "FlattenChannelsLast()" if len(shape) > 1 else
                          "nn.Flatten()", "Keras flattens (H, W, C): channels vary fastest"
                          if len(shape) > 1 else ""))
    elif kind == "BatchNormalization":
        _batch_norm(layer, out)
    elif kind == "Dropout":
        out.parts.append(("dropout", f"nn.Dropout(p={layer.rate!r})",  # type: ignore[attr-defined]
                          "identity in eval mode, as Keras's inference"))
    elif kind == "Activation":
        out.parts.append(("act", ACTIVATION_MODULES[layer.activation], ""))  # type: ignore
    elif kind == "Softmax":
        out.parts.append(("act", "nn.Softmax(dim=1)", "over the channels"))
    elif kind == "LeakyReLU":
        slope = layer.negative_slope  # type: ignore[attr-defined]
        out.parts.append(("act", f"nn.LeakyReLU({slope!r})", ""))
    elif kind == "ReLU":
        m, s, t = (layer.max_value, layer.negative_slope,  # type: ignore[attr-defined]
                   layer.threshold)  # type: ignore[attr-defined]
        module = ("nn.ReLU()" if m is None and not s and not t else
                  f"KerasReLU(max_value={m!r}, negative_slope={s!r}, threshold={t!r})")
        out.parts.append(("act", module, ""))
    else:  # pragma: no cover - every layer class is handled above
        raise NotImplementedError(kind)
    return out


def _conv(layer: Layer, out: TorchLayer) -> None:
    nd, name = layer.nd, layer.name  # type: ignore[attr-defined]
    k, s, d = layer.kernel_size, layer.strides, layer.dilation  # type: ignore[attr-defined]
    groups, use_bias = layer.groups, layer.use_bias  # type: ignore[attr-defined]
    cin, filters = layer.input_shape[-1], layer.filters  # type: ignore[attr-defined]
    pads = _same_pads(layer, k, s, d)
    symmetric = all(a == b for a, b in pads)
    if not symmetric:
        out.parts.append(("pad", f"nn.ConstantPad{nd}d({_tup(_torch_pads(pads))}, 0.0)",
                          "Keras 'same': the odd pixel after; F.pad order, last axis first"))
    padding = _tup([a for a, _ in pads]) if symmetric else "0"
    out.parts.append(("conv", f"nn.Conv{nd}d({cin}, {filters}, kernel_size={_tup(k)}, "
                      f"stride={_tup(s)}, padding={padding}, dilation={_tup(d)}, "
                      f"groups={groups}, bias={use_bias})",
                      "Keras padding 'same'" if layer.padding == "same"  # type: ignore
                      else ""))
    _activation(out, layer.activation)  # type: ignore[attr-defined]
    order = ", ".join(map(str, (nd + 1, nd, *range(nd))))
    layout = ", ".join(("kh", "kw") if nd == 2 else ("kd", "kh", "kw")[3 - nd:])
    conv = out.path("conv")
    out.load.append(f"# Keras kernel ({layout}, C_in, F) -> PyTorch ({'F, C_in, ' + layout})")
    out.load.append(f"{conv}.weight.copy_(keras_weight({name!r}, 'kernel')"
                    f".permute({order}))")
    if use_bias:
        out.load.append(f"{conv}.bias.copy_(keras_weight({name!r}, 'bias'))")


def _pool(layer: Layer, out: TorchLayer) -> None:
    nd = layer.nd  # type: ignore[attr-defined]
    k, s = layer.pool_size, layer.strides  # type: ignore[attr-defined]
    pads = _same_pads(layer, k, s, (1,) * nd)
    mode = "max" if layer.type.startswith("Max") else "avg"
    padded = any(a or b for a, b in pads)
    tp = _tup(_torch_pads(pads))
    if mode == "max":
        if padded:
            out.parts.append(("pad", f"nn.ConstantPad{nd}d({tp}, float('-inf'))",
                              "Keras 'same': padding never wins a maximum"))
        out.parts.append(("pool", f"nn.MaxPool{nd}d(kernel_size={_tup(k)}, stride={_tup(s)})",
                          ""))
    elif padded:
        out.parts.append(("pool", f"SameAvgPool({_tup(k)}, {_tup(s)}, {tp})",
                          "Keras 'same': the mean of the values inside, padding not counted"))
    else:
        out.parts.append(("pool", f"nn.AvgPool{nd}d(kernel_size={_tup(k)}, stride={_tup(s)})",
                          ""))


def _dense(layer: Layer, out: TorchLayer) -> None:
    name, shape = layer.name, layer.input_shape
    units, use_bias = layer.units, layer.use_bias  # type: ignore[attr-defined]
    cin = shape[-1]
    if len(shape) == 1:
        out.parts.append(("linear", f"nn.Linear({cin}, {units}, bias={use_bias})", ""))
        _activation(out, layer.activation)  # type: ignore[attr-defined]
        weight = f"{out.path('linear')}.weight"
        out.load.append("# Keras kernel (in, units) -> PyTorch (units, in)")
        out.load.append(f"{weight}.copy_(keras_weight({name!r}, 'kernel').T)")
        bias = f"{out.path('linear')}.bias"
    else:
        nd = len(shape) - 1
        out.parts.append(("linear", f"nn.Conv{nd}d({cin}, {units}, kernel_size=1, "
                          f"bias={use_bias})", "Keras's Dense on a map acts on the channels at "
                          "every position: a 1x1 convolution"))
        _activation(out, layer.activation)  # type: ignore[attr-defined]
        weight = f"{out.path('linear')}.weight"
        out.load.append(f"{weight}.copy_(keras_weight({name!r}, 'kernel').T"
                        f".reshape({units}, {cin}{', 1' * nd}))")
        bias = f"{out.path('linear')}.bias"
    if use_bias:
        out.load.append(f"{bias}.copy_(keras_weight({name!r}, 'bias'))")


def _batch_norm(layer: Layer, out: TorchLayer) -> None:
    name, shape = layer.name, layer.input_shape
    nd = max(len(shape) - 1, 1)
    eps = layer.epsilon  # type: ignore[attr-defined]
    out.parts.append(("bn", f"nn.BatchNorm{nd}d({shape[-1]}, eps={eps!r})",
                      "Keras's epsilon (PyTorch's default is 1e-5)"))
    bn = out.path("bn")
    names = layer.weight_names
    out.load.append("# inference: the moving statistics; a gamma or beta Keras leaves out is 1 "
                    "or 0")
    if "gamma" in names:
        out.load.append(f"{bn}.weight.copy_(keras_weight({name!r}, 'gamma'))")
    if "beta" in names:
        out.load.append(f"{bn}.bias.copy_(keras_weight({name!r}, 'beta'))")
    out.load.append(f"{bn}.running_mean.copy_(keras_weight({name!r}, 'moving_mean'))")
    out.load.append(f"{bn}.running_var.copy_(keras_weight({name!r}, 'moving_variance'))")
