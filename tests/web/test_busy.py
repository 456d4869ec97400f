"""A bounded queue in front of the CPU threads: when it is full the answer is 503 with
``Retry-After`` instead of another request parked in memory; health is never refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from event_loop import run_async

from server.web.deps import cpu_limiter, run_cpu
from server.web.errors import ApiError

BODY = {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 0], [0, -1]]}


def test_run_cpu_refuses_when_slots_and_queue_full() -> None:
    async def main() -> None:
        limiter = cpu_limiter(1, 1)
        release = anyio.Event()
        done = []

        async def occupy() -> None:
            # the thread waits for the loop's event: deterministic, no sleeping
            done.append(await run_cpu(limiter, anyio.from_thread.run, release.wait))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(occupy)  # computes
            while limiter.statistics().borrowed_tokens < 1:
                await anyio.sleep(0)
            tasks.start_soon(occupy)  # waits in the queue (depth 1)
            while limiter.statistics().tasks_waiting < 1:
                await anyio.sleep(0)
            with pytest.raises(ApiError) as refused:
                await run_cpu(limiter, int, "1")
            release.set()
        assert len(done) == 2
        assert refused.value.status == 503 and refused.value.code == "busy"
        assert refused.value.headers == {"Retry-After": "1"}
        assert await run_cpu(limiter, int, "7") == 7  # free again

    run_async(main)


def test_api_answers_503_with_retry_after_when_queue_full(
        make_client: Callable[..., Any], assert_error: Callable[..., dict[str, Any]]) -> None:
    client = make_client(max_concurrency=1, queue_depth=0)
    limiter = client.app.state.limiter
    holder = object()
    client.portal.call(limiter.acquire_on_behalf_of, holder)  # the one slot is busy
    try:
        answer = client.post("/api/conv", json=BODY)
        body = assert_error(answer, 503, None)
        assert body["code"] == "busy" and "busy" in body["message"]
        assert answer.headers["retry-after"] == "1"
        assert client.get("/api/health").status_code == 200  # no CPU slot needed
        upload = client.post("/api/images", files={"file": ("a.png", b"x", "image/png")})
        assert upload.status_code == 503  # refused before the body is read
    finally:
        client.portal.call(limiter.release_on_behalf_of, holder)
    assert client.post("/api/conv", json=BODY).status_code == 200


def test_api_waits_for_slot_when_queue_has_room(make_client: Callable[..., Any]) -> None:
    client = make_client(max_concurrency=1, queue_depth=1)
    limiter = client.app.state.limiter
    holder = object()
    answers: list[Any] = []
    client.portal.call(limiter.acquire_on_behalf_of, holder)
    waiter = threading.Thread(target=lambda: answers.append(client.post("/api/conv", json=BODY)))
    waiter.start()
    deadline = time.monotonic() + 30
    while client.portal.call(limiter.statistics).tasks_waiting < 1:  # queued, not refused
        assert not answers and time.monotonic() < deadline
        time.sleep(0.01)
    client.portal.call(limiter.release_on_behalf_of, holder)
    waiter.join(timeout=30)
    assert answers[0].status_code == 200
