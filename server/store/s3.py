"""The blob store in any S3-compatible object store (AWS S3, SeaweedFS, Ceph, MinIO...).

Keys are ``<prefix>/<kind>/<id>.img`` (the data) and ``<prefix>/<kind>/<id>.json`` (the meta),
each written by one ``PutObject``: S3 stores an object whole or not at all, so a crash can only
leave data without its meta, which is not an entry. Recency is the meta object's
``LastModified``; marking a blob used rewrites its meta (a few hundred bytes), at most once per
``touch_seconds`` per process so a slider dragged over one photo does not write on every move.

boto3 is the client: it is synchronous and its clients are thread-safe, so the web layer calls
it from worker threads. Its timeouts are short and its retries few (`S3_CONNECT_TIMEOUT`,
`S3_READ_TIMEOUT`, `S3_MAX_ATTEMPTS`): a store that is down or stuck must cost a request seconds,
not minutes of a worker thread. What then still fails to answer (no connection, a timeout, a 5xx
after the retries) is raised as `StoreUnavailableError`, which the web layer answers with 503.
Credentials and region come from boto3's usual sources
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``,
``~/.aws``, instance roles).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from .blobs import BlobNotFoundError, BlobStore, StoreUnavailableError, check_id, check_kind

__all__ = ["S3_CONNECT_TIMEOUT", "S3_MAX_ATTEMPTS", "S3_READ_TIMEOUT", "S3BlobStore",
           "parse_s3_url"]

DATA, META = ".img", ".json"
_MISSING = {"404", "NoSuchKey", "NotFound"}
S3_CONNECT_TIMEOUT = 3.0  # seconds to open a connection; a reachable store takes milliseconds
S3_READ_TIMEOUT = 10.0  # seconds without a byte from the store (not the whole transfer)
S3_MAX_ATTEMPTS = 2  # the first try and one retry: a longer outage is a 503, not a hang

_log = logging.getLogger("svertka.store")
P = ParamSpec("P")
T = TypeVar("T")


def _unavailable(error: Exception) -> bool:
    """Whether ``error`` means the store did not answer, rather than answered no."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ConnectionError | HTTPClientError):  # refused, timeouts, cut streams
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status or 0) >= 500  # botocore retried it already
    return False


def _answering(method: Callable[P, T]) -> Callable[P, T]:
    """Raise `StoreUnavailableError` from ``method`` when the store did not answer."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except StoreUnavailableError:
            raise
        except Exception as error:
            if not _unavailable(error):
                raise
            _log.warning("the S3 store did not answer (%s): %s", method.__name__, error)
            raise StoreUnavailableError(f"{type(error).__name__}: {error}") from error

    return guarded


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``.

    >>> parse_s3_url("s3://svertka/classes/7b/")
    ('svertka', 'classes/7b')
    >>> parse_s3_url("s3://svertka")
    ('svertka', '')
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"an S3 URL looks like s3://bucket or s3://bucket/prefix, got {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3BlobStore(BlobStore):
    """Blobs as objects in ``bucket`` under ``prefix``; ``endpoint`` for non-AWS stores."""

    def __init__(self, url: str, *, max_bytes: int, endpoint: str | None = None,
                 touch_seconds: float = 60.0, meta_seconds: float = 5.0,
                 connect_timeout: float = S3_CONNECT_TIMEOUT,
                 read_timeout: float = S3_READ_TIMEOUT, client: Any = None) -> None:
        super().__init__(max_bytes=max_bytes)
        self.bucket, self.prefix = parse_s3_url(url)
        self.touch_seconds = touch_seconds
        self.meta_seconds = meta_seconds
        self.client = client or _make_client(endpoint, connect_timeout, read_timeout)
        self._lock = threading.Lock()
        self._touched: dict[tuple[str, str], float] = {}
        self._metas: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}

    def _key(self, kind: str, blob_id: str, suffix: str) -> str:
        name = f"{check_kind(kind)}/{check_id(kind, blob_id)}{suffix}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _kind_prefix(self, kind: str) -> str:
        return f"{self.prefix}/{check_kind(kind)}/" if self.prefix else f"{check_kind(kind)}/"

    @_answering
    def get(self, kind: str, blob_id: str) -> bytes:
        # no HEAD of the meta first: data without meta is still whole (it is content-addressed)
        try:
            answer = self.client.get_object(Bucket=self.bucket,
                                            Key=self._key(kind, blob_id, DATA))
        except self.client.exceptions.ClientError as error:
            if _missing(error):
                raise BlobNotFoundError(kind, blob_id) from error
            raise
        return answer["Body"].read()

    @_answering
    def meta(self, kind: str, blob_id: str) -> dict[str, Any]:
        key = (kind, check_id(kind, blob_id))
        now = time.monotonic()
        with self._lock:
            cached = self._metas.get(key)
        if cached is not None and now - cached[1] < self.meta_seconds:
            return dict(cached[0])
        try:
            answer = self.client.get_object(Bucket=self.bucket,
                                            Key=self._key(kind, blob_id, META))
        except self.client.exceptions.ClientError as error:
            if _missing(error):
                raise BlobNotFoundError(kind, blob_id) from error
            raise
        raw = answer["Body"].read()
        try:
            value = json.loads(raw)
        except ValueError as error:
            raise BlobNotFoundError(kind, blob_id) from error
        with self._lock:
            if len(self._metas) > 4096:  # bounded: forget everything rather than grow
                self._metas.clear()
            self._metas[key] = (value, now)
        self._touch(kind, blob_id, raw)
        return dict(value)

    @_answering
    def exists(self, kind: str, blob_id: str) -> bool:
        try:
            key = self._key(kind, blob_id, META)
        except BlobNotFoundError:
            return False
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    @_answering
    def delete(self, kind: str, blob_id: str) -> None:
        with self._lock:
            self._metas.pop((kind, blob_id), None)
            self._touched.pop((kind, blob_id), None)
        # the meta first: the entry stops existing at once
        for suffix in (META, DATA):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(kind, blob_id, suffix))

    @_answering
    def touch(self, kind: str, blob_id: str) -> None:
        try:
            answer = self.client.get_object(Bucket=self.bucket,
                                            Key=self._key(kind, blob_id, META))
        except self.client.exceptions.ClientError as error:
            if _missing(error):
                return  # evicted meanwhile: nothing to mark
            raise
        self._touch(kind, blob_id, answer["Body"].read())

    def _touch(self, kind: str, blob_id: str, meta_bytes: bytes) -> None:
        key = (kind, blob_id)
        now = time.monotonic()
        with self._lock:
            last = self._touched.get(key)
            if last is not None and now - last < self.touch_seconds:
                return
            if len(self._touched) > 4096:
                self._touched.clear()
            self._touched[key] = now
        self.client.put_object(Bucket=self.bucket, Key=self._key(kind, blob_id, META),
                               Body=meta_bytes, ContentType="application/json")

    @_answering
    def usage(self, kind: str) -> list[tuple[str, int, float]]:
        sizes: dict[str, int] = {}
        used: dict[str, float] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._kind_prefix(kind))
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"].rsplit("/", 1)[-1]
                stamp = item["LastModified"].timestamp()
                if name.endswith(DATA):
                    blob_id = name[: -len(DATA)]
                    sizes[blob_id] = item["Size"]
                    used.setdefault(blob_id, stamp)
                elif name.endswith(META):
                    used[name[: -len(META)]] = stamp  # the meta's time is the last use
        entries = [(blob_id, size, used[blob_id]) for blob_id, size in sizes.items()]
        entries.sort(key=lambda item: (item[2], item[0]))
        return entries

    @_answering
    def _write(self, kind: str, blob_id: str, data: bytes, meta: dict[str, Any]) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(kind, blob_id, DATA), Body=data,
                               ContentType="application/octet-stream")
        self.client.put_object(Bucket=self.bucket, Key=self._key(kind, blob_id, META),
                               Body=json.dumps(meta).encode(), ContentType="application/json")
        with self._lock:
            self._touched[(kind, blob_id)] = time.monotonic()


def _missing(error: Any) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


def _make_client(endpoint: str | None, connect_timeout: float, read_timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    config = Config(
        # "total": botocore's plain `max_attempts` counts retries only, one more than it reads
        retries={"total_max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
        max_pool_connections=32, connect_timeout=connect_timeout, read_timeout=read_timeout,
        # SeaweedFS, Ceph and MinIO are usually reached by path, not by bucket subdomain
        s3={"addressing_style": "path"} if endpoint else None,
    )
    region = session.region_name or ("us-east-1" if endpoint else None)
    return session.client("s3", endpoint_url=endpoint or None, region_name=region, config=config)
