"""Rooms in Redis: state, seq, polls and answers in keys, broadcasts over Redis pub/sub.

With ``SVERTKA_REDIS_URL`` set, every worker (and every machine) sharing the Redis server shares
the rooms: a student connected to one worker follows a teacher connected to another. Each change
is one Lua script that also PUBLISHes its broadcast, so the order of broadcasts is the order of
`seq`. Each worker listens to all rooms' channels with one pattern subscription; rooms expire by
Redis's own key expiry, `ttl` after their last activity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import redis.asyncio as aioredis

from . import _lua
from .backend import Deliver, RoomFull, RoomGone, Snapshot, TooManyRooms
from .protocol import Answer, Poll, ProtocolError, Reveal

log = logging.getLogger(__name__)

PREFIX = "svertka:room:"
CHANNEL = "svertka:room-channel:"
INDEX = "svertka:rooms"


class RedisBackend:
    """The `Backend` on a Redis server (``redis://host:port/db``)."""

    def __init__(self, url: str, *, ttl: float, max_rooms: int) -> None:
        self.url = url
        self.ttl_ms = max(1, int(ttl * 1000))
        self.max_rooms = max_rooms
        self.client = aioredis.from_url(url, decode_responses=True)
        self._scripts = {name: self.client.register_script(getattr(_lua, name))
                         for name in ("CREATE", "TEACHER", "JOIN", "LEAVE", "STATE", "POLL",
                                      "ANSWER")}
        self._listener: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._deliver: Deliver | None = None
        self._lock = asyncio.Lock()

    async def _run(self, name: str, code: str, *args: Any) -> Any:
        keys = [PREFIX + code, PREFIX + code + ":answers", PREFIX + code + ":members", INDEX]
        argv = [code, int(time.time() * 1000), self.ttl_ms, CHANNEL + code, *args]
        return await self._scripts[name](keys=keys, args=argv)

    async def create(self, code: str, teacher_token: str) -> bool:
        result = await self._run("CREATE", code, teacher_token, self.max_rooms)
        if result == -2:
            raise TooManyRooms(self.max_rooms)
        return bool(result == 1)

    async def teacher_token(self, code: str) -> str:
        token = await self._run("TEACHER", code)
        if token is None:
            raise RoomGone(code)
        return str(token)

    async def join(self, code: str, *, teacher: bool, member: str | None, new_member: str,
                   max_members: int) -> Snapshot:
        r = await self._run("JOIN", code, member or "", new_member, max_members,
                            "1" if teacher else "0")
        if r[0] == -1:
            raise RoomGone(code)
        if r[0] == -2:
            raise RoomFull(max_members)
        _, member, seq, state, poll, revealed, mine, counts, online = r
        return Snapshot(
            member=member, seq=int(seq or 0), state=state, poll=poll,
            revealed=None if revealed is None else int(revealed),
            mine=None if mine is None else int(mine),
            counts=None if counts is None else [int(c) for c in counts.split(",") if c],
            online=int(online))

    async def leave(self, code: str, *, teacher: bool) -> None:
        if not teacher:
            await self._run("LEAVE", code)

    async def set_state(self, code: str, state: str) -> int:
        seq = await self._run("STATE", code, state)
        if seq == -1:
            raise RoomGone(code)
        return int(seq)

    async def open_poll(self, code: str, poll: Poll) -> None:
        if await self._run("POLL", code, poll.message(), poll.id_json, len(poll.choices)) == -1:
            raise RoomGone(code)

    async def _answer(self, code: str, answer: Answer, member: str) -> None:
        r = await self._run("ANSWER", code, answer.id_json, answer.choice, member)
        if r[0] == -1:
            raise RoomGone(code)
        if r[0] == -2:
            raise ProtocolError("unknown_poll", "poll", f"poll {answer.id_json} is not open in "
                                "this room (only the latest poll takes answers)")
        if r[0] == -3:
            raise ProtocolError("invalid", "choice", f"`choice` must be from 0 to "
                                f"{int(r[1]) - 1}, got {answer.choice}")

    async def answer(self, code: str, member: str, answer: Answer) -> None:
        await self._answer(code, answer, member)

    async def reveal(self, code: str, reveal: Reveal) -> None:
        await self._answer(code, reveal, "")

    async def listen(self, deliver: Deliver) -> None:
        async with self._lock:
            self._deliver = deliver
            if self._listener is not None:
                return
            self._pubsub = self.client.pubsub(ignore_subscribe_messages=False)
            await self._pubsub.psubscribe(CHANNEL + "*")
            # Wait for Redis to confirm: a broadcast published after this returns reaches us.
            while True:
                message = await self._pubsub.get_message(timeout=5.0)
                if message and message["type"] == "psubscribe":
                    break
            self._listener = asyncio.create_task(self._listen(), name="svertka-rooms-redis")

    async def _listen(self) -> None:
        start = len(CHANNEL)
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] == "pmessage" and self._deliver is not None:
                        self._deliver(message["channel"][start:], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a dropped connection: redis-py reconnects, resubscribes
                log.warning("rooms: Redis subscription lost (%s); listening again", exc)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.client.aclose()
