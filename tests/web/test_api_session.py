"""The issue's "done when": a client that follows /docs gets from a photo to frames and a PNG."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image


def test_session_follows_docs_when_new_client(client: Any, make_image: Any) -> None:
    spec = client.get("/openapi.json").json()
    assert "POST /api/images" in spec["info"]["description"]

    uploaded = client.post("/api/images", files={"file": ("me.jpg", make_image("JPEG", (80, 60)),
                                                          "image/jpeg")})
    assert uploaded.status_code == 201
    image_id = uploaded.json()["id"]
    preset = client.get("/api/kernels").json()[0]["name"]

    conv = client.post("/api/conv", json={"image_id": image_id, "preset": preset,
                                          "padding": "same"})
    assert conv.status_code == 200 and conv.json()["shape"] == [1, 60, 80]

    offset, seen, pages = 0, 0, 0
    while offset is not None and pages < 10:
        pages += 1
        page = client.post("/api/frames", json={"image_id": image_id, "preset": preset,
                                                "padding": "same", "offset": offset,
                                                "limit": 1000}).json()
        seen += len(page["frames"])
        offset = page["next_offset"]
    assert seen == page["total"] == 60 * 80

    png = client.post("/api/conv/render", json={"image_id": image_id, "preset": preset,
                                                "padding": "same",
                                                "display": {"mode": "signed"}})
    assert Image.open(io.BytesIO(png.content)).size == (80, 60)
