"""A training stream whose client leaves before the first byte gives its page's slot back.

The requests are made at the ASGI level, like a server would: the client's disconnect is either
announced through ``receive`` (ASGI before 2.4, where Starlette listens for it and cancels the
response before it starts) or raised by ``send`` (ASGI 2.4, what uvicorn does for a closed
socket). Either way the body is never iterated; the slot must be released all the same, or the
page could never train again until the server restarts.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect

CLIENT = "page-gone-0001"


async def _leave_before_first_byte(app: Any, spec_version: str) -> list[int]:
    """POST a training run, vanish before any body byte; the statuses the app tried to send."""
    body = json.dumps({"epochs": 1, "client": CLIENT}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/digits/train", "raw_path": b"/api/digits/train", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
        "state": {},
    }
    received = [False]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        if not received[0]:
            received[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        if spec_version >= "2.4":
            raise OSError("the client closed the connection")  # uvicorn's ClientDisconnected

    with contextlib.suppress(OSError, ClientDisconnect):  # how a vanished client surfaces
        await app(scope, receive, send)
    return statuses


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
def test_training_slot_released_when_client_leaves_before_first_byte(
        make_client: Callable[..., TestClient], spec_version: str) -> None:
    client = make_client(max_training_jobs=1)
    for _ in range(3):  # a leaked slot would make the second attempt a 409 (and then a 503)
        statuses = client.portal.call(_leave_before_first_byte, client.app, spec_version)
        assert statuses in ([], [200]), statuses
    assert client.app.state.training_jobs.clients == set()
    # and the page can still train for real afterwards
    response = client.post("/api/digits/train", json={"epochs": 1, "client": CLIENT,
                                                      "batch_size": 256})
    assert response.status_code == 200 and b"event: done" in response.content
