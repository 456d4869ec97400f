"""The rooms' HTTP side: creating rooms up to the limit, the student's page, the OpenAPI entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_room_beyond_the_limit_is_a_429_envelope(make_client: Callable[..., Any],
                                                  assert_error: Callable[..., Any]) -> None:
    client = make_client(max_rooms=2)
    codes = {client.post("/api/rooms").json()["room"] for _ in range(2)}
    assert len(codes) == 2
    body = assert_error(client.post("/api/rooms"), 429, None)
    assert body["code"] == "limit" and "SVERTKA_MAX_ROOMS" in body["accepted"]


def test_room_page_carries_its_code_and_the_common_controls(client: Any) -> None:
    r = client.get("/room/k7qx3m")
    assert r.status_code == 200
    html = r.text
    assert 'data-room="K7QX3M"' in html
    for hook in ("projector-toggle", "lang-en", "lang-ru", "room-frame", "room-status"):
        assert f'data-testid="{hook}"' in html


def test_every_page_offers_a_live_room(client: Any) -> None:
    for path in ("/", "/step", "/network"):
        assert 'data-testid="live-start"' in client.get(path).text


def test_openapi_lists_the_room_endpoint(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/api/rooms"]["post"]["operationId"] == "create_room"
