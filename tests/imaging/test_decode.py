"""Decoding uploads: formats, EXIF orientation, flattening, limits."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from server.imaging.decode import (
    ImageTooLargeError,
    UnsupportedImageError,
    decode_image,
    downscale,
    to_array,
)

FORMATS = [("PNG", {}), ("JPEG", {"quality": 95}), ("WEBP", {"lossless": True}), ("GIF", {}),
           ("BMP", {}), ("TIFF", {})]


@pytest.mark.parametrize(("fmt", "options"), FORMATS, ids=[f for f, _ in FORMATS])
def test_decode_reads_format_when_supported(make_image: Callable[..., bytes], fmt: str,
                                            options: dict) -> None:
    decoded = decode_image(make_image(fmt, (24, 16), **options))
    assert decoded.format == fmt
    assert (decoded.width, decoded.height) == (24, 16)
    assert decoded.mode in ("RGB", "L")


def test_decode_applies_exif_orientation_when_rotated() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 10, 20))  # blue stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    decoded = decode_image(buffer.getvalue())
    assert (decoded.width, decoded.height) == (20, 40)
    top = np.asarray(decoded.image)[2, 10]
    assert top[2] > 200 and top[0] < 60  # the left stripe is now at the top


def test_decode_takes_first_frame_when_animated() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    pixel = np.asarray(decode_image(buffer.getvalue()).image.convert("RGB"))[4, 4]
    assert pixel.tolist() == [255, 0, 0]


def test_decode_composites_on_white_when_transparent() -> None:
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    decoded = decode_image(buffer.getvalue())
    assert decoded.source_mode == "RGBA"
    assert np.asarray(decoded.image).min() == 255


def test_decode_scales_16_bit_when_deep() -> None:
    image = Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    decoded = decode_image(buffer.getvalue())
    assert decoded.mode == "L"
    assert np.asarray(decoded.image).max() == 255


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n garbage"],
                         ids=["empty", "text", "broken-png"])
def test_decode_rejects_bytes_when_not_an_image(data: bytes) -> None:
    with pytest.raises(UnsupportedImageError):
        decode_image(data)


def test_decode_rejects_format_when_not_listed() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PPM")
    with pytest.raises(UnsupportedImageError, match="PPM"):
        decode_image(buffer.getvalue())


def test_decode_rejects_file_when_truncated(make_image: Callable[..., bytes]) -> None:
    data = make_image("JPEG", (64, 64))
    with pytest.raises(UnsupportedImageError):
        decode_image(data[: len(data) // 3])


def test_decode_rejects_image_when_over_pixel_limit(make_image: Callable[..., bytes]) -> None:
    with pytest.raises(ImageTooLargeError, match="pixels"):
        decode_image(make_image("PNG", (20, 20)), max_pixels=399)


def test_decode_rejects_bomb_when_pillow_guard_trips(make_image: Callable[..., bytes],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)
    for size in ((10, 10), (20, 20)):  # warning range, then error range
        with pytest.raises(ImageTooLargeError):
            decode_image(make_image("PNG", size))


def test_decode_names_our_limit_when_pillow_guard_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    bmp = (b"BM" + struct.pack("<IHHI", 0, 0, 0, 54)  # a header declaring 30000 x 30000
           + struct.pack("<IiiHHIIiiII", 40, 30_000, 30_000, 1, 24, 0, 0, 0, 0, 0, 0))
    with pytest.raises(ImageTooLargeError) as caught:
        decode_image(bmp, max_pixels=1000)
    assert "900000000 pixels" in caught.value.message
    assert "limit of 1000 " in caught.value.message and "2000" not in caught.value.message


def test_decode_message_is_plain_when_unidentified() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\xff" * 40)
    assert "BytesIO" not in caught.value.message and "PNG" in caught.value.message


def test_to_array_gives_channels_first_when_rgb(make_image: Callable[..., bytes]) -> None:
    decoded = decode_image(make_image("PNG", (24, 16)))
    array = to_array(decoded, "rgb")
    assert array.shape == (3, 16, 24) and array.dtype == np.float32
    assert np.array_equal(array.transpose(1, 2, 0), np.asarray(decoded.image, dtype=np.float32))


def test_to_array_matches_pillow_luma_when_gray(make_image: Callable[..., bytes]) -> None:
    decoded = decode_image(make_image("PNG", (24, 16)))
    array = to_array(decoded, "gray")
    assert array.shape == (16, 24)
    assert np.array_equal(array, np.asarray(decoded.image.convert("L"), dtype=np.float32))


def test_to_array_downscales_when_max_side_given(make_image: Callable[..., bytes]) -> None:
    decoded = decode_image(make_image("PNG", (40, 20)))
    assert to_array(decoded, "gray", max_side=10).shape == (5, 10)
    assert to_array(decoded, "gray", max_side=400).shape == (20, 40)  # never enlarges


def test_to_array_rejects_color_when_unknown(make_image: Callable[..., bytes]) -> None:
    with pytest.raises(ValueError, match="color"):
        to_array(decode_image(make_image()), "cmyk")


def test_downscale_keeps_aspect_when_shrinking() -> None:
    assert downscale(Image.new("L", (1000, 10)), 100).size == (100, 1)
