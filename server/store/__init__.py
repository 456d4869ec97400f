"""The store: uploads (images, models) content-addressed in a directory or an S3 bucket.

`BlobStore` is the small interface (``put(data, kind) -> id``, ``get``, ``meta``, ``exists``,
``delete``, eviction by bytes); `LocalBlobStore` and `S3BlobStore` are its backends, and
`open_blob_store` picks one from the settings. `ImageStore` keeps photos in it, `ModelStore`
uploaded Keras models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .blobs import ID_LENGTH, BlobNotFoundError, BlobStore, StoreUnavailableError, make_id
from .images import KIND, ImageNotFoundError, ImageStore, StoredImage
from .local import LocalBlobStore
from .models import ModelLimits, ModelNotFoundError, ModelStore
from .s3 import S3BlobStore

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["ID_LENGTH", "KIND", "BlobNotFoundError", "BlobStore", "ImageNotFoundError",
           "ImageStore", "LocalBlobStore", "ModelLimits", "ModelNotFoundError", "ModelStore",
           "S3BlobStore", "StoreUnavailableError", "StoredImage", "make_id", "open_blob_store"]


def open_blob_store(settings: Settings) -> BlobStore:
    """The S3 backend when ``SVERTKA_S3_URL`` is set, else the data directory."""
    if settings.s3_url:
        return S3BlobStore(settings.s3_url, endpoint=settings.s3_endpoint,
                           max_bytes=settings.store_max_bytes)
    return LocalBlobStore(settings.data_dir, max_bytes=settings.store_max_bytes)
