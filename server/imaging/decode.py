"""Decode uploaded bytes into an upright RGB or grey Pillow image, and images into arrays.

Pillow does the decoding; this module adds what a web service needs around it: a whitelist of
formats, the pixel limit checked from the header before any pixel is decoded (a decompression
bomb costs nothing to reject), EXIF orientation applied (phones store photos sideways), and one
flat colour model (alpha composited on white) so every later step sees "L" or "RGB".
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "FORMATS",
    "DecodedImage",
    "ImageError",
    "ImageTooLargeError",
    "UnsupportedImageError",
    "decode_image",
    "downscale",
    "to_array",
]

# Pillow format name -> media type. MPO is how Pillow names multi-picture JPEGs from phones.
FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
ACCEPTED = "a PNG, JPEG, WebP, GIF (first frame), BMP or TIFF image"
DEFAULT_MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """Bytes that cannot become an image here; ``status`` is the HTTP status it maps to."""

    status = 415
    code = "unsupported_media"

    def __init__(self, message: str, *, accepted: str = ACCEPTED) -> None:
        super().__init__(message)
        self.message = message
        self.accepted = accepted


class UnsupportedImageError(ImageError):
    """Not an image, a format outside `FORMATS`, or a damaged file."""


class ImageTooLargeError(ImageError):
    """More pixels than the limit (a decompression bomb or simply a huge photo)."""

    status = 413
    code = "too_large"


@dataclass(frozen=True)
class DecodedImage:
    """An upright image in mode "L" or "RGB", with facts about the file it came from."""

    image: Image.Image
    format: str
    source_mode: str

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def mode(self) -> str:
        return self.image.mode

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode ``data`` (first frame of animations), apply EXIF orientation, flatten to L/RGB.

    Cost: one full decode, O(pixels) time and memory; rejected files cost only their header.
    """
    if not data:
        raise UnsupportedImageError("`file` is empty: send the bytes of an image")
    with warnings.catch_warnings():
        # Pillow warns (then errors at twice the limit) for big images; both mean "too large"
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _too_many_pixels(error, max_pixels) from error
        except UnidentifiedImageError as error:
            # Pillow's message only repeats "cannot identify image file <BytesIO ...>"
            raise UnsupportedImageError(
                f"`file` is not a PNG, JPEG, WebP, GIF, BMP or TIFF image (or it is damaged at "
                f"the start): its first bytes are {data[:8]!r}"
            ) from error
        except Exception as error:  # noqa: BLE001 - decoders raise anything on hostile bytes
            raise UnsupportedImageError(f"`file` is a damaged image: {error}") from error
        if image.format not in FORMATS:
            raise UnsupportedImageError(f"`file` is a {image.format} image, which is not accepted")
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLargeError(
                f"`file` is {width}x{height} = {width * height} pixels, more than the limit of "
                f"{max_pixels}",
                accepted=f"images of at most {max_pixels} pixels; downscale the photo first",
            )
        source_mode = image.mode
        try:
            image.seek(0)
            image.load()
            flat = _flatten(_upright(image))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _too_many_pixels(error, max_pixels) from error
        except Exception as error:  # noqa: BLE001 - decoders raise anything on hostile bytes
            raise UnsupportedImageError(
                f"`file` looks like {image.format} but cannot be decoded: {error}"
            ) from error
    return DecodedImage(flat, image.format, source_mode)


def _too_many_pixels(error: Exception, max_pixels: int) -> ImageTooLargeError:
    """Pillow's bomb guard, in our words: its own message quotes its limit (twice ours)."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    size = f"{found.group(1)} pixels" if found else "too many pixels"
    return ImageTooLargeError(
        f"`file` declares {size}, more than the limit of {max_pixels} (a decompression-bomb "
        "guard: the header is checked before any pixel is decoded)",
        accepted=f"images of at most {max_pixels} pixels (SVERTKA_MAX_PIXELS); downscale the "
        "photo first",
    )


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        # a damaged EXIF block should not cost the user the picture
        return image


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        # 16-bit files use 0..65535; Pillow's own convert("L") would clip instead of scale
        if image.mode != "F" and values.max(initial=0) > 255:
            values = values / 257.0
        return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), mode="L")
    if image.mode == "1":
        return image.convert("L")
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        # transparent pixels keep arbitrary colours underneath: show them as white paper
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(background, rgba).convert("RGB")
        grey = image.mode in ("LA", "La") or (image.mode == "P" and _palette_is_grey(image))
        return flat.convert("L") if grey else flat
    if image.mode == "P" and _palette_is_grey(image):
        return image.convert("L")
    return image.convert("RGB")


def _palette_is_grey(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    triples = np.asarray(palette[: len(palette) // 3 * 3]).reshape(-1, 3)
    return bool(triples.size) and bool((triples == triples[:, :1]).all())


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """``(width, height)`` after `downscale` with ``max_side``, without touching any pixel."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def downscale(image: Image.Image, max_side: int | None) -> Image.Image:
    """Shrink ``image`` so its longer side is at most ``max_side`` (never enlarges).

    Lanczos with a reducing gap: a box pre-reduction keeps big reductions fast and alias-free.
    """
    size = scaled_size(image.width, image.height, max_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def to_array(
    image: DecodedImage | Image.Image, color: str = "rgb", max_side: int | None = None
) -> np.ndarray:
    """Pixel values 0..255 as float32: ``(3, H, W)`` for ``"rgb"``, ``(H, W)`` for ``"gray"``.

    ``"gray"`` is Pillow's ``convert("L")`` (ITU-R 601-2 luma), as DESIGN §3 fixes.
    Cost: O(pixels) time, 12 bytes per pixel for rgb.
    """
    pil = image.image if isinstance(image, DecodedImage) else image
    pil = downscale(pil, max_side)
    if color == "gray":
        return np.asarray(pil.convert("L"), dtype=np.float32)
    if color == "rgb":
        rgb = np.asarray(pil.convert("RGB"), dtype=np.float32)
        return np.ascontiguousarray(rgb.transpose(2, 0, 1))
    raise ValueError(f'`color` must be "rgb" or "gray", got {color!r}')
