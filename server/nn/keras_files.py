"""Keras model files read as data: Keras 3 ``.keras`` zips and Keras 2 / tf.keras ``.h5`` files.

Nothing in a file is executed or unpickled: the config is JSON read with `json`, the weights are
HDF5 datasets read with `h5py`, and Keras itself is never imported. The reading goes from cheap to
expensive so that a hostile file is refused before it costs anything: the upload's size, the
container (zip directory or HDF5 signature), the config, the layers and the shapes they imply,
the parameter count, and only then the weights, each dataset's declared shape compared with the
one the config implies before its values are read. Everything that opens HDF5 data (the weights
of a ``.keras`` file, the whole of an ``.h5`` one) runs in a limited child process
(`_h5_sandbox`), so a file that crashes libhdf5, or makes it allocate or loop without end, costs
that process and not the server. The result is a chain of layers in Keras's vocabulary (the
body of ``POST /api/network``) and each layer's weights in Keras's own layouts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

import numpy as np

from . import _keras_h5 as h5
from ._h5_sandbox import ReaderUnavailableError, Sandbox
from ._keras_errors import ModelFileError, damaged, layer_error, not_a_model, too_large
from ._keras_graph import Chain, read_chain
from ._keras_layers import SUPPORTED, Shape, Translated, translate
from ._keras_zip import open_zip, read_members

__all__ = ["SUPPORTED", "ModelFile", "ModelFileError", "ReaderUnavailableError", "Sandbox",
           "read_model"]

_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_DEFAULT_SANDBOX = Sandbox()


@dataclass(frozen=True, eq=False)
class ModelFile:
    """A model read from a file: its input shape, its layers and their weights.

    ``input_shape`` is in Keras's order without the batch axis (``(28, 28, 1)``); ``layers`` are
    ``{"type", "name", <Keras 3 arguments>}`` in order; ``weights`` maps a layer's name to its
    arrays in Keras's order and layouts (a Conv2D kernel ``(kh, kw, C_in, filters)``, then its
    bias), as float32. Layers without weights have no entry.
    """

    format: Literal["keras", "h5"]
    keras_version: str | None
    input_shape: Shape
    layers: list[dict[str, Any]]
    weights: dict[str, list[np.ndarray]]

    @property
    def total_params(self) -> int:
        """Every weight counted, trainable or not, as ``model.summary()`` totals them."""
        return sum(int(a.size) for arrays in self.weights.values() for a in arrays)


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise damaged(f"{what} is not valid JSON ({type(err).__name__}: "
                      f"{str(err)[:200]})") from err


def _layers(chain: Chain, max_params: int) -> list[Translated]:
    """Every layer translated and shaped, and the parameter count checked, before any weight."""
    shape = chain.input_shape
    out = []
    for i, (name, entry) in enumerate(chain.layers):
        translated = translate(i, name, entry, shape)
        out.append(translated)
        shape = translated.output_shape
    params = sum(math.prod(s) for t in out for _, s in t.weights)
    if params > max_params:
        raise ModelFileError(f"the model has {params:,} parameters, more than the "
                             f"{max_params:,} Svertka accepts", status=413, code="too_large",
                             accepted=f"a model of at most {max_params:,} parameters")
    return out


def _owner(index: int, t: Translated, k: int) -> str:
    label = t.weights[k][0]
    return (f"layer {t.layer['name']!r} ({t.layer['type']}, `layers[{index}]`): weight {k} "
            f"({label})")


def _count(index: int, t: Translated, found: int, where: str) -> None:
    expected = len(t.weights)
    if found != expected:
        labels = ", ".join(n for n, _ in t.weights) or "none"
        raise layer_error(index, t.layer["name"], t.layer["type"],
                          f"has {found} weight array(s) in {where} but its config implies "
                          f"{expected} ({labels})", accepted="the weights Keras saves for the "
                          "layer's config", code="model_file")


def _keras_weights(file: Any, chain: Chain, layers: list[Translated],
                   budget: int) -> dict[str, list[np.ndarray]]:
    weights: dict[str, list[np.ndarray]] = {}
    for i, t in enumerate(layers):
        name = t.layer["name"]
        path = f"{chain.weight_paths[name]}/vars"
        group = h5.child(file, path, _WEIGHTS)
        stored = h5.string_attr(group, "name", _WEIGHTS, max_chars=4096) if group else None
        if stored is not None and stored != name:
            raise layer_error(i, name, t.layer["type"], f"finds the weights of layer {stored!r} "
                              f"at {path} in {_WEIGHTS}", accepted="a file saved by Keras",
                              code="model_file")
        try:
            found = len(group) if group is not None else 0
        except h5.H5_ERRORS as err:
            raise damaged(f"{_WEIGHTS}: {path} cannot be read ({err})") from err
        _count(i, t, found, f"{_WEIGHTS} at {path}")
        arrays = []
        for k, (_, shape) in enumerate(t.weights):
            dataset = h5.child(file, f"{path}/{k}", _WEIGHTS)
            array = h5.read_array(dataset, shape, owner=_owner(i, t, k), param=f"layers[{i}]",
                                  budget=budget)
            budget -= array.nbytes
            arrays.append(array)
        if arrays:
            weights[name] = arrays
    return weights


def _keras_weights_in(data: bytes, chain: Chain, layers: list[Translated],
                      budget: int) -> dict[str, list[np.ndarray]]:
    """In the reader process: the weights in a .keras file's ``model.weights.h5``."""
    with h5.open_h5(data, f"{_WEIGHTS} in the .keras zip") as file:
        return _keras_weights(file, chain, layers, budget)


def _read_keras(data: bytes, *, max_members: int, max_expanded_bytes: int, max_params: int,
                sandbox: Sandbox) -> ModelFile:
    archive = open_zip(data, max_members=max_members, max_expanded_bytes=max_expanded_bytes)
    names = set(archive.namelist())
    if _CONFIG not in names:
        raise not_a_model(f"the zip holds no {_CONFIG}: it is not a Keras 3 .keras file")
    if _WEIGHTS not in names:
        other = sorted(n for n in names if n.startswith("model.weights"))
        raise damaged(f"the .keras zip holds no {_WEIGHTS}"
                      + (f" (it has {', '.join(other)}: sharded or .npz weights are not read; "
                         "save with the default weights format)" if other else ""))
    wanted = [_CONFIG, _WEIGHTS] + ([_METADATA] if _METADATA in names else [])
    members = read_members(archive, wanted, max_expanded_bytes=max_expanded_bytes)
    chain = read_chain(_json(members[_CONFIG], _CONFIG))
    layers = _layers(chain, max_params)
    version = None
    if _METADATA in members:
        metadata = _json(members[_METADATA], _METADATA)
        if isinstance(metadata, dict) and isinstance(metadata.get("keras_version"), str):
            version = metadata["keras_version"][:64]
    weights = sandbox.run(_keras_weights_in, members[_WEIGHTS], chain, layers,
                          max_expanded_bytes, what=f"{_WEIGHTS} in the .keras zip")
    return ModelFile("keras", version, chain.input_shape, [t.layer for t in layers], weights)


def _h5_weights(root: Any, layers: list[Translated], budget: int) -> dict[str, list[np.ndarray]]:
    weights: dict[str, list[np.ndarray]] = {}
    for i, t in enumerate(layers):
        name = t.layer["name"]
        where = f"model_weights/{name}"
        group = h5.child(root, name, "the .h5 file")
        listed = h5.string_list_attr(group, "weight_names", where) if group is not None else None
        if t.weights and listed is None:
            raise layer_error(i, name, t.layer["type"], f"has no weights in the .h5 file (no "
                              f"{where} with `weight_names`)", accepted="a file saved by "
                              "model.save", code="model_file")
        listed = listed or []
        _count(i, t, len(listed), where)
        arrays = []
        for k, (label, shape) in enumerate(t.weights):
            stored = PurePath(listed[k]).name.split(":")[0]
            if stored in ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance") \
                    and stored != label:
                raise layer_error(i, name, t.layer["type"], f"lists {listed[k]!r} where its "
                                  f"weight {k} should be the {label}", accepted="a file saved "
                                  "by model.save", code="model_file")
            dataset = h5.child(group, listed[k], where)
            array = h5.read_array(dataset, shape, owner=_owner(i, t, k), param=f"layers[{i}]",
                                  budget=budget)
            budget -= array.nbytes
            arrays.append(array)
        if arrays:
            weights[name] = arrays
    return weights


def _h5_parts(data: bytes, max_expanded_bytes: int, max_params: int) -> dict[str, Any]:
    """In the reader process: everything in an .h5 file, as `ModelFile`'s fields but its format."""
    with h5.open_h5(data, "the .h5 file") as file:
        # attributes are stored uncompressed: the config cannot outgrow the file itself
        text = h5.string_attr(file, "model_config", "the .h5 file", max_chars=len(data))
        if text is None:
            only_weights = h5.string_list_attr(file, "layer_names", "the .h5 file") is not None
            raise damaged("the .h5 file has no `model_config`: "
                          + ("it holds weights only (model.save_weights); save the whole model "
                             "with model.save" if only_weights else "it is not a Keras model"))
        version = h5.string_attr(file, "keras_version", "the .h5 file", max_chars=64)
        layers_chain = read_chain(_json(text.encode("utf-8"), "the .h5 file's model_config"))
        layers = _layers(layers_chain, max_params)
        root = h5.child(file, "model_weights", "the .h5 file")
        if root is None:
            raise damaged("the .h5 file has a model config but no `model_weights` group (saved "
                          "with include_optimizer only?); save it again with model.save")
        weights = _h5_weights(root, layers, max_expanded_bytes)
    return {"keras_version": version, "input_shape": layers_chain.input_shape,
            "layers": [t.layer for t in layers], "weights": weights}


def _read_h5(data: bytes, *, max_expanded_bytes: int, max_params: int,
             sandbox: Sandbox) -> ModelFile:
    parts = sandbox.run(_h5_parts, data, max_expanded_bytes, max_params, what="the .h5 file")
    return ModelFile("h5", parts["keras_version"], parts["input_shape"], parts["layers"],
                     parts["weights"])


def _suffix(filename: str | None) -> str:
    return PurePath(filename).suffix.lower() if filename else ""


def read_model(data: bytes, filename: str | None = None, *, max_bytes: int, max_members: int,
               max_expanded_bytes: int, max_params: int,
               sandbox: Sandbox | None = None) -> ModelFile:
    """Read a Keras 3 ``.keras`` or Keras 2 ``.h5`` model file without running anything in it.

    Parameters
    ----------
    data : bytes
        The whole file.
    filename : str, optional
        The name it was uploaded under; its extension must agree with the contents.
    max_bytes : int
        Largest file accepted (413 beyond).
    max_members : int
        Most members a ``.keras`` zip may hold.
    max_expanded_bytes : int
        Most bytes the zip's members may expand to, and the weights may take once read.
    max_params : int
        Most parameters (weights) the model's config may imply.
    sandbox : Sandbox, optional
        Where the HDF5 data is read: its child processes' memory and time limits (default: a
        shared one with 1 GiB and 30 s).

    Returns
    -------
    ModelFile

    Raises
    ------
    ModelFileError
        With ``status`` 413 (too large), 415 (not a model file, damaged) or 422 (a layer or
        argument Svertka cannot compute, weights that contradict the config, NaN weights, HDF5
        data that crashed its reader or passed its limits); ``param`` is ``"file"`` or the
        layer's row, ``"layers[3]"``.
    ReaderUnavailableError
        When no reader process is free within the sandbox's deadline, or none can start (503).

    Notes
    -----
    Memory: the file, the members it expands to (at most ``max_expanded_bytes``) and the weights
    as float32, here and in the reader process. Time: linear in those bytes, plus a fork of the
    reader process (a few milliseconds) for a file that gets as far as its HDF5 data.

    Examples
    --------
    >>> try:
    ...     read_model(b"hello", "model.keras", max_bytes=1000, max_members=8,
    ...                max_expanded_bytes=10_000, max_params=1000)
    ... except ModelFileError as err:
    ...     print(err.status, err.code, err.param)
    415 unsupported_media file
    """
    label = PurePath(filename).name if filename else "the file"
    if len(data) > max_bytes:
        raise too_large(f"{label} has {len(data):,} bytes, more than the {max_bytes:,} allowed")
    suffix = _suffix(filename)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        if suffix in (".h5", ".hdf5"):
            raise not_a_model(f"{label} is named {suffix} but is a zip archive, as Keras 3 "
                              "writes .keras files; rename it to .keras")
        return _read_keras(data, max_members=max_members, max_expanded_bytes=max_expanded_bytes,
                           max_params=max_params, sandbox=sandbox or _DEFAULT_SANDBOX)
    if h5.is_hdf5(data[:1 << 16]):
        if suffix == ".keras":
            raise not_a_model(f"{label} is named .keras but is an HDF5 file, as model.save "
                              "writes .h5 files; rename it to .h5")
        return _read_h5(data, max_expanded_bytes=max_expanded_bytes, max_params=max_params,
                        sandbox=sandbox or _DEFAULT_SANDBOX)
    start = data[:8]
    raise not_a_model(f"{label} is neither a .keras zip nor an HDF5 file (it starts with "
                      f"{start!r}{', it is empty' if not data else ''})")
