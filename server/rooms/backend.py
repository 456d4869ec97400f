"""What a rooms backend does: the one small interface the in-memory and Redis backends share.

A backend holds every room's authoritative record (teacher token, state and its sequence number,
the open poll and its answers, the members' tokens, how many members are online) and broadcasts.
Each change and its broadcast happen as one step, so broadcasts leave in `seq` order even when two
workers or two teacher tabs send at once.

A broadcast reaches every worker as one *payload*: ``"<audience>|<seq>|<json>"`` where audience is
``a`` (everyone in the room) or ``t`` (teacher connections only) and seq is the state's sequence
number (0 for other messages). The hub of each worker hands the JSON to its own connections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .protocol import Answer, Poll, Reveal

Deliver = Callable[[str, str], None]  # (room code, payload)


class RoomGone(LookupError):
    """The room does not exist (never created, or expired after inactivity)."""


class RoomFull(RuntimeError):
    """The room already has as many members online as the settings allow."""


class TooManyRooms(RuntimeError):
    """As many rooms are open as the settings allow."""


@dataclass(frozen=True)
class Snapshot:
    """What a connection learns when it joins: its identity and the room as it is now."""

    member: str | None  # the member's token (None for the teacher)
    seq: int
    state: str | None  # the state object as JSON, None before the first state
    poll: str | None  # the open poll's message as JSON
    revealed: int | None  # the right choice, once the teacher revealed it
    mine: int | None  # this member's answer to the open poll
    counts: list[int] | None  # answers per choice (for the teacher)
    online: int  # members online in the whole room


def payload(audience: str, seq: int, message: str) -> str:
    return f"{audience}|{seq}|{message}"


def members_message(online: int) -> str:
    return f'{{"type":"members","count":{online}}}'


def results_message(poll_json: str, counts: list[int]) -> str:
    return f'{{"type":"results","poll":{poll_json},"counts":[{",".join(map(str, counts))}]}}'


def reveal_message(poll_json: str, choice: int, counts: list[int]) -> str:
    return (f'{{"type":"reveal","poll":{poll_json},"choice":{choice},'
            f'"counts":[{",".join(map(str, counts))}]}}')


class Backend(Protocol):
    """Rooms' records and broadcasts. Every method but `listen` and `close` may raise `RoomGone`."""

    async def create(self, code: str, teacher_token: str) -> bool:
        """Open a room; False when the code is taken. Raises `TooManyRooms`."""

    async def teacher_token(self, code: str) -> str:
        """The room's teacher token."""

    async def join(self, code: str, *, teacher: bool, member: str | None, new_member: str,
                   max_members: int) -> Snapshot:
        """Count a connection in: a member keeps `member` when the room knows it, else gets
        `new_member`. Raises `RoomFull` for a member beyond `max_members` online."""

    async def leave(self, code: str, *, teacher: bool) -> None:
        """Count a connection out."""

    async def set_state(self, code: str, state: str) -> int:
        """Store the state, broadcast it to everyone; return its seq."""

    async def open_poll(self, code: str, poll: Poll) -> None:
        """Replace the open poll (its answers are cleared) and broadcast it."""

    async def answer(self, code: str, member: str, answer: Answer) -> None:
        """Record a member's answer (the last one counts), send the counts to the teacher.
        Raises `protocol.ProtocolError` for a poll that is not open or a choice out of range."""

    async def reveal(self, code: str, reveal: Reveal) -> None:
        """Mark the right choice of the open poll and broadcast it with the counts."""

    async def listen(self, deliver: Deliver) -> None:
        """Deliver this worker every broadcast from now on (returns once that is so)."""

    async def close(self) -> None:
        """Release connections and tasks."""
