"""The event loop never parses or validates a big JSON body: both run in a worker thread, and
the route gets the validated model, which FastAPI passes through without validating again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from server.web import deps
from server.web.schemas.conv import ConvRequest


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    calls: list[tuple[int, Any]] = []
    original = deps._parse_and_validate

    def recording(body: bytes, model: Any) -> Any:
        result = original(body, model)
        calls.append((threading.get_ident(), result))
        return result

    monkeypatch.setattr(deps, "_parse_and_validate", recording)
    return calls


def _big_body(**extra: Any) -> dict[str, Any]:
    values = np.arange(40_000, dtype=np.float64) % 7
    body = {"input": values.tolist(), "kernel": [1.0, 0.0, -1.0], **extra}
    assert len(str(body)) > deps.THREAD_PARSE_BYTES
    return body


def test_big_body_validated_off_loop_when_valid(client: Any,
                                                spy: list[tuple[int, Any]]) -> None:
    answer = client.post("/api/conv", json=_big_body())
    assert answer.status_code == 200 and answer.json()["shape"] == [39_998]
    loop_thread = client.portal.call(threading.get_ident)
    assert len(spy) == 1
    thread, result = spy[0]
    assert thread != loop_thread and isinstance(result, ConvRequest)


def test_big_body_reports_like_small_when_invalid(
        client: Any, spy: list[tuple[int, Any]], assert_error: Callable[..., dict[str, Any]]
) -> None:
    big = assert_error(client.post("/api/conv", json=_big_body(padding_mode="mirror")),
                       422, "padding_mode")
    small = assert_error(client.post("/api/conv", json={"input": [1, 2, 3], "kernel": [1, 0],
                                                        "padding_mode": "mirror"}),
                         422, "padding_mode")
    assert big["message"] == small["message"] and big["code"] == small["code"]
    assert len(spy) == 1 and isinstance(spy[0][1], dict)  # FastAPI validated it again
