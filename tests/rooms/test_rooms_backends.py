"""The two backends behind one interface: room limits and expiry after inactivity, the same tests
on each (the Redis one on its own database of the session's redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rooms_support import run

from server.rooms import MemoryBackend, RoomGone, TooManyRooms
from server.rooms.protocol import Answer, Poll

Factory = Callable[..., Any]


@pytest.fixture(params=["memory", "redis"])
def make_backend(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """Build a backend with the given ttl and room limit, on an empty store."""
    if request.param == "memory":
        yield lambda **kw: MemoryBackend(**kw)
        return
    import redis as sync_redis

    from server.rooms.redis_backend import RedisBackend

    url = f"{request.getfixturevalue('redis_url')}/1"
    sync_redis.from_url(url).flushdb()
    yield lambda **kw: RedisBackend(url, **kw)


async def _until(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + 15
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def test_room_limit_refuses_one_more_room(make_backend: Factory) -> None:
    async def go() -> None:
        backend = make_backend(ttl=60, max_rooms=2)
        try:
            assert await backend.create("AAAAAA", "t" * 20)
            assert await backend.create("BBBBBB", "t" * 20)
            assert not await backend.create("AAAAAA", "u" * 20)  # a taken code
            with pytest.raises(TooManyRooms):
                await backend.create("CCCCCC", "t" * 20)
        finally:
            await backend.close()

    run(go())


def test_room_expires_after_inactivity_and_frees_its_place(make_backend: Factory) -> None:
    async def go() -> None:
        backend = make_backend(ttl=0.2, max_rooms=1)
        try:
            assert await backend.create("AAAAAA", "t" * 20)
            assert await backend.teacher_token("AAAAAA") == "t" * 20

            async def gone() -> bool:
                try:
                    await backend.teacher_token("AAAAAA")
                except RoomGone:
                    return True
                return False

            await _until(gone, "the room to expire")
            with pytest.raises(RoomGone):
                await backend.set_state("AAAAAA", "{}")
            assert await backend.create("BBBBBB", "t" * 20)  # the limit counts live rooms
        finally:
            await backend.close()

    run(go())


def test_activity_keeps_a_memory_room_alive() -> None:
    now = [0.0]
    backend = MemoryBackend(ttl=10, max_rooms=5, clock=lambda: now[0])

    async def go() -> None:
        await backend.create("AAAAAA", "t" * 20)
        for _ in range(5):
            now[0] += 8  # 40 s in all, never 10 s idle
            await backend.set_state("AAAAAA", '{"a":1}')
        now[0] += 10.5
        with pytest.raises(RoomGone):
            await backend.teacher_token("AAAAAA")

    run(go())


def test_backends_agree_on_a_poll(make_backend: Factory) -> None:
    async def go() -> None:
        backend = make_backend(ttl=60, max_rooms=5)
        got: list[str] = []
        try:
            await backend.listen(lambda code, payload: got.append(payload))
            await backend.create("AAAAAA", "t" * 20)
            snap = await backend.join("AAAAAA", teacher=False, member=None, new_member="m" * 20,
                                      max_members=5)
            await backend.open_poll("AAAAAA", Poll("p", "?", ["a", "b"]))
            await backend.answer("AAAAAA", snap.member, Answer("p", 1))
            await backend.set_state("AAAAAA", '{"x":1}')
            teacher = await backend.join("AAAAAA", teacher=True, member=None,
                                         new_member="n" * 20, max_members=5)
            assert (teacher.seq, teacher.state, teacher.counts, teacher.online) == (
                1, '{"x":1}', [0, 1], 1)
            await _until(lambda: _true(len(got) >= 4), "four broadcasts")
            assert got == [
                't|0|{"type":"members","count":1}',
                'a|0|{"type":"poll","poll":"p","question":"?","choices":["a","b"]}',
                't|0|{"type":"results","poll":"p","counts":[0,1]}',
                'a|1|{"type":"state","seq":1,"state":{"x":1}}',
            ]
        finally:
            await backend.close()

    run(go())


async def _true(value: bool) -> bool:
    return value
