"""The blob store's interface: content-addressed bytes by kind, bounded in bytes, evicted by use.

A blob is the bytes of one upload (a photo, a model file) and a small JSON ``meta`` dict that
describes it. Its id is the start of the SHA-256 of its bytes, so the same upload always gets
the same id, ids cannot be guessed into other files, and no database is needed: the stored
objects are their own index and survive a restart. A ``kind`` ("images", "models") is a separate
namespace with its own budget of ``max_bytes``: uploading models never evicts photos.

Crash safety is the same contract for every backend: the data is stored whole first (a
temporary file renamed over the final name, or one S3 ``PutObject``), then the meta, which is
what makes an entry exist. A crash in between leaves bytes nobody can name (evicted later like
any old entry), never a half entry under a valid id.

Backends: `server.store.local.LocalBlobStore` (a directory, the default) and
`server.store.s3.S3BlobStore` (any S3-compatible object store). Their calls block: the web layer
runs them in worker threads.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ID_LENGTH", "BlobNotFoundError", "BlobStore", "StoreUnavailableError", "check_id",
           "check_kind", "make_id"]

ID_LENGTH = 20
_ID = re.compile(rf"^[0-9a-f]{{{ID_LENGTH}}}$")
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class BlobNotFoundError(KeyError):
    """No blob of this kind with this id (never stored, malformed, or evicted)."""

    def __init__(self, kind: str, blob_id: str) -> None:
        super().__init__(blob_id)
        self.kind = kind
        self.blob_id = blob_id


class StoreUnavailableError(RuntimeError):
    """The store did not answer: unreachable, timing out, or failing on its side after retries.

    Not the client's fault and usually brief, so the web layer answers 503 with ``Retry-After``
    (never 404: the blob may well be there). ``detail`` is for the server's log only: it may
    name internal hosts and buckets.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def make_id(data: bytes) -> str:
    """The id of ``data``: the first hex digits of its SHA-256.

    >>> make_id(b"")
    'e3b0c44298fc1c149afb'
    """
    return hashlib.sha256(data).hexdigest()[:ID_LENGTH]


def check_id(kind: str, blob_id: object) -> str:
    """``blob_id`` if it has the form of an id, else `BlobNotFoundError` (never a path)."""
    if not isinstance(blob_id, str) or not _ID.match(blob_id):
        raise BlobNotFoundError(kind, str(blob_id))
    return blob_id


def check_kind(kind: str) -> str:
    """``kind`` if it is a short lowercase name (it becomes a directory or a key prefix)."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ValueError(f"`kind` must be a short lowercase name such as 'images', got {kind!r}")
    return kind


class BlobStore(ABC):
    """Content-addressed blobs by kind, at most ``max_bytes`` of data per kind.

    Every method may block on disk or network I/O; call them from worker threads in a server.
    Ids of blobs pinned by this process (`pin`) are never evicted by it.
    """

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pinned: set[tuple[str, str]] = set()
        self.on_evict: Callable[[str, str], None] | None = None
        """Called with ``(kind, id)`` for each blob this process evicts (to drop its caches)."""

    # the interface -------------------------------------------------------------------------------
    def put(self, data: bytes, kind: str, meta: Mapping[str, Any] | None = None, *,
            pinned: bool = False) -> str:
        """Store ``data`` whole under its id with ``meta``; evict beyond the budget; return the id.

        Storing bytes that are already there only marks them used (``meta`` is not rewritten).
        """
        blob_id = make_id(data)
        check_kind(kind)
        if pinned:
            self.pin(kind, blob_id)
        if self.exists(kind, blob_id):
            self.touch(kind, blob_id)
            return blob_id
        self._write(kind, blob_id, data, dict(meta or {}))
        self.evict(kind, keep=blob_id)
        return blob_id

    @abstractmethod
    def get(self, kind: str, blob_id: str) -> bytes:
        """The stored bytes; raises `BlobNotFoundError`."""

    @abstractmethod
    def meta(self, kind: str, blob_id: str) -> dict[str, Any]:
        """The meta given to `put` and marks the blob used; raises `BlobNotFoundError`."""

    @abstractmethod
    def exists(self, kind: str, blob_id: str) -> bool:
        """Whether the blob is stored (whole: data and meta)."""

    @abstractmethod
    def delete(self, kind: str, blob_id: str) -> None:
        """Remove the blob; nothing happens if it is not there."""

    @abstractmethod
    def touch(self, kind: str, blob_id: str) -> None:
        """Mark the blob as just used (it moves to the end of the eviction order)."""

    @abstractmethod
    def usage(self, kind: str) -> list[tuple[str, int, float]]:
        """``(id, bytes, last used)`` of every stored blob of ``kind``, least recently used first.

        Bytes whose meta is missing (a crash between the two writes) are listed too: they use
        the budget until eviction removes them.
        """

    @abstractmethod
    def _write(self, kind: str, blob_id: str, data: bytes, meta: dict[str, Any]) -> None:
        """Store the data whole, then the meta (the meta's presence is what makes it exist)."""

    # shared behaviour ----------------------------------------------------------------------------
    def pin(self, kind: str, blob_id: str) -> None:
        """Never evict this blob from this process (the sample photos)."""
        self._pinned.add((kind, blob_id))

    def ids(self, kind: str) -> list[str]:
        """Ids of the blobs of ``kind`` that exist, least recently used first."""
        listed = [blob_id for blob_id, _, _ in self.usage(kind)]
        return [blob_id for blob_id in listed if self.exists(kind, blob_id)]

    def total_bytes(self, kind: str) -> int:
        """Bytes of data stored for ``kind`` (what the budget bounds)."""
        return sum(size for _, size, _ in self.usage(kind))

    def evict(self, kind: str, *, keep: str | None = None) -> list[str]:
        """Delete the least recently used blobs of ``kind`` until it fits ``max_bytes``.

        The blob just stored (``keep``) and pinned ones stay, even when that leaves the kind
        over budget. Returns the ids deleted.
        """
        entries = self.usage(kind)
        total = sum(size for _, size, _ in entries)
        evicted = []
        for blob_id, size, _ in entries:
            if total <= self.max_bytes:
                break
            if blob_id == keep or (kind, blob_id) in self._pinned:
                continue
            self.delete(kind, blob_id)
            total -= size
            evicted.append(blob_id)
            if self.on_evict is not None:
                self.on_evict(kind, blob_id)
        return evicted
