"""Sample photos shipped in ``static/samples`` (public domain / CC0), ingested at start-up."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from ...imaging.decode import ImageError
from ...store import ImageStore
from ..schemas.misc import SampleResponse

router = APIRouter(prefix="/api", tags=["images"])
log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parents[3] / "static" / "samples"


def ingest_samples(store: ImageStore, directory: Path = SAMPLES_DIR) -> list[dict[str, Any]]:
    """Add every photo of ``samples.json`` to the store (pinned); return their listings.

    A missing or broken sample is logged and skipped: the app must start without them.
    """
    manifest = directory / "samples.json"
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning("no sample photos: cannot read %s (%s)", manifest, error)
        return []
    samples = []
    for entry in entries:
        try:
            record = store.add((directory / entry["file"]).read_bytes(), pinned=True)
        except (OSError, KeyError, ImageError) as error:
            log.warning("skipping sample %r: %s", entry.get("name"), error)
            continue
        samples.append({
            "name": entry["name"], "id": record.id, "title_en": entry["title_en"],
            "title_ru": entry["title_ru"], "width": record.width, "height": record.height,
            "license": entry["license"], "credit": entry["credit"],
            "url": f"/api/images/{record.id}",
        })
    return samples


@router.get("/samples", response_model=list[SampleResponse])
async def list_samples(request: Request) -> list[dict[str, Any]]:
    """List the sample photos; each `id` works as `image_id` right away."""
    return request.app.state.samples
