"""From a saved model config to a chain of layers: Sequential, or functional without branches.

Both Keras generations are read: Keras 3 (``batch_shape``, inbound nodes as
``{"args": [keras tensors]}``) and Keras 2 / tf.keras (``batch_input_shape``, inbound nodes as
``[[name, node, tensor, kwargs]]``, a Sequential saved as a bare list of layers). A functional
graph is followed from its input through each layer's consumers; a layer feeding two others, one
merging two, a layer called twice, or several inputs or outputs end the reading with a message
that names the layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._keras_errors import ModelFileError, damaged, layer_error
from ._keras_layers import ACCEPTED_LAYERS, Shape

_ACCEPTED_GRAPH = ("a Sequential model, or a functional model whose layers form one chain from "
                   "its single input to its single output")
_MAX_AXIS = 1 << 20


@dataclass(frozen=True)
class Chain:
    """The model's input shape, its layers in order (name, saved entry), and where the Keras 3
    weights file keeps each layer's variables (``layers/conv2d_1``), keyed by layer name."""

    input_shape: Shape
    layers: list[tuple[str, dict[str, Any]]]
    weight_paths: dict[str, str]


def snake_case(class_name: str) -> str:
    """Keras's ``naming.to_snake_case``, which names the weight groups of a ``.keras`` file.

    >>> snake_case("Conv2D"), snake_case("BatchNormalization"), snake_case("ReLU")
    ('conv2d', 'batch_normalization', 're_lu')
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _paths(entries: list[dict[str, Any]]) -> dict[str, str]:
    """Keras numbers the groups per class in ``model.layers`` order: conv2d, conv2d_1, ..."""
    used: dict[str, int] = {}
    paths = {}
    for entry in entries:
        base = snake_case(str(entry.get("class_name")))
        if base in used:
            used[base] += 1
            base = f"{base}_{used[base]}"
        else:
            used[base] = 0
        paths[_name(entry)] = f"layers/{base}"
    return paths


def _name(entry: dict[str, Any]) -> str:
    config = entry.get("config")
    name = entry.get("name") or (config.get("name") if isinstance(config, dict) else None)
    if not isinstance(name, str) or not name:
        raise damaged(f"a layer of class {entry.get('class_name')!r} has no name in the config")
    return name


def _entries(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise damaged("the model config has no list of layers")
    return value


def _batch_shape(entry: dict[str, Any]) -> list[Any] | None:
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    for key in ("batch_shape", "batch_input_shape"):
        if isinstance(config.get(key), list):
            return list(config[key])
    build = entry.get("build_config")
    if isinstance(build, dict) and isinstance(build.get("input_shape"), list):
        return list(build["input_shape"])
    return None


def _input_shape(batch_shape: list[Any] | None) -> Shape:
    if batch_shape is None:
        raise damaged("the model config does not say what input shape the model takes (no "
                      "InputLayer and no batch_input_shape); save it after building it with "
                      "keras.Input(shape=...)")
    shape = batch_shape[1:]
    if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n
                            <= _MAX_AXIS for n in shape):
        raise ModelFileError(
            f"the model's input shape is {shape!r}: Svertka needs every axis fixed (no None) "
            f"and between 1 and {_MAX_AXIS}, because it resizes a photo to that shape",
            code="unsupported_model", accepted="a model built on keras.Input(shape=(H, W, C)) "
            "with numbers for every axis")
    return tuple(int(n) for n in shape)


def _sequential(config: Any) -> Chain:
    entries = _entries(config.get("layers") if isinstance(config, dict) else config)
    if not entries:
        raise damaged("the Sequential model has no layers")
    batch = None
    if entries[0].get("class_name") == "InputLayer":
        batch = _batch_shape(entries[0])
        entries = entries[1:]
    for i, entry in enumerate(entries):
        if entry.get("class_name") == "InputLayer":
            raise layer_error(i, _name(entry), "InputLayer", "appears inside the model, not at "
                              "its start", accepted=_ACCEPTED_GRAPH, code="unsupported_model")
    if batch is None and entries:
        batch = _batch_shape(entries[0])
    if batch is None and isinstance(config, dict) and isinstance(config.get("build_input_shape"),
                                                                  list):
        batch = list(config["build_input_shape"])
    layers = [(_name(e), e) for e in entries]
    return Chain(_input_shape(batch), layers, _paths(entries))


def _sources(value: Any) -> Iterator[str]:
    """Names of the layers whose tensors appear anywhere in one inbound node."""
    if isinstance(value, dict):
        history = value.get("config", {}).get("keras_history") if value.get(
            "class_name") == "__keras_tensor__" and isinstance(value.get("config"), dict) else None
        if isinstance(history, list) and history and isinstance(history[0], str):
            yield history[0]
            return
        for item in value.values():
            yield from _sources(item)
    elif isinstance(value, list):
        if (len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int)
                and isinstance(value[2], int)):
            yield value[0]  # Keras 2: [layer name, node index, tensor index, kwargs]
            return
        for item in value:
            yield from _sources(item)


def _ends(value: Any, what: str) -> list[str]:
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = [value]  # Keras 3 writes one input as a flat [name, node, tensor]
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list) or not all(isinstance(v, list) and v and isinstance(v[0], str)
                                              for v in value):
        raise damaged(f"the functional model's config lists no {what}")
    return [v[0] for v in value]


def _functional(config: Any) -> Chain:
    if not isinstance(config, dict):
        raise damaged("the functional model's config is not an object")
    entries = _entries(config.get("layers"))
    by_name = {_name(e): e for e in entries}
    if len(by_name) != len(entries):
        raise damaged("two layers of the model share a name")
    inputs = _ends(config.get("input_layers"), "inputs")
    outputs = _ends(config.get("output_layers"), "outputs")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(f"the model has {len(inputs)} input(s) and {len(outputs)} "
                             "output(s); Svertka runs models with one of each",
                             code="unsupported_model", accepted=_ACCEPTED_GRAPH)
    consumers: dict[str, list[str]] = {name: [] for name in by_name}
    calls: dict[str, int] = {}
    for name, entry in by_name.items():
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise damaged(f"layer {name!r} has inbound nodes that are not a list")
        calls[name] = len(nodes)
        for source in (s for node in nodes for s in _sources(node)):
            if source not in consumers:
                raise damaged(f"layer {name!r} takes its input from {source!r}, which is not "
                              "in the model")
            consumers[source].append(name)
    first = by_name.get(inputs[0])
    if first is None or first.get("class_name") != "InputLayer":
        raise damaged(f"the model's input {inputs[0]!r} is not an InputLayer of the model")
    chain: list[str] = []
    current = inputs[0]
    # walking from the input, the first branch met is reported before the merge that closes it
    while consumers[current]:
        targets = list(dict.fromkeys(consumers[current]))  # one layer called twice is not a fork
        if len(targets) > 1:
            raise _graph_error(current, by_name[current],
                               f"feeds {len(targets)} layers ({', '.join(targets)}): the graph "
                               "branches here", index=len(chain) - 1)
        current = targets[0]
        if calls[current] > 1:
            raise _graph_error(current, by_name[current],
                               f"is called {calls[current]} times (a shared layer)",
                               index=len(chain))
        if current in chain:
            raise damaged(f"layer {current!r} is reached twice: the graph has a cycle")
        nodes = by_name[current].get("inbound_nodes") or []
        sources = [s for node in nodes for s in _sources(node)]
        if len(sources) > 1:
            raise _graph_error(current, by_name[current],
                               f"merges {len(sources)} tensors ({', '.join(sources)}): the graph "
                               "joins branches here", index=len(chain))
        chain.append(current)
    unused = [n for n in by_name if n != inputs[0] and n not in chain]
    if current != outputs[0] or unused:
        raise ModelFileError(f"the model's output {outputs[0]!r} is not the end of one chain "
                             f"from its input (layers off the chain: {unused or 'none'})",
                             code="unsupported_model", accepted=_ACCEPTED_GRAPH)
    return Chain(_input_shape(_batch_shape(first)), [(n, by_name[n]) for n in chain],
                 _paths(entries))


def _graph_error(name: str, entry: dict[str, Any], message: str, *,
                 index: int) -> ModelFileError:
    kind = str(entry.get("class_name"))
    if index < 0:  # the input layer itself: no row of the stack to point at
        return ModelFileError(f"layer {name!r} ({kind}) {message}", code="unsupported_model",
                              accepted=_ACCEPTED_GRAPH)
    return layer_error(index, name, kind, message, accepted=_ACCEPTED_GRAPH,
                       code="unsupported_model")


def read_chain(model: Any) -> Chain:
    """The chain of a model config ``{"class_name": "Sequential" | "Functional", "config"}``."""
    if not isinstance(model, dict):
        raise damaged("the model config is not a JSON object")
    kind = model.get("class_name")
    module = model.get("module")
    if module is not None and not str(module).startswith("keras"):
        raise ModelFileError(f"the model is a custom class {kind!r} from module {module!r}: its "
                             "code is not in the file and would not be run",
                             code="unsupported_model", accepted=_ACCEPTED_GRAPH)
    if kind == "Sequential":
        return _sequential(model.get("config"))
    if kind in ("Functional", "Model"):
        return _functional(model.get("config"))
    raise ModelFileError(f"the model's class is {kind!r}; Svertka reads Sequential and "
                         f"functional models made of {ACCEPTED_LAYERS}",
                         code="unsupported_model", accepted=_ACCEPTED_GRAPH)
