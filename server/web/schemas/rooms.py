"""Schemas of the live rooms' HTTP side (the WebSocket messages are in server/rooms/protocol)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RoomResponse(BaseModel):
    """A new live room."""

    room: str = Field(description="The room's code: 6 characters without 0, O, 1, I or L; "
                      "students join at `/room/{room}`.", examples=["K7QX3M"])
    teacher_token: str = Field(description="The teacher's secret: add `?token=` to the "
                               "WebSocket URL to set the state and open polls.")
    join_url: str = Field(description="The page students open.", examples=["/room/K7QX3M"])
    ws_url: str = Field(description="The room's WebSocket path.",
                        examples=["/api/rooms/K7QX3M/ws"])
