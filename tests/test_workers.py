"""Several workers (``svertka serve --workers 2``) share the store: an upload answered by one
worker is served by the other. Which process answered is in the ``X-Svertka-Worker`` header, an
opaque random name per process (never its pid)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from live_server import LiveServer, wait_until


def _fresh(url: str) -> httpx.Client:
    # no keep-alive: the kernel hands each new connection to whichever worker accepts it first,
    # so successive clients reach both workers
    return httpx.Client(base_url=url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def _children(pid: int) -> set[str]:
    """Pids of the processes ``pid`` started (the workers), from /proc."""
    found: set[str] = set()
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        found.update(tasks.read_text().split())
    return found


def test_workers_share_upload_when_two_serve(tmp_path: Path,
                                             make_image: Callable[..., bytes]) -> None:
    data = make_image("PNG", (30, 20))
    with LiveServer(tmp_path / "data", "--workers", "2") as server:
        with _fresh(server.url) as client:
            answer = client.post("/api/images", files={"file": ("a.png", data, "image/png")})
        assert answer.status_code == 201, answer.text
        image_id, uploader = answer.json()["id"], answer.headers["x-svertka-worker"]
        answers: list[httpx.Response] = []

        def another_worker_answered() -> bool:
            with _fresh(server.url) as client:
                answers.append(client.get(f"/api/images/{image_id}"))
            return answers[-1].headers["x-svertka-worker"] != uploader

        wait_until(another_worker_answered, 120, "a request answered by the second worker")
        other = answers[-1]
        assert other.status_code == 200 and other.content == data
        assert server.process is not None
        names = {uploader, other.headers["x-svertka-worker"]}
        assert all(re.fullmatch(r"[0-9a-f]{16}", name) for name in names), names
        assert names.isdisjoint({str(server.process.pid), *_children(server.process.pid)})
        # the second worker computes on it too, not only hands out the bytes
        convs: list[httpx.Response] = []

        def another_worker_computed() -> bool:
            with _fresh(server.url) as client:
                convs.append(client.post("/api/conv", json={
                    "image_id": image_id, "color": "gray", "preset": "box_blur_3x3",
                    "padding": "same"}))
            return convs[-1].headers["x-svertka-worker"] != uploader

        wait_until(another_worker_computed, 120, "a convolution by the second worker")
        assert convs[-1].status_code == 200 and convs[-1].json()["shape"] == [20, 30]
