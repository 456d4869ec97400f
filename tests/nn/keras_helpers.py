"""Helpers for the Keras-file tests: the committed fixtures, limits, and files taken apart and
put back together with one thing changed (a config key, a weight, a zip member)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from server.nn.keras_files import ModelFile, read_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "keras"
MODELS = ["convnet2d.keras", "conv1d.keras", "conv3d.keras", "chain.keras", "chain.h5",
          "legacy.h5"]
LIMITS = {"max_bytes": 4 << 20, "max_members": 16, "max_expanded_bytes": 8 << 20,
          "max_params": 1_000_000}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def expected(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.npz") as npz:
        return {key: npz[key] for key in npz.files}


def read(data: bytes, filename: str | None = "model.keras", **limits: Any) -> ModelFile:
    return read_model(data, filename, **{**LIMITS, **limits})


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(files: dict[str, bytes], *, deflate: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def edit_h5(data: bytes, change: Callable[[h5py.File], Any]) -> bytes:
    """The HDF5 bytes after ``change`` has edited the file in place."""
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as file:
        change(file)
    return buffer.getvalue()


def edit_keras(data: bytes, *, config: Callable[[dict[str, Any]], Any] | None = None,
               weights: Callable[[h5py.File], Any] | None = None) -> bytes:
    """A .keras file rebuilt with its config and/or weights edited."""
    files = members(data)
    if config is not None:
        parsed = json.loads(files["config.json"])
        config(parsed)
        files["config.json"] = json.dumps(parsed).encode()
    if weights is not None:
        files["model.weights.h5"] = edit_h5(files["model.weights.h5"], weights)
    return zip_bytes(files)


def replace(file: h5py.File, path: str, value: np.ndarray) -> None:
    """Put ``value`` at dataset ``path``, whatever its shape or type."""
    del file[path]
    file.create_dataset(path, data=value)


def layer_config(model: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``config`` of the layer called ``name`` in a parsed model config."""
    for entry in model["config"]["layers"]:
        if entry["config"].get("name") == name:
            return entry["config"]
    raise KeyError(name)


def reader_pids() -> set[int]:
    """Our HDF5 reader processes, zygotes and their children (from /proc: what is alive, not
    what is tracked), but for the zygote of the moment, which lives as long as we do."""
    from server.nn import _h5_sandbox

    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except (OSError, ValueError, IndexError):
            continue
        if b"server.nn._h5_sandbox" in command:
            parents[int(entry.name)] = ppid
    zygotes = {pid for pid, ppid in parents.items() if ppid == os.getpid()}
    ours = zygotes | {pid for pid, ppid in parents.items() if ppid in zygotes}
    return ours - {z.process.pid for z in _h5_sandbox._zygote}
