"""The blob store in a local directory (the default): ``<root>/<kind>/<id>.img`` and ``.json``.

Several worker processes (``svertka serve --workers N``) may share the directory: every write is
a temporary file renamed over the final name, so a reader sees the old state or the new one and
a crash (even ``kill -9``) never leaves a half file under a valid name. Recency is the data
file's mtime, touched on every use, which makes eviction least-recently-used across processes
and restarts. (``.img`` is the name the image store always used, kept so existing data
directories stay readable.)
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .blobs import BlobNotFoundError, BlobStore, check_id, check_kind

__all__ = ["LocalBlobStore"]

DATA, META = ".img", ".json"
STALE_TEMP_SECONDS = 3600.0  # a temporary file this old belongs to a writer that died


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root``, one directory per kind."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        super().__init__(max_bytes=max_bytes)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._made: set[str] = set()

    def directory(self, kind: str) -> Path:
        """Where the blobs of ``kind`` live (created on first use)."""
        path = self.root / check_kind(kind)
        if kind not in self._made:
            path.mkdir(parents=True, exist_ok=True)
            self._made.add(kind)
        return path

    def _paths(self, kind: str, blob_id: str) -> tuple[Path, Path]:
        base = self.directory(kind) / check_id(kind, blob_id)
        return base.with_suffix(DATA), base.with_suffix(META)

    def get(self, kind: str, blob_id: str) -> bytes:
        data, meta = self._paths(kind, blob_id)
        if not meta.exists():
            raise BlobNotFoundError(kind, blob_id)
        try:
            return data.read_bytes()
        except OSError as error:
            raise BlobNotFoundError(kind, blob_id) from error

    def meta(self, kind: str, blob_id: str) -> dict[str, Any]:
        _, meta = self._paths(kind, blob_id)
        try:
            value = json.loads(meta.read_bytes())
        except (OSError, ValueError) as error:
            raise BlobNotFoundError(kind, blob_id) from error
        self.touch(kind, blob_id)
        return value

    def exists(self, kind: str, blob_id: str) -> bool:
        try:
            data, meta = self._paths(kind, blob_id)
        except BlobNotFoundError:
            return False
        return meta.exists() and data.exists()

    def delete(self, kind: str, blob_id: str) -> None:
        data, meta = self._paths(kind, blob_id)
        meta.unlink(missing_ok=True)  # the meta first: the entry stops existing at once
        data.unlink(missing_ok=True)

    def touch(self, kind: str, blob_id: str) -> None:
        data, _ = self._paths(kind, blob_id)
        with contextlib.suppress(OSError):  # a racing eviction is not the reader's problem
            os.utime(data)

    def usage(self, kind: str) -> list[tuple[str, int, float]]:
        directory = self.directory(kind)
        entries = []
        now = time.time()
        with os.scandir(directory) as found:
            for entry in found:
                try:
                    stat = entry.stat()
                except OSError:
                    continue  # deleted while listing
                if entry.name.endswith(".tmp"):
                    if now - stat.st_mtime > STALE_TEMP_SECONDS:
                        Path(entry.path).unlink(missing_ok=True)
                elif entry.name.endswith(DATA):
                    entries.append((entry.name[: -len(DATA)], stat.st_size, stat.st_mtime))
        entries.sort(key=lambda item: (item[2], item[0]))
        return entries

    def _write(self, kind: str, blob_id: str, data: bytes, meta: dict[str, Any]) -> None:
        data_path, meta_path = self._paths(kind, blob_id)
        _write_atomic(data_path, data)
        _write_atomic(meta_path, json.dumps(meta).encode())


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``path``, flush it to disk, rename it over.

    The rename is atomic on POSIX filesystems, so another process sees either no file or the
    whole one; the fsync makes the acknowledged bytes survive a power cut, not only a crash.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
