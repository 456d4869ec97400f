"""Live classroom rooms: a teacher's page drives the students' pages, with quick polls.

`create_hub(settings)` picks the backend: in memory (one process) by default, Redis when
``SVERTKA_REDIS_URL`` is set (several workers or machines share the rooms). The WebSocket
protocol itself is in `server.web.routes.rooms`; the messages' rules in `protocol`.
"""

from __future__ import annotations

from ..config import Settings
from .backend import Backend, RoomFull, RoomGone, Snapshot, TooManyRooms
from .hub import Connection, Hub
from .memory import MemoryBackend

__all__ = ["Backend", "Connection", "Hub", "MemoryBackend", "RoomFull", "RoomGone", "Snapshot",
           "TooManyRooms", "create_hub"]


def create_hub(settings: Settings) -> Hub:
    """The rooms of this worker, on the backend the settings name."""
    backend: Backend
    if settings.redis_url:
        from .redis_backend import RedisBackend  # redis is only imported when configured

        backend = RedisBackend(settings.redis_url, ttl=settings.room_ttl_seconds,
                               max_rooms=settings.max_rooms)
    else:
        backend = MemoryBackend(ttl=settings.room_ttl_seconds, max_rooms=settings.max_rooms)
    return Hub(backend, max_members=settings.max_room_members,
               rate=settings.room_messages_per_second)
