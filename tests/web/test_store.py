"""The blob store's contract, run against both backends: a directory and a real S3 API.

The S3 API is `moto_server` (PyPI ``moto[server]``), started here on a free loopback port; each
test gets its own bucket. Recency on S3 has the resolution of ``LastModified`` (one second), so
the eviction tests wait for the clock to enter a new second between uses (a condition, not a
fixed sleep), the same on both backends.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from server.config import Settings
from server.store import (
    BlobNotFoundError,
    BlobStore,
    ImageNotFoundError,
    ImageStore,
    LocalBlobStore,
    S3BlobStore,
    StoreUnavailableError,
    make_id,
    open_blob_store,
)
from server.store.s3 import S3_MAX_ATTEMPTS, parse_s3_url

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "svertka-test", "AWS_SECRET_ACCESS_KEY": "svertka-test",
               "AWS_DEFAULT_REGION": "us-east-1"}


def _closed_port() -> int:
    """A loopback port nothing listens on (bound and released: the test needs a refusal)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def _moto_server(directory: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``(endpoint, process)`` of a moto_server on a free loopback port, stopped at the end.

    It binds port 0, a free port the system picks as it binds (no other process, such as another
    pytest-xdist worker's server, can take it first), and names it in its log.
    """
    executable = shutil.which("moto_server")
    if executable is None:
        pytest.fail("moto_server is missing: pip install 'moto[server]' (the test extra has it)")
    log_path = directory / "moto.log"
    log = log_path.open("wb")
    process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", "0"],
                               stdout=log, stderr=subprocess.STDOUT)
    endpoint = ""

    def answers() -> bool:
        nonlocal endpoint
        assert process.poll() is None, f"moto_server exited: {log_path.read_text()[-2000:]}"
        if not endpoint:
            bound = re.search(r"Running on (http://127\.0\.0\.1:[1-9][0-9]*)",
                              log_path.read_text(errors="replace"))
            if bound is None:
                return False
            endpoint = bound.group(1)
        try:
            return httpx.get(endpoint, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        _wait_until(answers, 60, "moto_server to answer")
        yield endpoint, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 API (moto_server) on a free loopback port, for the whole session."""
    with _moto_server(tmp_path_factory.mktemp("moto")) as (endpoint, _):
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_url(s3_endpoint: str, aws_env: None) -> str:
    """A fresh bucket (and a prefix inside it) for one test."""
    import boto3

    bucket = f"svertka-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/class-7b"


@pytest.fixture(params=["local", "s3"])
def make_blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., BlobStore]:
    """``make_blobs(max_bytes)`` -> a store of the parametrized backend; calls share the data."""
    if request.param == "local":
        return lambda max_bytes=10**6: LocalBlobStore(tmp_path / "data", max_bytes=max_bytes)
    endpoint = request.getfixturevalue("s3_endpoint")
    url = request.getfixturevalue("s3_url")
    return lambda max_bytes=10**6: S3BlobStore(url, endpoint=endpoint, max_bytes=max_bytes,
                                               touch_seconds=0, meta_seconds=0)


def _tick() -> None:
    """Wait until the wall clock is in a new second (S3's LastModified has seconds)."""
    start = int(time.time())
    _wait_until(lambda: int(time.time()) > start, 5, "the next second")


def _orphan(blobs: BlobStore, kind: str, data: bytes) -> str:
    """Store ``data`` without its meta: what a crash between the two writes leaves."""
    blob_id = make_id(data)
    if isinstance(blobs, LocalBlobStore):
        (blobs.directory(kind) / f"{blob_id}.img").write_bytes(data)
    else:
        assert isinstance(blobs, S3BlobStore)
        blobs.client.put_object(Bucket=blobs.bucket, Key=blobs._key(kind, blob_id, ".img"),
                                Body=data)
    return blob_id


# the contract, on both backends ----------------------------------------------------------------
def test_blobs_return_bytes_and_meta_when_put(make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs()
    data = os.urandom(3000)
    blob_id = blobs.put(data, "images", {"width": 3, "note": "ж"})
    assert blob_id == make_id(data)
    assert blobs.exists("images", blob_id)
    assert blobs.get("images", blob_id) == data
    assert blobs.meta("images", blob_id) == {"width": 3, "note": "ж"}
    assert blobs.ids("images") == [blob_id]
    assert blobs.total_bytes("images") == 3000


def test_blobs_keep_one_copy_when_bytes_repeat(make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs()
    data = os.urandom(100)
    assert blobs.put(data, "images", {"n": 1}) == blobs.put(data, "images", {"n": 2})
    assert blobs.ids("images") == [make_id(data)]
    assert blobs.meta("images", make_id(data)) == {"n": 1}  # the first meta stays


def test_blobs_separate_kinds_when_ids_equal(make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs(max_bytes=150)
    photo, model = os.urandom(100), os.urandom(100)
    photo_id = blobs.put(photo, "images")
    model_id = blobs.put(model, "models", {"format": "keras"})
    assert blobs.ids("images") == [photo_id] and blobs.ids("models") == [model_id]
    assert not blobs.exists("models", photo_id)
    with pytest.raises(BlobNotFoundError):
        blobs.meta("models", photo_id)
    # each kind has its own budget: the model did not evict the photo
    assert blobs.get("images", photo_id) == photo


def test_blobs_forget_when_deleted(make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs()
    blob_id = blobs.put(b"some bytes", "models")
    blobs.delete("models", blob_id)
    assert not blobs.exists("models", blob_id)
    with pytest.raises(BlobNotFoundError):
        blobs.meta("models", blob_id)
    blobs.delete("models", blob_id)  # deleting twice is fine
    assert blobs.ids("models") == [] and blobs.total_bytes("models") == 0


@pytest.mark.parametrize("blob_id", ["", "zz", "../../etc/passwd", "0" * 64, "A" * 20, 5])
def test_blobs_raise_not_found_when_id_malformed(make_blobs: Callable[..., BlobStore],
                                                 blob_id: Any) -> None:
    blobs = make_blobs()
    assert not blobs.exists("images", blob_id)
    with pytest.raises(BlobNotFoundError):
        blobs.meta("images", blob_id)
    with pytest.raises(BlobNotFoundError):
        blobs.get("images", blob_id)


@pytest.mark.parametrize("kind", ["", "Images", "../x", "a/b", "x" * 40])
def test_blobs_refuse_kind_when_not_a_short_name(make_blobs: Callable[..., BlobStore],
                                                 kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        make_blobs().put(b"data", kind)


def test_blobs_evict_least_recently_used_when_over_budget(
        make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs(max_bytes=250)
    first = blobs.put(os.urandom(100), "images")
    _tick()
    second = blobs.put(os.urandom(100), "images")
    _tick()
    blobs.meta("images", first)  # a use: the first is now more recent than the second
    _tick()
    third = blobs.put(os.urandom(100), "images")
    assert blobs.ids("images") == [first, third]
    assert not blobs.exists("images", second)
    assert blobs.total_bytes("images") == 200


def test_blobs_keep_pinned_and_newest_when_over_budget(
        make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs(max_bytes=150)
    pinned = blobs.put(os.urandom(100), "images", pinned=True)
    _tick()
    newest = blobs.put(os.urandom(100), "images")
    assert set(blobs.ids("images")) == {pinned, newest}  # over budget rather than lose a sample


def test_blobs_hide_data_when_meta_missing(make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs(max_bytes=250)
    data = os.urandom(100)
    orphan = _orphan(blobs, "images", data)
    assert not blobs.exists("images", orphan) and blobs.ids("images") == []
    assert blobs.total_bytes("images") == 100  # it uses the budget until evicted
    _tick()
    assert blobs.put(data, "images", {"again": True}) == orphan  # uploading again completes it
    assert blobs.meta("images", orphan) == {"again": True}


def test_blobs_evict_orphans_when_over_budget(make_blobs: Callable[..., BlobStore]) -> None:
    blobs = make_blobs(max_bytes=150)
    orphan = _orphan(blobs, "images", os.urandom(100))
    _tick()
    kept = blobs.put(os.urandom(100), "images")
    assert blobs.ids("images") == [kept] and blobs.total_bytes("images") == 100
    assert orphan not in [blob_id for blob_id, _, _ in blobs.usage("images")]


def test_blobs_share_data_when_opened_twice(make_blobs: Callable[..., BlobStore]) -> None:
    data = os.urandom(500)
    blob_id = make_blobs().put(data, "models", {"layers": 3})
    again = make_blobs()  # another process, or the same one after a restart
    assert again.get("models", blob_id) == data and again.meta("models", blob_id) == {"layers": 3}


def test_image_store_serves_photo_when_on_either_backend(
        make_blobs: Callable[..., BlobStore], make_image: Callable[..., bytes]) -> None:
    data = make_image("PNG", (9, 6))
    record = ImageStore(make_blobs()).add(data)
    store = ImageStore(make_blobs())  # a fresh process: empty decode cache
    assert store.get(record.id) == record and record.width == 9
    assert store.read_bytes(record.id) == data
    gray = store.array(record.id, "gray")
    assert gray.shape == (6, 9) and not gray.flags.writeable
    assert np.array_equal(store.array(record.id, "rgb")[0, 0], np.arange(9) * 255 // 8)
    with pytest.raises(ImageNotFoundError):
        store.get(make_id(b"never uploaded"))


def test_image_store_drops_cache_when_evicted(make_blobs: Callable[..., BlobStore],
                                              make_image: Callable[..., bytes]) -> None:
    first, second = make_image("BMP", (20, 20)), make_image("BMP", (21, 21))
    store = ImageStore(make_blobs(max_bytes=len(first) + 10))
    old = store.add(first)
    store.array(old.id, "gray")
    _tick()
    store.add(second)
    with pytest.raises(ImageNotFoundError):
        store.array(old.id, "gray")  # not served from memory once the store dropped it


# backend specifics -------------------------------------------------------------------------------
def test_local_removes_stale_temp_files_when_listing(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, max_bytes=10**6)
    stale = blobs.directory("images") / ".x.img.1.2.tmp"
    fresh = blobs.directory("images") / ".y.img.1.2.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"half an upload")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert blobs.usage("images") == []
    assert not stale.exists() and fresh.exists()  # a live writer's file is left alone


def test_local_leaves_no_temp_file_when_written(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, max_bytes=10**6)
    blob_id = blobs.put(b"x" * 10, "images", {"a": 1})
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        f"{blob_id}.img", f"{blob_id}.json"]


@pytest.mark.parametrize("url", ["bucket", "http://bucket/x", "s3://", "s3:///prefix"])
def test_s3_url_refused_when_malformed(url: str) -> None:
    with pytest.raises(ValueError, match="s3://bucket"):
        parse_s3_url(url)


def test_settings_choose_s3_when_url_set(tmp_path: Path, s3_url: str, s3_endpoint: str) -> None:
    assert isinstance(open_blob_store(Settings(data_dir=tmp_path)), LocalBlobStore)
    blobs = open_blob_store(Settings(data_dir=tmp_path, s3_url=s3_url, s3_endpoint=s3_endpoint))
    assert isinstance(blobs, S3BlobStore)
    assert (blobs.bucket, blobs.prefix) == parse_s3_url(s3_url)
    blob_id = blobs.put(b"bytes", "images")
    assert blobs.client.head_object(Bucket=blobs.bucket, Key=f"class-7b/images/{blob_id}.img")


def test_app_serves_upload_when_store_is_s3(tmp_path: Path, s3_url: str, s3_endpoint: str,
                                            make_image: Callable[..., bytes]) -> None:
    from fastapi.testclient import TestClient

    from server.web.app import create_app

    settings = Settings(data_dir=tmp_path / "unused", s3_url=s3_url, s3_endpoint=s3_endpoint)
    data = make_image("PNG", (12, 8))
    with TestClient(create_app(settings)) as client:
        answer = client.post("/api/images", files={"file": ("a.png", data, "image/png")})
        assert answer.status_code == 201, answer.text
        image_id = answer.json()["id"]
        samples = client.get("/api/samples").json()
        assert samples and all(s["url"].startswith("/api/images/") for s in samples)
    with TestClient(create_app(settings)) as other:  # another worker, same bucket
        fetched = other.get(f"/api/images/{image_id}")
        assert fetched.status_code == 200 and fetched.content == data
        conv = other.post("/api/conv", json={"image_id": image_id, "color": "gray",
                                             "preset": "sobel_x", "padding": "same"})
        assert conv.status_code == 200 and conv.json()["shape"] == [8, 12]
    assert not (tmp_path / "unused" / "images").exists()  # nothing went to the local disk


# an object store that does not answer ----------------------------------------------------------
def _unavailable(answer: Any) -> None:
    """The one check of the store's 503: the envelope, ``Retry-After``, and no internals."""
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["status"] == 503 and body["code"] == "unavailable" and body["field"] is None
    assert "try again" in body["message"] and "127.0.0.1" not in answer.text
    assert int(answer.headers["retry-after"]) > 0


def test_app_answers_503_when_s3_stops(tmp_path: Path, aws_env: None,
                                       make_image: Callable[..., bytes]) -> None:
    import boto3
    from fastapi.testclient import TestClient

    from server.web.app import create_app

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
    from keras_helpers import fixture as keras_file

    with _moto_server(tmp_path) as (endpoint, process):
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="svertka")
        settings = Settings(data_dir=tmp_path / "unused", s3_url="s3://svertka/x",
                            s3_endpoint=endpoint)
        with TestClient(create_app(settings)) as client:
            kept = client.post("/api/images", files={"file": ("a.png", make_image("PNG", (9, 7)),
                                                               "image/png")})
            assert kept.status_code == 201, kept.text
            process.terminate()  # the object store goes down while the app runs
            process.wait(timeout=10)
            _unavailable(client.post("/api/images", files={
                "file": ("b.png", make_image("PNG", (8, 5)), "image/png")}))
            _unavailable(client.get(f"/api/images/{kept.json()['id']}"))
            _unavailable(client.post("/api/models", files={
                "file": ("m.keras", keras_file("convnet2d.keras"), "application/octet-stream")}))
            # an id the store cannot look up is not "unknown" (404): it may well be there
            _unavailable(client.post("/api/conv", json={"image_id": make_id(b"elsewhere"),
                                                        "preset": "sobel_x"}))
            _unavailable(client.get(f"/api/models/{make_id(b'a model')}"))


@pytest.mark.parametrize("call", ["put", "get", "meta", "exists", "ids"])
def test_s3_raises_unavailable_when_endpoint_refuses(aws_env: None, call: str) -> None:
    blobs = S3BlobStore("s3://svertka", endpoint=f"http://127.0.0.1:{_closed_port()}",
                        max_bytes=10**6)
    blob_id = make_id(b"x")
    calls = {"put": lambda: blobs.put(b"x", "images"), "get": lambda: blobs.get("images", blob_id),
             "meta": lambda: blobs.meta("images", blob_id),
             "exists": lambda: blobs.exists("images", blob_id), "ids": lambda: blobs.ids("images")}
    with pytest.raises(StoreUnavailableError):
        calls[call]()


class _Failing(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that answers every request 503 and counts them."""

    hits: list[str] = []

    def _fail(self) -> None:
        type(self).hits.append(self.command)
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        body = b"<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = _fail

    def log_message(self, *args: Any) -> None:
        pass


def test_s3_retries_a_few_times_then_unavailable_when_server_errors(aws_env: None) -> None:
    _Failing.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        blobs = S3BlobStore("s3://svertka", endpoint=f"http://127.0.0.1:{server.server_port}",
                            max_bytes=10**6)
        with pytest.raises(StoreUnavailableError):
            blobs.meta("images", make_id(b"x"))
        assert _Failing.hits == ["GET"] * S3_MAX_ATTEMPTS  # retried, but not for long
        assert S3_MAX_ATTEMPTS <= 3
    finally:
        server.shutdown()
        server.server_close()


def test_s3_raises_unavailable_when_endpoint_never_answers(aws_env: None) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        blobs = S3BlobStore("s3://svertka", max_bytes=10**6, read_timeout=0.2,
                            endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(StoreUnavailableError):
            blobs.exists("images", make_id(b"x"))


def test_s3_client_times_out_within_seconds_when_defaults() -> None:
    blobs = S3BlobStore("s3://svertka", endpoint="http://127.0.0.1:9", max_bytes=1)
    config = blobs.client.meta.config
    assert config.connect_timeout <= 5 and config.read_timeout <= 10
    assert config.retries["total_max_attempts"] == S3_MAX_ATTEMPTS
