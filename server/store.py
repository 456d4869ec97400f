"""ImageStore: uploaded images, content-addressed on disk, bounded in bytes, decoded on demand.

An image's id is the start of the SHA-256 of its bytes, so the same upload always gets the same
id, ids cannot be guessed into other files, and nothing needs a database: the files themselves
are the index and survive a restart. Each image is two files, ``<id>.img`` (the original bytes)
and ``<id>.json`` (what decoding found). Recency is the file's mtime, touched on every use, which
makes eviction least-recently-used across restarts too. Sample photos are pinned.

Decoded arrays are kept in a small in-memory LRU (bounded in bytes) because a playground moves
sliders on the same photo many times a second and decoding a JPEG costs more than convolving it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .imaging.decode import DEFAULT_MAX_PIXELS, FORMATS, DecodedImage, decode_image, to_array

__all__ = ["ID_LENGTH", "ImageNotFoundError", "ImageStore", "StoredImage"]

ID_LENGTH = 20
_ID = re.compile(rf"^[0-9a-f]{{{ID_LENGTH}}}$")


class ImageNotFoundError(KeyError):
    """No image with this id (never uploaded, malformed, or evicted)."""

    def __init__(self, image_id: str) -> None:
        super().__init__(image_id)
        self.image_id = image_id


@dataclass(frozen=True)
class StoredImage:
    """What the store knows about one image (the JSON written beside it)."""

    id: str
    width: int
    height: int
    mode: str
    source_mode: str
    format: str
    bytes: int

    @property
    def media_type(self) -> str:
        return FORMATS.get(self.format, "application/octet-stream")


class _SizedLRU:
    """A thread-safe LRU mapping bounded by the sum of its values' sizes in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], Any],
                    size: Callable[[Any], int]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        value = make()  # outside the lock: two threads may both decode, which is only wasted work
        nbytes = size(value)
        if nbytes > self.max_bytes:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, nbytes)
                self._bytes += nbytes
            while self._bytes > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return value

    def drop(self, predicate: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [k for k in self._items if predicate(k)]:
                self._bytes -= self._items.pop(key)[1]


class ImageStore:
    """Content-addressed image files under ``root``, at most ``max_bytes`` of them on disk."""

    def __init__(self, root: Path, *, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS,
                 cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._pinned: set[str] = set()
        self._lock = threading.Lock()
        self._cache = _SizedLRU(cache_bytes)

    # files -------------------------------------------------------------------------------------
    def _data_path(self, image_id: str) -> Path:
        return self.root / f"{image_id}.img"

    def _meta_path(self, image_id: str) -> Path:
        return self.root / f"{image_id}.json"

    @staticmethod
    def make_id(data: bytes) -> str:
        """The id of ``data``: the first hex digits of its SHA-256."""
        return hashlib.sha256(data).hexdigest()[:ID_LENGTH]

    def add(self, data: bytes, *, pinned: bool = False) -> StoredImage:
        """Decode ``data`` (rejecting what is not an image), store it, return its record.

        Adding the same bytes again is cheap: the id is found on disk and only touched.
        Raises `server.imaging.decode.ImageError` for unsupported or oversized images.
        """
        image_id = self.make_id(data)
        if pinned:
            self._pinned.add(image_id)
        try:
            return self.get(image_id)
        except ImageNotFoundError:
            pass
        decoded = decode_image(data, max_pixels=self.max_pixels)
        record = StoredImage(
            id=image_id, width=decoded.width, height=decoded.height, mode=decoded.mode,
            source_mode=decoded.source_mode, format=decoded.format, bytes=len(data),
        )
        with self._lock:
            _write_atomic(self._data_path(image_id), data)
            _write_atomic(self._meta_path(image_id), json.dumps(asdict(record)).encode())
            self._evict(keep=image_id)
        # first use of a fresh upload is almost always next: keep its decoded form
        self._cache.get_or_make((image_id, "decoded"), lambda: decoded, _image_size)
        return record

    def get(self, image_id: str) -> StoredImage:
        """The record of ``image_id``; marks it recently used. Raises `ImageNotFoundError`."""
        if not isinstance(image_id, str) or not _ID.match(image_id):
            raise ImageNotFoundError(str(image_id))
        try:
            meta = json.loads(self._meta_path(image_id).read_text())
            self._touch(image_id)
            return StoredImage(**meta)
        except (OSError, ValueError, TypeError) as error:
            raise ImageNotFoundError(image_id) from error

    def read_bytes(self, image_id: str) -> bytes:
        """The original bytes of ``image_id``."""
        self.get(image_id)
        try:
            return self._data_path(image_id).read_bytes()
        except OSError as error:
            raise ImageNotFoundError(image_id) from error

    def decoded(self, image_id: str) -> DecodedImage:
        """The upright L/RGB image, decoded once and then served from memory."""
        self.get(image_id)
        return self._cache.get_or_make(
            (image_id, "decoded"),
            lambda: decode_image(self.read_bytes(image_id), max_pixels=self.max_pixels),
            _image_size,
        )

    def array(self, image_id: str, color: str = "rgb", max_side: int | None = None) -> np.ndarray:
        """Pixel values as float32 (see `to_array`), cached; the array is read-only."""
        self.get(image_id)

        def make() -> np.ndarray:
            array = to_array(self.decoded(image_id), color, max_side)
            array.flags.writeable = False  # shared between requests: nobody may write into it
            return array

        return self._cache.get_or_make((image_id, color, max_side), make, lambda a: a.nbytes)

    def cached(self, key: tuple[Hashable, ...], make: Callable[[], bytes]) -> bytes:
        """Memoize derived bytes (previews) in the same bounded memory; key starts with the id."""
        return self._cache.get_or_make(("derived", *key), make, len)

    def ids(self) -> list[str]:
        """Ids of every stored image, most recently used last."""
        files = sorted(self.root.glob("*.img"), key=_mtime)
        return [f.stem for f in files if _ID.match(f.stem)]

    def total_bytes(self) -> int:
        return sum(_size(f) for f in self.root.glob("*.img"))

    # recency and eviction -----------------------------------------------------------------------
    def _touch(self, image_id: str) -> None:
        with contextlib.suppress(OSError):  # a racing eviction is not the reader's problem
            os.utime(self._data_path(image_id))

    def _evict(self, *, keep: str) -> None:
        files = sorted(self.root.glob("*.img"), key=_mtime)
        total = sum(_size(f) for f in files)
        for path in files:
            if total <= self.max_bytes:
                break
            image_id = path.stem
            if image_id == keep or image_id in self._pinned:
                continue
            total -= _size(path)
            for stale in (path, self._meta_path(image_id)):
                stale.unlink(missing_ok=True)
            self._cache.drop(lambda key, i=image_id: isinstance(key, tuple) and i in key)


def _write_atomic(path: Path, data: bytes) -> None:
    # a crash mid-write must not leave a half image under a valid id
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _image_size(decoded: DecodedImage) -> int:
    return decoded.width * decoded.height * len(decoded.image.getbands())
