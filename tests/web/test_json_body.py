"""Strict JSON bodies: a big one is parsed in a worker thread, so the event loop keeps serving
other requests meanwhile, and it is refused for the same reasons and in the same envelope as a
small one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import orjson
import pytest
from event_loop import run_async

from server.config import Settings
from server.web import deps
from server.web.app import create_app

JSON = {"content-type": "application/json"}
SMALL = b'{"input": [[1, 2], [3, 4]], "kernel": [[1]]}'


def _big_body(text: bytes = b"1") -> bytes:
    """A valid /api/conv body just over the threshold, cheap to compute: one long row."""
    count = deps.THREAD_PARSE_BYTES // 2 + 1
    body = b'{"input": [[' + b",".join([text] * count) + b']], "kernel": [[1]]}'
    assert len(body) > deps.THREAD_PARSE_BYTES
    return body


def _post_in_loop(app: Any, body: bytes) -> tuple[httpx.Response, threading.Thread]:
    """POST ``body`` to /api/conv in an event loop of our own; answer it and the loop's thread."""

    async def run() -> tuple[httpx.Response, threading.Thread]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svertka") as client:
            return await client.post("/api/conv", content=body, headers=JSON), \
                threading.current_thread()

    return run_async(run)


def _record_threads(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    threads: list[threading.Thread] = []
    real = deps.parse_json

    def recording(body: bytes) -> Any:
        threads.append(threading.current_thread())
        return real(body)

    monkeypatch.setattr(deps, "parse_json", recording)
    return threads


def test_big_body_is_parsed_off_the_event_loop(settings: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _record_threads(monkeypatch)
    response, loop_thread = _post_in_loop(create_app(settings), _big_body())
    assert response.status_code == 200, response.text
    assert len(threads) == 1 and threads[0] is not loop_thread


def test_small_body_is_parsed_on_the_event_loop(settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # a thread hand-off costs more than parsing a small body
    threads = _record_threads(monkeypatch)
    response, loop_thread = _post_in_loop(create_app(settings), SMALL)
    assert response.status_code == 200, response.text
    assert threads == [loop_thread]


def test_health_answers_while_big_body_parses(settings: Settings,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse of the big body is held until /api/health has answered; no timing involved:
    were the parse on the event loop, the health request could not start at all."""
    app = create_app(settings)
    real = deps.parse_json
    parsing, health_done = threading.Event(), threading.Event()
    loop_threads: list[threading.Thread] = []

    def held(body: bytes) -> Any:
        if threading.current_thread() in loop_threads:
            return real(body)  # on the loop: blocking here would hang the test, not fail it
        parsing.set()
        assert health_done.wait(30), "the health request never came back"
        return real(body)

    monkeypatch.setattr(deps, "parse_json", held)

    async def run() -> None:
        loop_threads.append(threading.current_thread())
        transport = httpx.ASGITransport(app=app)
        answers: dict[str, httpx.Response] = {}
        async with (httpx.AsyncClient(transport=transport, base_url="http://svertka") as client,
                    anyio.create_task_group() as tg):

            async def big() -> None:
                answers["big"] = await client.post("/api/conv", content=_big_body(),
                                                   headers=JSON)

            tg.start_soon(big)
            with anyio.fail_after(30):
                # until a worker thread is inside the parser (or the request is over: then it
                # was parsed on the loop)
                while not parsing.is_set() and "big" not in answers:
                    await anyio.sleep(0.001)
            assert parsing.is_set(), "the big body was parsed on the event loop"
            answers["health"] = await client.get("/api/health")
            assert "big" not in answers  # its body is still being parsed
            health_done.set()
        assert answers["health"].status_code == 200
        assert answers["big"].status_code == 200, answers["big"].text

    run_async(run)


def _assert_big_error(make_client: Callable[..., Any], assert_error: Any, body: bytes,
                      field: str) -> dict[str, Any]:
    assert len(body) > deps.THREAD_PARSE_BYTES
    client = make_client()
    envelope = assert_error(client.post("/api/conv", content=body, headers=JSON), 422, field)
    assert client.get("/api/health").status_code == 200
    return envelope


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_big_body_rejects_non_finite_when_literal(make_client: Callable[..., Any],
                                                  assert_error: Any, literal: str) -> None:
    body = _big_body().replace(b"[[1,", f"[[{literal},".encode(), 1)
    envelope = _assert_big_error(make_client, assert_error, body, "body")
    assert literal in envelope["message"] and "finite" in envelope["accepted"]


def test_big_body_rejects_nesting_when_too_deep(make_client: Callable[..., Any],
                                                assert_error: Any) -> None:
    depth = deps.THREAD_PARSE_BYTES  # deeper than orjson's 1024 and Python's recursion limit
    body = b"[" * depth + b"]" * depth
    envelope = _assert_big_error(make_client, assert_error, body, "body")
    assert "nested too deeply" in envelope["message"]


def test_big_body_rejects_json_when_malformed(make_client: Callable[..., Any],
                                              assert_error: Any) -> None:
    envelope = _assert_big_error(make_client, assert_error, _big_body()[:-1], "body")
    assert "not valid JSON" in envelope["message"]


def test_big_body_rejects_text_when_not_numbers(make_client: Callable[..., Any],
                                                assert_error: Any) -> None:
    # parsed fine in the worker, then the schema and the array checks run as for a small body
    body = _big_body(b'"a"')
    _assert_big_error(make_client, assert_error, body, "input")


def test_big_body_round_trips_numbers_exactly(settings: Settings) -> None:
    values = [0.1 * i - 7.3 for i in range(deps.THREAD_PARSE_BYTES // 20)]
    body = orjson.dumps({"input": [values], "kernel": [[1.0]]})
    response, _ = _post_in_loop(create_app(settings), body)
    assert response.status_code == 200, response.text
    assert response.json()["output"] == [values]
