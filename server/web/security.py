"""Security headers on every answer, and CORS only when a setting names origins.

The pages load scripts only from the app's own origin: no inline scripts, no ``eval`` (the
policy below has neither ``'unsafe-inline'`` nor ``'unsafe-eval'`` for scripts), so an injected
``<script>`` or ``onerror=`` in any text a page shows cannot run. Styles may be inline because
the pages size elements from script and ``style`` attributes cannot run code. ``frame-ancestors
'self'`` (and the older ``X-Frame-Options``) stop another site from framing a page to trick
clicks, while a student's live room (``/room/{code}``) may still frame our own pages;
``nosniff`` makes browsers believe the ``Content-Type`` we send, which for an upload is the type
its decoding detected, so an uploaded file is never run as HTML or script.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "SecurityHeaders", "cors_origins"]

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_RAW = [(name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in SECURITY_HEADERS.items()]


class SecurityHeaders:
    """Add `SECURITY_HEADERS` to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                headers.extend(item for item in _RAW if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_origins(setting: str) -> list[str]:
    """The origins of ``SVERTKA_CORS_ORIGINS`` (comma-separated), without blanks.

    >>> cors_origins(" https://a.example, https://b.example ,")
    ['https://a.example', 'https://b.example']
    """
    return [origin.strip().rstrip("/") for origin in setting.split(",") if origin.strip()]
