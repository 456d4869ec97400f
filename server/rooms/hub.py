"""One worker's side of the rooms: its connections, the broadcasts it hands them, the limits.

The backend broadcasts each change once per worker; the hub hands it to that worker's connections
in the room, each through its own bounded queue so one slow laptop never holds up the others (a
connection whose queue overflows is closed, and its page reconnects to the current state).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .backend import Backend, TooManyRooms
from .codes import new_code, new_token

QUEUE_SIZE = 256
CREATE_ATTEMPTS = 8


@dataclass
class TokenBucket:
    """Allow `rate` messages a second on average and bursts of `burst`."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.stamp = self.clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Connection:
    """One WebSocket in a room, as the hub sees it: a role and a queue of texts to send."""

    def __init__(self, send: Callable[[str], Awaitable[None]], *, teacher: bool) -> None:
        self.send = send
        self.teacher = teacher
        self.last_seq = 0  # states up to this seq were sent (the snapshot covers older ones)
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = asyncio.Event()

    def push(self, seq: int, text: str) -> None:
        try:
            self.queue.put_nowait((seq, text))
        except asyncio.QueueFull:
            self.overflowed.set()

    async def pump(self) -> None:
        """Send queued texts in order, skipping states the snapshot already carried."""
        while True:
            seq, text = await self.queue.get()
            if seq:
                if seq <= self.last_seq:
                    continue
                self.last_seq = seq
            await self.send(text)


class Hub:
    """The rooms of one worker: a backend, the local connections per room, and the limits."""

    def __init__(self, backend: Backend, *, max_members: int, rate: float) -> None:
        self.backend = backend
        self.max_members = max_members
        self.rate = rate
        self._local: dict[str, set[Connection]] = {}

    async def create_room(self) -> tuple[str, str]:
        """A new room's code and teacher token. Raises `TooManyRooms`."""
        token = new_token()
        for _ in range(CREATE_ATTEMPTS):
            code = new_code()
            if await self.backend.create(code, token):
                return code, token
        raise TooManyRooms("no free code found")  # 887 million codes: practically never

    def bucket(self) -> TokenBucket:
        return TokenBucket(rate=self.rate, burst=max(1.0, 2 * self.rate))

    async def add(self, code: str, conn: Connection) -> None:
        """Start handing `conn` the room's broadcasts (before its snapshot is read, so nothing
        published in between is lost; the seq check drops what the snapshot already holds)."""
        await self.backend.listen(self.deliver)
        self._local.setdefault(code, set()).add(conn)

    def remove(self, code: str, conn: Connection) -> None:
        conns = self._local.get(code)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._local[code]

    def deliver(self, code: str, payload: str) -> None:
        """Hand one broadcast (``audience|seq|json``) to this worker's connections in `code`."""
        conns = self._local.get(code)
        if not conns:
            return
        audience, seq_text, text = payload.split("|", 2)
        seq = int(seq_text)
        for conn in list(conns):
            if audience == "a" or conn.teacher:
                conn.push(seq, text)

    def local_count(self, code: str) -> int:
        return len(self._local.get(code, ()))

    async def close(self) -> None:
        await self.backend.close()
