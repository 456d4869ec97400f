"""Room codes and tokens.

A room code is read off a projector and typed on a phone, so it avoids the characters people
confuse (0/O, 1/I/L) and is case-insensitive. Tokens are secrets (the teacher's, a member's) and
are only ever compared in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CODE_RE = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_code() -> str:
    """A random room code: 6 characters of `ALPHABET` (31**6, about 887 million codes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The code in canonical form (upper case), or None when it cannot be a room code."""
    code = text.strip().upper()
    return code if CODE_RE.match(code) else None


def new_token() -> str:
    """A secret of 192 bits, URL-safe (it travels in a WebSocket URL's query)."""
    return secrets.token_urlsafe(24)


def is_token(text: str | None) -> bool:
    """Whether ``text`` has the form of a token we hand out (anything else is ignored)."""
    return bool(text) and TOKEN_RE.match(text or "") is not None


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the teacher's token cannot be guessed byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
