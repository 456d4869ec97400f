"""ImageStore: uploaded photos in a blob store, decoded on demand and cached per process.

An image is one blob of kind ``"images"``: its original bytes, and as meta what decoding found
(`StoredImage`). Sample photos are pinned. Where the bytes live (a directory, an S3 bucket) is
the blob store's business; what this class adds is decoding and a small in-memory LRU of decoded
images and arrays (bounded in bytes), because a playground moves sliders on the same photo many
times a second and decoding a JPEG costs more than convolving it. That cache is per process:
with several workers each keeps its own, and the store is what they share.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..imaging.decode import DEFAULT_MAX_PIXELS, FORMATS, DecodedImage, decode_image, to_array
from ._lru import SizedLRU
from .blobs import BlobNotFoundError, BlobStore, make_id
from .local import LocalBlobStore

__all__ = ["KIND", "ImageNotFoundError", "ImageStore", "StoredImage"]

KIND = "images"


class ImageNotFoundError(BlobNotFoundError):
    """No image with this id (never uploaded, malformed, or evicted)."""

    def __init__(self, image_id: str) -> None:
        super().__init__(KIND, image_id)
        self.image_id = image_id


@dataclass(frozen=True)
class StoredImage:
    """What the store knows about one image (the blob's meta)."""

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


class ImageStore:
    """Images in ``blobs`` (a `BlobStore`, or a directory for the local one).

    ``ImageStore(directory, max_bytes=...)`` keeps the files directly in ``directory``, as the
    store always did (``data_dir/images``); pass a `BlobStore` to choose the backend.
    """

    def __init__(self, blobs: BlobStore | Path, *, max_bytes: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS,
                 cache_bytes: int = 256 * 1024 * 1024) -> None:
        if not isinstance(blobs, BlobStore):
            directory = Path(blobs)
            if max_bytes is None:
                raise TypeError("a directory needs `max_bytes`")
            # the kind is the directory's name, so the files land in `directory` itself
            blobs = _DirectoryStore(directory, max_bytes=max_bytes)
        self.blobs = blobs
        self.kind = KIND
        self.max_pixels = max_pixels
        self._cache = SizedLRU(cache_bytes)
        blobs.on_evict = self._forget

    @property
    def max_bytes(self) -> int:
        return self.blobs.max_bytes

    make_id = staticmethod(make_id)

    def add(self, data: bytes, *, pinned: bool = False) -> StoredImage:
        """Decode ``data`` (rejecting what is not an image), store it, return its record.

        Adding the same bytes again is cheap: the id is found in the store and only touched.
        Raises `server.imaging.decode.ImageError` for unsupported or oversized images.
        """
        image_id = make_id(data)
        if pinned:
            self.blobs.pin(self.kind, image_id)
        try:
            return self.get(image_id)
        except ImageNotFoundError:
            pass
        decoded = decode_image(data, max_pixels=self.max_pixels)
        record = StoredImage(
            id=image_id, width=decoded.width, height=decoded.height, mode=decoded.mode,
            source_mode=decoded.source_mode, format=decoded.format, bytes=len(data),
        )
        self.blobs.put(data, self.kind, asdict(record), pinned=pinned)
        # first use of a fresh upload is almost always next: keep its decoded form
        self._cache.get_or_make((image_id, "decoded"), lambda: decoded, _image_size)
        return record

    def get(self, image_id: str) -> StoredImage:
        """The record of ``image_id``; marks it recently used. Raises `ImageNotFoundError`."""
        try:
            return StoredImage(**self.blobs.meta(self.kind, image_id))
        except BlobNotFoundError:
            raise ImageNotFoundError(str(image_id)) from None
        except TypeError as error:  # a meta of another shape: not an image record
            raise ImageNotFoundError(str(image_id)) from error

    def read_bytes(self, image_id: str) -> bytes:
        """The original bytes of ``image_id``."""
        self.get(image_id)
        try:
            return self.blobs.get(self.kind, image_id)
        except BlobNotFoundError:
            raise ImageNotFoundError(image_id) from None

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
        """Ids of every stored image, least recently used first."""
        return self.blobs.ids(self.kind)

    def total_bytes(self) -> int:
        return self.blobs.total_bytes(self.kind)

    def _forget(self, kind: str, image_id: str) -> None:
        if kind == self.kind:
            self._cache.drop(lambda key: isinstance(key, tuple) and image_id in key)


class _DirectoryStore(LocalBlobStore):
    """The local backend with the images directly in ``directory`` (``data_dir/images``)."""

    def __init__(self, directory: Path, *, max_bytes: int) -> None:
        super().__init__(directory, max_bytes=max_bytes)

    def directory(self, kind: str) -> Path:
        return self.root


def _image_size(decoded: DecodedImage) -> int:
    return decoded.width * decoded.height * len(decoded.image.getbands())
