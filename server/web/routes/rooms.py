"""Live classroom rooms: create one over HTTP, then talk over its WebSocket.

The protocol (DESIGN §3): the teacher (``?token=``) sends ``state``, ``poll`` and ``reveal``;
members send ``answer``. On joining, a connection receives ``hello`` (its role, and a member's
token to offer again as ``?member=`` when it reconnects), then the current state, the open poll
(with the member's own answer as ``mine``) and, for the teacher, the counts so far. Close codes:
4404 unknown or expired room, 4403 a wrong teacher token, 4429 the room is full, 1013 a
connection too slow to keep up (its page reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, WebSocket
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from ...rooms import Connection, Hub, RoomFull, RoomGone, Snapshot, TooManyRooms
from ...rooms.codes import is_token, new_token, normalize_code, same_token
from ...rooms.protocol import Answer, Poll, ProtocolError, Reveal, State, dumps, parse
from ..errors import ApiError
from ..schemas.rooms import RoomResponse

router = APIRouter(prefix="/api", tags=["rooms"])

CLOSE_UNKNOWN, CLOSE_FORBIDDEN, CLOSE_FULL, CLOSE_SLOW = 4404, 4403, 4429, 1013


async def app_rooms(conn: HTTPConnection) -> Hub:
    return conn.app.state.rooms


RoomsDep = Annotated[Hub, Depends(app_rooms)]


@router.post("/rooms", status_code=201, response_model=RoomResponse)
async def create_room(rooms: RoomsDep) -> RoomResponse:
    """Open a live room: its code (for students) and the teacher's token."""
    try:
        code, token = await rooms.create_room()
    except TooManyRooms as exc:
        raise ApiError(429, "limit", None, "as many live rooms are open as this server allows; "
                       "try again once one has expired",
                       accepted="fewer open rooms (SVERTKA_MAX_ROOMS)") from exc
    return RoomResponse(room=code, teacher_token=token, join_url=f"/room/{code}",
                        ws_url=f"/api/rooms/{code}/ws")


def _opening(snap: Snapshot, code: str, teacher: bool) -> list[str]:
    """The messages a connection gets first: who it is, then the room as it is now."""
    hello: dict[str, Any] = {"type": "hello", "room": code,
                             "role": "teacher" if teacher else "member", "seq": snap.seq}
    if teacher:
        hello["members"] = snap.online
    else:
        hello["member"] = snap.member
    out = [dumps(hello)]
    if snap.state is not None:
        out.append(f'{{"type":"state","seq":{snap.seq},"state":{snap.state}}}')
    if snap.poll is not None:
        poll = json.loads(snap.poll)
        if not teacher:
            poll["mine"] = snap.mine
        out.append(dumps(poll))
        if snap.counts is not None:
            out.append(dumps({"type": "results", "poll": poll["poll"], "counts": snap.counts}))
        if snap.revealed is not None:
            out.append(dumps({"type": "reveal", "poll": poll["poll"], "choice": snap.revealed}))
    return out


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code, reason)


@router.websocket("/rooms/{room}/ws")
async def join_room(
    websocket: WebSocket, room: str, rooms: RoomsDep,
    token: Annotated[str | None, Query(description="The teacher's token")] = None,
    member: Annotated[str | None, Query(description="The member token from `hello`")] = None,
) -> None:
    """A room's WebSocket: the teacher's state and polls out, members' answers in."""
    await websocket.accept()
    code = normalize_code(room)
    if code is None:
        await _close(websocket, CLOSE_UNKNOWN, "no such room")
        return
    teacher = token is not None
    conn = Connection(websocket.send_text, teacher=teacher)
    try:
        if teacher and not same_token(token, await rooms.backend.teacher_token(code)):
            await _close(websocket, CLOSE_FORBIDDEN, "the teacher token does not match")
            return
        await rooms.add(code, conn)
        snap = await rooms.backend.join(
            code, teacher=teacher, member=member if is_token(member) else None,
            new_member=new_token(), max_members=rooms.max_members)
    except RoomGone:
        rooms.remove(code, conn)
        await _close(websocket, CLOSE_UNKNOWN, "no such room (it may have expired)")
        return
    except RoomFull:
        rooms.remove(code, conn)
        await _close(websocket, CLOSE_FULL, "the room is full")
        return
    try:
        await _session(websocket, rooms, code, conn, snap)
    finally:
        rooms.remove(code, conn)
        with contextlib.suppress(RoomGone):
            await rooms.backend.leave(code, teacher=teacher)


async def _session(ws: WebSocket, rooms: Hub, code: str, conn: Connection,
                   snap: Snapshot) -> None:
    conn.last_seq = snap.seq
    try:
        for text in _opening(snap, code, conn.teacher):
            await ws.send_text(text)
    except (WebSocketDisconnect, RuntimeError):
        return
    pump = asyncio.create_task(conn.pump())
    receive = asyncio.create_task(_receive(ws, rooms, code, conn, snap.member))
    overflow = asyncio.create_task(conn.overflowed.wait())
    try:
        done, _ = await asyncio.wait({pump, receive, overflow},
                                     return_when=asyncio.FIRST_COMPLETED)
        if overflow in done:
            await _close(ws, CLOSE_SLOW, "too slow to follow the room; reconnect")
        elif receive in done and not receive.cancelled() and receive.exception() is None \
                and receive.result() == CLOSE_UNKNOWN:
            await _close(ws, CLOSE_UNKNOWN, "the room has expired")
    finally:
        for task in (pump, receive, overflow):
            task.cancel()
        for task in (pump, receive, overflow):
            # a send to a page that has gone raises here: the page is gone, nothing to tell it
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _receive(ws: WebSocket, rooms: Hub, code: str, conn: Connection,
                   member: str | None) -> int:
    """Read the client's messages until it leaves; return a close code when the room is gone."""
    bucket = rooms.bucket()
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return 1000
        text = message.get("text")
        try:
            if text is None:
                raise ProtocolError("invalid", None, "messages must be JSON text, not binary")
            if not bucket.take():
                raise ProtocolError("rate", None, f"at most {rooms.rate:g} messages a second; "
                                    "this one was dropped")
            await _handle(rooms, code, conn, member, parse(text))
        except ProtocolError as error:
            conn.push(0, dumps(error.to_message()))
        except RoomGone:
            return CLOSE_UNKNOWN


async def _handle(rooms: Hub, code: str, conn: Connection, member: str | None,
                  msg: State | Poll | Answer | Reveal) -> None:
    backend = rooms.backend
    if isinstance(msg, Answer) and not isinstance(msg, Reveal):
        if member is None:
            raise ProtocolError("forbidden", "type", "the teacher opens polls and does not "
                                "answer them")
        await backend.answer(code, member, msg)
        return
    if not conn.teacher:
        kind = {State: "state", Poll: "poll", Reveal: "reveal"}[type(msg)]
        raise ProtocolError("forbidden", "type", f"only the teacher (with the room's token) "
                            f"may send a {kind}; it was not forwarded")
    if isinstance(msg, State):
        await backend.set_state(code, msg.text)
    elif isinstance(msg, Poll):
        await backend.open_poll(code, msg)
    else:
        await backend.reveal(code, msg)
