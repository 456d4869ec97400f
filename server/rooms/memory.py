"""Rooms in the memory of one process: the default, and all one laptop or one worker needs.

Every method runs without awaiting anything, so a change and its broadcast are one step of the
event loop: broadcasts leave in `seq` order. A room expires `ttl` seconds after its last join,
state, poll or answer; expired rooms are dropped when looked up and swept when a room is created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .backend import (
    Deliver,
    RoomFull,
    RoomGone,
    Snapshot,
    TooManyRooms,
    members_message,
    payload,
    results_message,
    reveal_message,
)
from .protocol import Answer, Poll, ProtocolError, Reveal


@dataclass
class _Room:
    teacher: str
    touched: float
    seq: int = 0
    state: str | None = None
    poll: Poll | None = None
    revealed: int | None = None
    answers: dict[str, int] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    online: int = 0

    def counts(self) -> list[int]:
        counts = [0] * (len(self.poll.choices) if self.poll else 0)
        for choice in self.answers.values():
            counts[choice] += 1
        return counts


def check_answer(poll: Poll | None, answer: Answer) -> Poll:
    """The open poll when `answer` fits it; the same rule for both backends."""
    if poll is None or poll.id_json != answer.id_json:
        raise ProtocolError("unknown_poll", "poll", f"poll {answer.id_json} is not open in "
                            "this room (only the latest poll takes answers)")
    if answer.choice >= len(poll.choices):
        raise ProtocolError("invalid", "choice", f"`choice` must be from 0 to "
                            f"{len(poll.choices) - 1}, got {answer.choice}")
    return poll


class MemoryBackend:
    """The `Backend` of one process."""

    def __init__(self, *, ttl: float, max_rooms: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_rooms = max_rooms
        self.clock = clock
        self._rooms: dict[str, _Room] = {}
        self._deliver: Deliver | None = None

    def _room(self, code: str, *, touch: bool = True) -> _Room:
        room = self._rooms.get(code)
        now = self.clock()
        if room is None or now - room.touched > self.ttl:
            self._rooms.pop(code, None)
            raise RoomGone(code)
        if touch:
            room.touched = now
        return room

    def _send(self, code: str, audience: str, seq: int, message: str) -> None:
        if self._deliver is not None:
            self._deliver(code, payload(audience, seq, message))

    async def create(self, code: str, teacher_token: str) -> bool:
        now = self.clock()
        for old in [c for c, r in self._rooms.items() if now - r.touched > self.ttl]:
            del self._rooms[old]
        if code in self._rooms:
            return False
        if len(self._rooms) >= self.max_rooms:
            raise TooManyRooms(len(self._rooms))
        self._rooms[code] = _Room(teacher=teacher_token, touched=now)
        return True

    async def teacher_token(self, code: str) -> str:
        return self._room(code, touch=False).teacher  # looking is not activity

    async def join(self, code: str, *, teacher: bool, member: str | None, new_member: str,
                   max_members: int) -> Snapshot:
        room = self._room(code)
        if not teacher:
            if room.online >= max_members:
                raise RoomFull(room.online)
            if member is None or member not in room.members:
                member = new_member
                room.members.add(member)
            room.online += 1
            self._send(code, "t", 0, members_message(room.online))
        return Snapshot(
            member=None if teacher else member, seq=room.seq, state=room.state,
            poll=room.poll.message() if room.poll else None, revealed=room.revealed,
            mine=None if teacher or member is None else room.answers.get(member),
            counts=room.counts() if teacher and room.poll else None, online=room.online)

    async def leave(self, code: str, *, teacher: bool) -> None:
        room = self._rooms.get(code)
        if room is None or teacher:
            return
        room.online = max(0, room.online - 1)
        self._send(code, "t", 0, members_message(room.online))

    async def set_state(self, code: str, state: str) -> int:
        room = self._room(code)
        room.seq += 1
        room.state = state
        self._send(code, "a", room.seq, f'{{"type":"state","seq":{room.seq},"state":{state}}}')
        return room.seq

    async def open_poll(self, code: str, poll: Poll) -> None:
        room = self._room(code)
        room.poll, room.revealed = poll, None
        room.answers.clear()
        self._send(code, "a", 0, poll.message())

    async def answer(self, code: str, member: str, answer: Answer) -> None:
        room = self._room(code)
        poll = check_answer(room.poll, answer)
        room.answers[member] = answer.choice
        self._send(code, "t", 0, results_message(poll.id_json, room.counts()))

    async def reveal(self, code: str, reveal: Reveal) -> None:
        room = self._room(code)
        poll = check_answer(room.poll, reveal)
        room.revealed = reveal.choice
        self._send(code, "a", 0, reveal_message(poll.id_json, reveal.choice, room.counts()))

    async def listen(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._rooms.clear()
