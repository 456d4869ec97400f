"""A stack and its weights as files that reproduce Svertka's numbers elsewhere.

`export_zip` writes a runnable script (Keras 3, or PyTorch), the weights as ``weights.npz`` in
Keras's layouts (keys ``<layer name>/<weight name>``: ``conv2d/kernel``, ``conv2d/bias``, ...),
and, when an input is given, ``input.npy`` (Keras's order) and ``svertka_outputs.npz`` (every
layer's output as Svertka computed it, keyed by layer name as ``/api/network/run?format=npz``).
Each script builds the stack, loads the weights, runs the input, prints the last layer's output
and, beside Svertka's outputs, the largest difference per layer; ``python script.py out.npz``
also saves its own outputs. One template per framework, filled from the built model.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from ..core.errors import ParameterError
from . import _keras_args as args
from ._export_torch import identifier, torch_layer, uneven_same_average
from .layers import Layer
from .model import Sequential

__all__ = ["FRAMEWORKS", "export_zip", "keras_script", "pytorch_script", "weights_npz"]

Framework = Literal["keras", "pytorch"]
FRAMEWORKS: tuple[Framework, ...] = ("keras", "pytorch")
SCRIPT_NAMES = {"keras": "model_keras.py", "pytorch": "model_pytorch.py"}

_TAIL = '''
names = {names}
np.set_printoptions(precision=6, suppress=True, threshold=200)
final = outputs[names[-1]]
print(f"{{names[-1]}}: output shape {{final.shape}} (Keras's order)")
print(final)
reference = HERE / "svertka_outputs.npz"
if reference.exists():  # what Svertka computed for the same input
    svertka = np.load(reference)
    for name in names:
        scale = max(float(np.abs(svertka[name]).max()), 1e-12)
        error = float(np.abs(outputs[name] - svertka[name]).max()) / scale
        print(f"{{name}}: largest difference from Svertka {{error:.1e}} of its largest value")
if len(sys.argv) > 1:
    np.savez(sys.argv[1], **outputs)
    print(f"every layer's output saved to {{sys.argv[1]}}")
'''

_INPUT = '''
# the input in Keras's order: {shape}
{source}
'''
_INPUT_FILE = 'x = np.load(HERE / "input.npy").astype(np.float32)'
_INPUT_RANDOM = ("# (no input was exported: uniform noise in [0, 1), the same in every script)\n"
                 "x = np.random.default_rng(0).random({shape}, dtype=np.float32)")

_KERAS = '''"""{title}: the stack in Keras 3, with the weights Svertka used.

Run it beside weights.npz with Keras 3 and any backend (torch, tensorflow or jax):
    pip install keras numpy torch
    KERAS_BACKEND=torch python {script} [outputs.npz]
"""

import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers

HERE = Path(__file__).resolve().parent

model = keras.Sequential([
    keras.Input(shape={input_shape}),
{layers}
])

# weights in Keras's own layouts, e.g. a Conv2D kernel (kh, kw, C_in, filters), then its bias
weights = np.load(HERE / "weights.npz")
WEIGHT_NAMES = {weight_names}
for layer in model.layers:
    if layer.name in WEIGHT_NAMES:
        layer.set_weights([weights[f"{{layer.name}}/{{w}}"] for w in WEIGHT_NAMES[layer.name]])
{input}
# every layer's output (predict runs Dropout and BatchNormalization in inference mode)
probe = keras.Model(model.inputs, [layer.output for layer in model.layers])
result = probe.predict(x[None], verbose=0)
result = result if isinstance(result, (list, tuple)) else [result]
outputs = {{layer.name: np.asarray(out)[0] for layer, out in zip(model.layers, result)}}
'''

_TORCH = '''"""{title}: the stack in PyTorch, with the weights Svertka used.

Run it beside weights.npz:
    pip install torch numpy
    python {script} [outputs.npz]

PyTorch computes channels first, (N, C, H, W), Keras channels last, (N, H, W, C): the input is
moved at the start and every output moved back, so the numbers printed are in Keras's order.
"""

import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
{functional}from torch import nn

HERE = Path(__file__).resolve().parent
{helpers}

model = nn.Sequential(OrderedDict([
{layers}
]))

weights = np.load(HERE / "weights.npz")


def keras_weight(layer, name):
    """One weight as Keras stores it (channels last), as a float32 tensor."""
    return torch.from_numpy(weights[f"{{layer}}/{{name}}"].astype(np.float32))


with torch.no_grad():
{load}
model.eval()  # Dropout off, BatchNorm on its moving statistics: Keras's inference
{input}
h = torch.from_numpy(x)[None]
h = h.movedim(-1, 1) if h.dim() > 2 else h  # (1, H, W, C) -> (1, C, H, W)
outputs = {{}}
with torch.no_grad():
    for name, module in zip({names}, model):
        h = module(h)
        outputs[name] = (h.movedim(1, -1) if h.dim() > 2 else h)[0].numpy()  # Keras's order
'''

# helper modules of the PyTorch script, each written only when the stack uses it
_TORCH_HELPERS = {
    "Exp(": '''

class Exp(nn.Module):
    """keras.activations.exponential."""

    def forward(self, x):
        return torch.exp(x)
''',
    "KerasReLU(": '''

class KerasReLU(nn.Module):
    """keras.layers.ReLU: x above threshold (capped at max_value), else a slope below it."""

    def __init__(self, max_value, negative_slope, threshold):
        super().__init__()
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x):
        t = self.threshold
        out = torch.where(x > t, x, torch.zeros_like(x)) if t else torch.clamp(x, min=0)
        if self.max_value is not None:
            out = torch.clamp(out, max=self.max_value)
        if self.negative_slope:
            out = out - self.negative_slope * torch.clamp(t - x, min=0)
        return out
''',
    "GlobalPool(": '''

class GlobalPool(nn.Module):
    """keras.layers.Global{Max,Average}PoolingND: one number per channel."""

    def __init__(self, mode, keepdims):
        super().__init__()
        self.mode, self.keepdims = mode, keepdims

    def forward(self, x):
        dims = tuple(range(2, x.dim()))
        if self.mode == "max":
            return x.amax(dim=dims, keepdim=self.keepdims)
        return x.mean(dim=dims, keepdim=self.keepdims)
''',
    "FlattenChannelsLast(": '''

class FlattenChannelsLast(nn.Module):
    """keras.layers.Flatten: Keras flattens (H, W, C), so the channels go last first."""

    def forward(self, x):
        return x.movedim(1, -1).flatten(1)
''',
    "SameAvgPool(": '''

class SameAvgPool(nn.Module):
    """Keras's average pooling with padding "same": the mean of the values inside the input
    only (the padding, possibly one more after than before, is not counted)."""

    def __init__(self, kernel_size, stride, pads):
        super().__init__()
        self.kernel_size, self.stride, self.pads = kernel_size, stride, pads

    def forward(self, x):
        pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[x.dim() - 3]
        total = pool(F.pad(x, self.pads), self.kernel_size, self.stride)
        inside = pool(F.pad(torch.ones_like(x[:, :1]), self.pads), self.kernel_size, self.stride)
        return total / inside
''',
}


def _python(value: Any) -> str:
    """Python source for an argument value: lists become tuples (Keras's own spelling)."""
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_python(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _keras_args(layer: Layer) -> dict[str, Any]:
    """The layer's arguments as given, without those equal to Keras's defaults."""
    defaults = args.LAYER_ARGS[layer.type]
    # Keras 3's pooling layers have no default pool_size, whatever the docs of Keras 2 said
    required = (*args.REQUIRED.get(layer.type, ()), "pool_size")
    given = {k: v for k, v in layer.args.items()
             if k in required or v != defaults.get(k, object())}
    if layer.type.startswith("ZeroPadding"):
        pads = layer.pads  # type: ignore[attr-defined]
        given = {"padding": list(pads[0]) if len(pads) == 1 else [list(p) for p in pads]}
    return given


def _weight_names(layer: Layer) -> list[str]:
    """The names of the weights the layer has (a Conv without bias: only the kernel)."""
    return list(layer.weight_names[:len(layer.weight_shapes)])


def _check(model: Sequential) -> None:
    if not model.layers:
        raise ParameterError("`layers` is empty: there is nothing to export", param="layers",
                             accepted="at least one layer")


def _input_lines(model: Sequential, has_input: bool) -> str:
    shape = tuple(model.input_shape)
    source = _INPUT_FILE if has_input else _INPUT_RANDOM.format(shape=shape)
    return _INPUT.format(shape=shape, source=source)


def keras_script(model: Sequential, *, has_input: bool = True,
                 title: str = "Svertka export") -> str:
    """A Keras 3 script building ``model``, loading ``weights.npz`` and running the input."""
    _check(model)
    rows = []
    for layer in model.layers:
        arguments = ", ".join(f"{k}={_python(v)}" for k, v in _keras_args(layer).items())
        if uneven_same_average(layer):
            rows.append("    # uneven 'same' padding: TensorFlow and JAX average the values inside "
                        "the input only (as Svertka);\n    # the torch backend of Keras 3 pads "
                        "by repeating the edge here, so its numbers differ")
        rows.append(f"    layers.{layer.type}({arguments + ', ' if arguments else ''}"
                    f"name={layer.name!r}),")
    weight_names = {layer.name: _weight_names(layer) for layer in model.layers
                    if layer.weight_shapes}
    body = _KERAS.format(title=title, script=SCRIPT_NAMES["keras"],
                         input_shape=_python(list(model.input_shape)), layers="\n".join(rows),
                         weight_names=repr(weight_names), input=_input_lines(model, has_input))
    return body + _TAIL.format(names=repr([layer.name for layer in model.layers]))


def pytorch_script(model: Sequential, *, has_input: bool = True,
                   title: str = "Svertka export") -> str:
    """A PyTorch script: ``torch.nn.Sequential`` with Keras's layouts converted in the open."""
    _check(model)
    taken: set[str] = set()
    rows, load = [], []
    for layer in model.layers:
        tl = torch_layer(layer, identifier(layer.name, taken))
        comment = f"    # Keras {layer.type} {layer.name!r}"
        if len(tl.parts) == 1:
            _, module, note = tl.parts[0]
            rows += [comment + (f": {note}" if note else ""), f"    ({tl.attr!r}, {module}),"]
        else:
            rows += [comment, f"    ({tl.attr!r}, nn.Sequential(OrderedDict(["]
            rows += [f"        ({part!r}, {module}),{'  # ' + note if note else ''}"
                     for part, module, note in tl.parts]
            rows.append("    ]))),")
        load.extend(tl.load)
    layers_text = "\n".join(rows)
    helpers = "".join(code for key, code in _TORCH_HELPERS.items() if key in layers_text)
    uses_f = "SameAvgPool(" in layers_text
    body = _TORCH.format(title=title, script=SCRIPT_NAMES["pytorch"],
                         functional="import torch.nn.functional as F\n" if uses_f else "",
                         helpers=helpers, layers=layers_text,
                         load="\n".join("    " + line for line in load) or "    pass",
                         input=_input_lines(model, has_input),
                         names=repr([layer.name for layer in model.layers]))
    return body + _TAIL.format(names=repr([layer.name for layer in model.layers]))


def weights_npz(model: Sequential) -> bytes:
    """Every weight in Keras's layout, keyed ``<layer name>/<weight name>``."""
    arrays = {f"{layer.name}/{name}": weight for layer in model.layers
              for name, weight in zip(_weight_names(layer), layer.weights, strict=True)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float32))
    return buffer.getvalue()


def export_zip(model: Sequential, framework: Framework, *, x: np.ndarray | None = None,
               outputs: Mapping[str, np.ndarray] | None = None,
               folder: str = "svertka_export") -> bytes:
    """A zip of the script, ``weights.npz`` and, with an input, ``input.npy`` and Svertka's
    outputs for it: everything the script needs, in one folder."""
    make = keras_script if framework == "keras" else pytorch_script
    script = make(model, has_input=x is not None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/{SCRIPT_NAMES[framework]}", script)
        archive.writestr(f"{folder}/weights.npz", weights_npz(model))
        if x is not None:
            archive.writestr(f"{folder}/input.npy", _npy(x))
        if outputs is not None:
            saved = io.BytesIO()
            np.savez(saved, **dict(outputs))  # type: ignore[arg-type]
            archive.writestr(f"{folder}/svertka_outputs.npz", saved.getvalue())
    return buffer.getvalue()
