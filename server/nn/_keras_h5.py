"""Reading HDF5 without trusting it: hard links only, plain float datasets, shapes checked first.

HDF5 can point outside the file (external links, external raw storage, virtual datasets) and can
declare a dataset of any shape whose chunks were never written, so that reading it would allocate
the declared size filled with the fill value. Every dataset is therefore opened through hard links
only, refused when its storage lives elsewhere or needs a filter beyond deflate, shuffle, Fletcher
checksums and LZF, and its declared shape is compared with the shape the model's config implies
before a single value is read.
"""

from __future__ import annotations

import io
import math
from typing import Any

import h5py
import numpy as np

from ._keras_errors import ModelFileError, damaged, not_a_model, too_large

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# deflate, shuffle, fletcher32 and LZF: what h5py itself can write; nothing loads a plugin
_FILTERS = {1, 2, 3, 32000}
_MAX_NAMES = 100_000
# h5py and the HDF5 library report damage through several exception classes
H5_ERRORS = (OSError, KeyError, ValueError, RuntimeError, TypeError, IndexError)


def is_hdf5(data: bytes) -> bool:
    """The HDF5 signature at offset 0 or at a user-block offset (512, 1024, 2048, ...)."""
    offset = 0
    while offset + 8 <= len(data):
        if data[offset:offset + 8] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


def open_h5(data: bytes, what: str) -> h5py.File:
    """Open ``data`` read-only from memory; ``what`` names it in the error ("the .h5 file")."""
    try:
        return h5py.File(io.BytesIO(data), "r")
    except H5_ERRORS as err:
        raise not_a_model(f"{what} is not a readable HDF5 file (truncated or damaged: "
                          f"{err})") from err


def child(group: h5py.Group, path: str, what: str) -> Any:
    """The object at ``path`` below ``group`` reached through hard links only, or None."""
    node: Any = group
    for part in path.strip("/").split("/"):
        if not isinstance(node, h5py.Group):
            return None
        try:
            link = node.get(part, getlink=True)
        except H5_ERRORS as err:
            raise damaged(f"{what}: {path!r} cannot be read ({err})") from err
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise damaged(f"{what}: {path!r} is a {type(link).__name__}, a pointer elsewhere "
                          "(Keras writes only plain groups and datasets); refused")
        try:
            node = node[part]
        except H5_ERRORS as err:
            raise damaged(f"{what}: {path!r} cannot be read ({err})") from err
    return node


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _decode(value[()])
    return str(value)


def string_attr(obj: Any, name: str, what: str, *, max_chars: int) -> str | None:
    """A string attribute (``model_config``), or None when it is absent."""
    try:
        if name not in obj.attrs:
            return None
        value = obj.attrs[name]
    except H5_ERRORS as err:
        raise damaged(f"{what}: the attribute {name!r} cannot be read ({err})") from err
    text = _decode(value)
    if len(text) > max_chars:
        raise too_large(f"{what}: the attribute {name!r} holds {len(text)} characters, more "
                        f"than the {max_chars} allowed")
    return text


def string_list_attr(obj: Any, name: str, what: str) -> list[str] | None:
    """A list-of-strings attribute, joined from ``name0``, ``name1``... when Keras split it."""
    try:
        keys = [name] if name in obj.attrs else []
        while not keys or keys[0] != name:  # Keras 2 splits long lists: name0, name1, ...
            if f"{name}{len(keys)}" not in obj.attrs:
                break
            keys.append(f"{name}{len(keys)}")
        if not keys:
            return None
        names: list[str] = []
        for key in keys:
            shape = obj.attrs.get_id(key).shape
            if shape is None:  # an empty dataspace: Keras writes an empty list this way too
                continue
            if math.prod(shape) + len(names) > _MAX_NAMES:
                raise damaged(f"{what}: the attribute {name!r} lists more than {_MAX_NAMES} "
                              "names")
            names.extend(_decode(v) for v in np.asarray(obj.attrs[key]).ravel())
    except ModelFileError:
        raise
    except H5_ERRORS as err:
        raise damaged(f"{what}: the attribute {name!r} cannot be read ({err})") from err
    return names


def read_array(dataset: Any, expected: tuple[int, ...], *, owner: str, param: str,
               budget: int) -> np.ndarray:
    """The dataset as float32, after its kind, storage, shape and size have been checked.

    ``owner`` names the weight in messages ("layer 'conv2d' (Conv2D): weight 0 (kernel)");
    ``budget`` is the number of bytes still allowed.
    """
    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{owner} {message}", param=param)

    if not isinstance(dataset, h5py.Dataset):
        raise fail("is not a dataset in the weights file")
    try:
        shape = tuple(int(n) for n in (dataset.shape or ()))
        dtype = dataset.dtype
        external = dataset.external
        virtual = dataset.is_virtual
        plist = dataset.id.get_create_plist()
        filters = {plist.get_filter(i)[0] for i in range(plist.get_nfilters())}
    except H5_ERRORS as err:
        raise fail(f"cannot be read ({err})") from err
    if shape != tuple(expected):
        raise fail(f"has shape {list(shape)} in the file but the model's config implies "
                   f"{list(expected)}")
    if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8):
        raise fail(f"holds values of type {dtype} where Keras stores floats")
    if external or virtual:
        raise fail("keeps its values outside the file (external or virtual storage); refused")
    if not filters <= _FILTERS:
        raise fail(f"needs HDF5 filters {sorted(filters - _FILTERS)} that Svertka does not load "
                   "(deflate, shuffle, Fletcher-32 and LZF are read)")
    size = math.prod(shape) * dtype.itemsize
    if size > budget:
        raise ModelFileError(f"{owner} needs {size} bytes, more than the weights may still "
                             f"take ({budget} bytes)", param=param, status=413,
                             code="too_large")
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows up as inf below
            values = np.asarray(dataset[()], dtype=np.float32)
    except H5_ERRORS as err:
        raise fail(f"cannot be read (truncated or damaged: {err})") from err
    if not np.isfinite(values).all():
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        raise fail(f"holds {bad} value(s) that are NaN or infinite (after conversion to "
                   "float32); a trained model has finite weights")
    return values
