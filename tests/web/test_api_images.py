"""Images: upload round trips, ids, previews, persistence, and every way an upload fails."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

FORMATS = [("PNG", "image/png", {}), ("JPEG", "image/jpeg", {"quality": 95}),
           ("WEBP", "image/webp", {"lossless": True}), ("GIF", "image/gif", {}),
           ("BMP", "image/bmp", {}), ("TIFF", "image/tiff", {})]


def _upload(client: Any, data: bytes, name: str = "photo.bin") -> Any:
    return client.post("/api/images", files={"file": (name, data, "application/octet-stream")})


@pytest.mark.parametrize(("fmt", "media", "options"), FORMATS, ids=[f[0] for f in FORMATS])
def test_upload_round_trips_when_format_supported(client: Any, make_image: Callable[..., bytes],
                                                  fmt: str, media: str, options: dict) -> None:
    data = make_image(fmt, (24, 16), **options)
    response = _upload(client, data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"], body["format"]) == (24, 16, fmt)
    assert body["mode"] in ("RGB", "L") and body["bytes"] == len(data)
    assert response.headers["location"] == f"/api/images/{body['id']}"
    stored = client.get(f"/api/images/{body['id']}")
    assert stored.status_code == 200
    assert stored.content == data
    assert stored.headers["content-type"] == media


def test_upload_gives_same_id_when_same_bytes(client: Any, make_image: Callable[..., bytes]
                                             ) -> None:
    data = make_image()
    assert _upload(client, data).json()["id"] == _upload(client, data).json()["id"]
    other = _upload(client, make_image(size=(9, 9))).json()["id"]
    assert other != _upload(client, data).json()["id"]


def test_upload_applies_exif_orientation_when_rotated(client: Any) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 CCW to display
    buffer = io.BytesIO()
    Image.new("RGB", (30, 10), (200, 10, 10)).save(buffer, format="JPEG", exif=exif)
    body = _upload(client, buffer.getvalue()).json()
    assert (body["width"], body["height"]) == (10, 30)
    conv = client.post("/api/conv", json={"image_id": body["id"], "color": "gray",
                                          "kernel": [[1.0]]}).json()
    assert conv["shape"] == [30, 10]


def test_image_survives_restart_when_same_data_dir(make_client: Callable[..., Any],
                                                   make_image: Callable[..., bytes]) -> None:
    data = make_image("PNG", (12, 8))
    image_id = _upload(make_client(), data).json()["id"]
    restarted = make_client()
    assert restarted.get(f"/api/images/{image_id}").content == data
    conv = restarted.post("/api/conv", json={"image_id": image_id, "color": "gray",
                                             "preset": "identity", "padding": "same"})
    assert conv.status_code == 200 and conv.json()["shape"] == [8, 12]


def test_preview_is_png_of_max_side_when_requested(client: Any, make_image: Callable[..., bytes]
                                                   ) -> None:
    image_id = _upload(client, make_image("JPEG", (40, 20))).json()["id"]
    response = client.get(f"/api/images/{image_id}/preview", params={"max_side": 10})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (10, 5)


def test_meta_describes_image_when_known(client: Any, make_image: Callable[..., bytes]) -> None:
    uploaded = _upload(client, make_image("PNG", (5, 7), mode="RGBA")).json()
    meta = client.get(f"/api/images/{uploaded['id']}/meta").json()
    assert meta == uploaded and meta["source_mode"] == "RGBA"


def test_upload_rejects_bytes_when_not_an_image(client: Any, assert_error: Callable) -> None:
    body = assert_error(_upload(client, b"hello, world"), 415, "file")
    assert body["code"] == "unsupported_media" and "PNG" in body["accepted"]


def test_upload_rejects_file_when_empty(client: Any, assert_error: Callable) -> None:
    assert_error(_upload(client, b""), 415, "file")


def test_upload_rejects_file_when_over_byte_limit(make_client: Callable[..., Any],
                                                  make_image: Callable[..., bytes],
                                                  assert_error: Callable) -> None:
    client = make_client(max_upload_bytes=1000)
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    body = assert_error(_upload(client, buffer.getvalue()), 413, "file")
    assert body["code"] == "too_large"


def test_upload_rejects_body_when_content_length_over_limit(make_client: Callable[..., Any],
                                                            assert_error: Callable) -> None:
    client = make_client(max_upload_bytes=1000)
    # refused from the header alone, before the body is read
    body = assert_error(_upload(client, b"x" * (200 * 1024)), 413, "body")
    assert body["code"] == "too_large"


def test_upload_rejects_image_when_decompression_bomb(make_client: Callable[..., Any],
                                                      assert_error: Callable) -> None:
    client = make_client(max_pixels=10_000)
    buffer = io.BytesIO()
    Image.new("L", (2000, 2000)).save(buffer, format="PNG")  # 4 Mpx in a few kilobytes
    body = assert_error(_upload(client, buffer.getvalue()), 413, "file")
    assert "pixels" in body["message"]


def test_upload_requires_file_field_when_missing(client: Any, assert_error: Callable) -> None:
    response = client.post("/api/images", files={"photo": ("a.png", b"x", "image/png")})
    assert_error(response, 422, "file")


def test_get_image_answers_404_when_unknown(client: Any, assert_error: Callable) -> None:
    body = assert_error(client.get("/api/images/0123456789abcdef0123"), 404, "image_id")
    assert body["code"] == "not_found"


def test_get_image_answers_404_when_id_malformed(client: Any, assert_error: Callable) -> None:
    assert_error(client.get("/api/images/..secret"), 404, "image_id")


def test_preview_answers_404_when_unknown(client: Any, assert_error: Callable) -> None:
    assert_error(client.get("/api/images/0123456789abcdef0123/preview"), 404, "image_id")


def test_preview_rejects_max_side_when_zero(client: Any, assert_error: Callable) -> None:
    sample = client.get("/api/samples").json()[0]["id"]
    assert_error(client.get(f"/api/images/{sample}/preview", params={"max_side": 0}), 422,
                 "max_side")


def test_upload_rejects_chunked_body_when_over_limit(make_client: Callable[..., Any],
                                                     assert_error: Callable) -> None:
    client = make_client(max_upload_bytes=1000)

    def chunks() -> Any:  # no Content-Length header: counted while streaming
        yield (b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
               b"Content-Type: image/png\r\n\r\n")
        for _ in range(200):
            yield b"x" * 1024
        yield b"\r\n--XyZ--\r\n"

    response = client.post("/api/images", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert assert_error(response, 413, "body")["code"] == "too_large"


def test_get_image_is_cacheable_when_content_addressed(client: Any,
                                                       make_image: Callable[..., bytes]) -> None:
    image_id = _upload(client, make_image()).json()["id"]
    response = client.get(f"/api/images/{image_id}")
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["etag"] == f'"{image_id}"'
