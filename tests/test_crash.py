"""Crash safety: ``kill -9`` during uploads loses nothing acknowledged and leaves no half entry.

A real server process takes uploads from several threads at once; after some are acknowledged
(201) the whole process group is killed with SIGKILL while others are still being sent and
written. A new server on the same data directory must then serve every acknowledged upload byte
for byte, and every entry the store has must be whole: its bytes hash to its id.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from pathlib import Path

import httpx
import numpy as np
from live_server import LiveServer, wait_until
from PIL import Image

from server.store import ID_LENGTH, ImageStore

UPLOADERS = 6
KILL_AFTER = 12


def _photo(seed: int) -> bytes:
    # noise as BMP: about 0.5 MB that takes a while to send and write, unlike a tiny PNG
    pixels = np.random.default_rng(seed).integers(0, 256, (400, 420, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="BMP")
    return buffer.getvalue()


def test_kill_loses_nothing_acknowledged_when_uploads_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    acknowledged: dict[str, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()
    server = LiveServer(data_dir).start()

    def upload_forever(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for n in range(10_000):
                if stop.is_set():
                    return
                photo = _photo(worker * 10_000 + n)
                try:
                    answer = client.post("/api/images",
                                         files={"file": ("p.bmp", photo, "image/bmp")})
                except httpx.HTTPError:
                    return  # the server died under this request: not acknowledged
                if answer.status_code == 201:
                    with lock:
                        acknowledged[answer.json()["id"]] = photo

    threads = [threading.Thread(target=upload_forever, args=(i,)) for i in range(UPLOADERS)]
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: len(acknowledged) >= KILL_AFTER, 240, f"{KILL_AFTER} uploads")
        server.kill()  # SIGKILL to the whole group, uploads still in flight
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        server.stop()
    assert len(acknowledged) >= KILL_AFTER

    # no half entry: every meta has its data, whose hash is its id, of the recorded size
    images = data_dir / "images"
    for meta in images.glob("*.json"):
        record = json.loads(meta.read_text())
        data = (images / f"{meta.stem}.img").read_bytes()
        assert hashlib.sha256(data).hexdigest()[:ID_LENGTH] == meta.stem == record["id"]
        assert len(data) == record["bytes"]
    store = ImageStore(images, max_bytes=1 << 40)
    for image_id in store.ids():
        assert hashlib.sha256(store.read_bytes(image_id)).hexdigest()[:ID_LENGTH] == image_id

    # everything acknowledged is served again, byte for byte, by a restarted server
    with LiveServer(data_dir) as again, httpx.Client(base_url=again.url, timeout=60) as client:
        for image_id, photo in acknowledged.items():
            answer = client.get(f"/api/images/{image_id}")
            assert answer.status_code == 200, (image_id, answer.text)
            assert answer.content == photo
