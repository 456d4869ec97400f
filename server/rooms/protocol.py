"""The room protocol: what a client may send, checked before anything is stored or forwarded.

Incoming messages are JSON objects with a ``type``: ``state`` and ``poll`` and ``reveal`` come from
the teacher, ``answer`` from members. A message that breaks a rule becomes a `ProtocolError`, which
the hub sends back as ``{"type": "error", "code", "field", "message"}`` (the error envelope of the
HTTP API, minus the status) and never forwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_STATE_BYTES = 64 * 1024
# a state message is its state plus a few bytes of envelope; anything longer is refused unread
MAX_MESSAGE_BYTES = MAX_STATE_BYTES + 1024
MAX_QUESTION = 500
MAX_CHOICE = 200
MIN_CHOICES, MAX_CHOICES = 2, 10
MAX_POLL_ID = 64

TEACHER_TYPES = ("state", "poll", "reveal")
MEMBER_TYPES = ("answer",)


class ProtocolError(ValueError):
    """A message that is refused; ``code`` is one word, ``field`` the key at fault."""

    def __init__(self, code: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def to_message(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class State:
    text: str  # the state object as compact JSON, forwarded verbatim


@dataclass(frozen=True)
class Poll:
    poll: str | int
    question: str
    choices: list[str]

    @property
    def id_json(self) -> str:
        return dumps(self.poll)

    def message(self) -> str:
        return dumps({"type": "poll", "poll": self.poll, "question": self.question,
                      "choices": self.choices})


@dataclass(frozen=True)
class Answer:
    poll: str | int
    choice: int

    @property
    def id_json(self) -> str:
        return dumps(self.poll)


@dataclass(frozen=True)
class Reveal(Answer):
    pass


Message = State | Poll | Answer | Reveal


def dumps(value: Any) -> str:
    """Compact JSON, the one form stored and forwarded."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _poll_id(value: Any) -> str | int:
    ok_int = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53
    ok_str = isinstance(value, str) and 0 < len(value) <= MAX_POLL_ID
    if not (ok_int or ok_str):
        raise ProtocolError("invalid", "poll", "`poll` must be a poll id: a string of 1 to "
                            f"{MAX_POLL_ID} characters or an int >= 0, got {_clip(value)}")
    return value


def _choice(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError("invalid", "choice", "`choice` must be the index of a choice "
                            f"(an int >= 0), got {_clip(value)}")
    return value


def _clip(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse(text: str) -> Message:
    """Check one incoming text frame and return what it asks for.

    Raises `ProtocolError` for a frame that is too long, not a JSON object, of an unknown type,
    or with a field out of its rules. Who may send which type is the hub's business.
    """
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", None, f"a message may have at most {MAX_MESSAGE_BYTES} "
                            f"bytes (a state at most {MAX_STATE_BYTES})")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProtocolError("invalid", None, 'a message must be a JSON object with a "type"')
    kind = data.get("type")
    if kind == "state":
        state = data.get("state")
        if not isinstance(state, dict):
            raise ProtocolError("invalid", "state", "`state` must be a JSON object")
        body = dumps(state)
        if len(body.encode()) > MAX_STATE_BYTES:
            raise ProtocolError("too_large", "state", f"`state` may have at most "
                                f"{MAX_STATE_BYTES} bytes of JSON, got {len(body.encode())}")
        return State(body)
    if kind == "poll":
        question = data.get("question")
        if not isinstance(question, str) or not 0 < len(question) <= MAX_QUESTION:
            raise ProtocolError("invalid", "question", f"`question` must be a text of 1 to "
                                f"{MAX_QUESTION} characters")
        choices = data.get("choices")
        if (not isinstance(choices, list) or not MIN_CHOICES <= len(choices) <= MAX_CHOICES
                or not all(isinstance(c, str) and 0 < len(c) <= MAX_CHOICE for c in choices)):
            raise ProtocolError("invalid", "choices", f"`choices` must be a list of "
                                f"{MIN_CHOICES} to {MAX_CHOICES} texts of 1 to {MAX_CHOICE} "
                                "characters")
        return Poll(_poll_id(data.get("poll")), question, list(choices))
    if kind in ("answer", "reveal"):
        cls = Answer if kind == "answer" else Reveal
        return cls(_poll_id(data.get("poll")), _choice(data.get("choice")))
    raise ProtocolError("invalid", "type", f"`type` must be one of "
                        f"{', '.join(TEACHER_TYPES + MEMBER_TYPES)}, got {_clip(kind)}")
