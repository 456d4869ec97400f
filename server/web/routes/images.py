"""Uploaded images: upload, fetch the original, fetch a PNG preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from starlette.responses import Response

from ...imaging.decode import downscale
from ...imaging.encode import encode_png
from ...store import StoredImage
from ..deps import LimiterDep, MultipartRoute, SettingsDep, StoreDep, read_upload, run_cpu, run_io
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.misc import ImageResponse

router = APIRouter(prefix="/api", tags=["images"], route_class=MultipartRoute,
                   responses=ERROR_RESPONSES)

_IMMUTABLE = "public, max-age=31536000, immutable"  # content-addressed: an id never changes


def image_response(record: StoredImage) -> ImageResponse:
    return ImageResponse(
        id=record.id, width=record.width, height=record.height, mode=record.mode,
        source_mode=record.source_mode, format=record.format, bytes=record.bytes,
        url=f"/api/images/{record.id}", preview_url=f"/api/images/{record.id}/preview",
    )


@router.post("/images", status_code=201, response_model=ImageResponse,
             responses={415: {"description": "Not an accepted image format, or a body that "
                                        "is not multipart/form-data."}})
async def upload_image(
    file: Annotated[UploadFile, File(description="PNG, JPEG (EXIF orientation applied), WebP, "
                                     "GIF (first frame), BMP or TIFF.")],
    settings: SettingsDep, store: StoreDep, limiter: LimiterDep, response: Response,
) -> ImageResponse:
    """Upload an image; the same bytes always get the same id, usable as `image_id`."""
    data = await read_upload(file, settings.max_upload_bytes)
    record = await run_cpu(limiter, store.add, data)
    response.headers["Location"] = f"/api/images/{record.id}"
    return image_response(record)


@router.get("/images/{image_id}", response_class=Response,
            responses={200: {"content": {"image/*": {}}, "description": "The original bytes."}})
async def get_image(image_id: str, store: StoreDep) -> Response:
    """Return the stored image exactly as uploaded."""
    # the store may be a disk or an S3 bucket away: never block the event loop on it
    record = await run_io(store.get, image_id)
    data = await run_io(store.read_bytes, image_id)
    return Response(data, media_type=record.media_type,
                    headers={"Cache-Control": _IMMUTABLE, "ETag": f'"{record.id}"'})


@router.get("/images/{image_id}/meta", response_model=ImageResponse)
async def get_image_meta(image_id: str, store: StoreDep) -> ImageResponse:
    """Describe a stored image (size, modes, format) without sending its bytes."""
    return image_response(await run_io(store.get, image_id))


@router.get("/images/{image_id}/preview", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "A PNG preview."}})
async def get_image_preview(
    image_id: str, store: StoreDep, settings: SettingsDep, limiter: LimiterDep,
    max_side: Annotated[int, Query(ge=1, le=4096, description="Longest side of the preview; "
                                   "never enlarged.")] = 512,
) -> Response:
    """Return the upright, flattened image as PNG, downscaled to `max_side`."""
    await run_io(store.get, image_id)

    def make() -> bytes:
        image = downscale(store.decoded(image_id).image, max_side)
        return encode_png(image, compress_level=settings.png_compress_level)

    png = await run_cpu(limiter, store.cached, (image_id, "preview", max_side), make)
    return Response(png, media_type="image/png", headers={"Cache-Control": _IMMUTABLE})
