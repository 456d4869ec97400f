"""Uploaded model files (Keras ``.keras`` and ``.h5``), kept like images: content-addressed in the
blob store, under their own kind and byte budget.

A file is read (`server.nn.keras_files.read_model`, as data, never executed) before it is
stored, so everything in the store is a model Svertka can run; reading it again per request
would cost milliseconds, so each process keeps the last few read models in memory. The store's
`Sandbox` bounds the reader processes that open the files' HDF5 data: their memory, their time,
and how many run at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..nn.keras_files import ModelFile, Sandbox, read_model
from ._lru import SizedLRU
from .blobs import BlobNotFoundError, BlobStore, check_id

__all__ = ["KIND", "ModelLimits", "ModelNotFoundError", "ModelStore"]

KIND = "models"


class ModelNotFoundError(BlobNotFoundError):
    """No stored model has this id (never uploaded here, or evicted)."""

    def __init__(self, model_id: str) -> None:
        super().__init__(KIND, model_id)
        self.model_id = model_id


@dataclass(frozen=True)
class ModelLimits:
    """What a model file may cost before it is refused (see `read_model`)."""

    max_bytes: int
    max_members: int
    max_expanded_bytes: int
    max_params: int
    reader_memory_bytes: int
    reader_seconds: float


def _size(model: ModelFile) -> int:
    return sum(a.nbytes for arrays in model.weights.values() for a in arrays) + 4096


class ModelStore:
    """Models in ``blobs``: `add` reads then stores; `get` reads back (cached per process)."""

    def __init__(self, blobs: BlobStore, limits: ModelLimits, *,
                 cache_bytes: int = 64 * 1024 * 1024) -> None:
        self.blobs = blobs
        self.limits = limits
        self.sandbox = Sandbox(memory_bytes=limits.reader_memory_bytes,
                               seconds=limits.reader_seconds)
        self._cache = SizedLRU(cache_bytes)

    def _read(self, data: bytes, filename: str | None) -> ModelFile:
        limits = self.limits
        return read_model(data, filename, max_bytes=limits.max_bytes,
                          max_members=limits.max_members,
                          max_expanded_bytes=limits.max_expanded_bytes,
                          max_params=limits.max_params, sandbox=self.sandbox)

    def add(self, data: bytes, filename: str | None) -> tuple[str, ModelFile]:
        """Read ``data`` (raising `ModelFileError` for a file it refuses), store it, return
        ``(id, model)``; the same bytes always get the same id."""
        model = self._read(data, filename)
        meta: dict[str, Any] = {"filename": (filename or "")[:200], "format": model.format,
                                "bytes": len(data)}
        model_id = self.blobs.put(data, KIND, meta)
        self._cache.get_or_make(model_id, lambda: model, _size)
        return model_id, model

    def close(self) -> None:
        """Kill the reader processes still reading a file for this store (at shutdown)."""
        self.sandbox.close()

    def get(self, model_id: str) -> ModelFile:
        """The model stored under ``model_id``; raises `ModelNotFoundError`."""
        try:
            check_id(KIND, model_id)
        except BlobNotFoundError:
            raise ModelNotFoundError(str(model_id)) from None

        def load() -> ModelFile:
            try:
                meta = self.blobs.meta(KIND, model_id)
                data = self.blobs.get(KIND, model_id)
            except BlobNotFoundError:
                raise ModelNotFoundError(model_id) from None
            return self._read(data, meta.get("filename") or None)

        model: ModelFile = self._cache.get_or_make(model_id, load, _size)
        return model
