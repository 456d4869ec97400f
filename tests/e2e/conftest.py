"""Fixtures for browser tests: a live server of the real app and Debian's Chromium via Playwright.

The server runs uvicorn in a thread of the test process, on a free port, with its data directory in
a temporary folder, so uploads from one run never leak into the next. One browser is shared by the
session; each test gets a fresh context (cookies, localStorage) and page. Under pytest-xdist each
worker has its own server, data directory and browser.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app served by uvicorn in a background thread."""
    import uvicorn

    data_dir = tmp_path_factory.mktemp("svertka-data")
    previous = os.environ.get("SVERTKA_DATA_DIR")
    os.environ["SVERTKA_DATA_DIR"] = str(data_dir)

    from server.web.app import create_app

    # the socket is bound here and handed to uvicorn: no other process can take the port between
    # choosing it and listening on it (another worker, a client's outgoing connection)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="svertka-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a bound on waiting for the start, not a pause
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if previous is None:
            os.environ.pop("SVERTKA_DATA_DIR", None)
        else:
            os.environ["SVERTKA_DATA_DIR"] = previous


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session.

    Its contexts let Playwright's own scripts past the Content-Security-Policy unless a test
    asks otherwise (``bypass_csp=False``, see `context` and `strict_page`).
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        new_context = b.new_context

        def context_past_csp(**options: Any) -> Any:
            options.setdefault("bypass_csp", True)
            return new_context(**options)

        b.new_context = context_past_csp  # type: ignore[method-assign]
        try:
            yield b
        finally:
            b.close()


def _new_context(browser: object, *, bypass_csp: bool) -> Any:
    ctx = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 800}, locale="en-US",
        permissions=["clipboard-read", "clipboard-write"], bypass_csp=bypass_csp,
    )
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def context(browser: object) -> Iterator[object]:
    """A fresh browser context (empty localStorage) at laptop size.

    Playwright evaluates a string predicate of `wait_for_function` that is not true at once
    with ``eval`` inside the page, which our Content-Security-Policy refuses: whether a test
    passed would then depend on timing. These contexts let Playwright's own scripts run; the
    pages' compliance with the policy is tested in `strict_page` contexts, which bypass
    nothing (tests/e2e/test_security_policy.py).
    """
    ctx = _new_context(browser, bypass_csp=True)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def strict_page(browser: object, live_server: str) -> Iterator[object]:
    """A watched page in a context that enforces the Content-Security-Policy as sent."""
    ctx = _new_context(browser, bypass_csp=False)
    pg = ctx.new_page()
    errors = watch_console(pg)
    pg.base_url = live_server
    try:
        yield pg
        assert errors == [], f"console errors or page errors: {errors}"
    finally:
        ctx.close()


def watch_console(pg: Any) -> list[str]:
    """Collect console errors and warnings and uncaught exceptions of `pg` in ``pg.js_errors``.

    A test that provokes a refused request on purpose (an invalid setting answered with 4xx,
    which Chromium logs as "Failed to load resource") declares it with
    ``pg.allow_console(r"status of 422")``; nothing else is allowed. Returns the list.
    """
    errors: list[str] = []
    allowed: list[re.Pattern[str]] = []
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_console(msg: Any) -> None:
        if msg.type in ("error", "warning"):
            text = f"console.{msg.type}: {msg.text}"
            if not any(a.search(text) for a in allowed):
                errors.append(text)

    pg.on("console", on_console)
    pg.js_errors = errors
    pg.allow_console = lambda pattern: allowed.append(re.compile(pattern))
    return errors


@pytest.fixture
def page(context: object, live_server: str) -> Iterator[object]:
    """A page whose console errors, warnings and uncaught exceptions fail the test."""
    pg = context.new_page()  # type: ignore[attr-defined]
    errors = watch_console(pg)
    pg.base_url = live_server  # type: ignore[attr-defined]
    yield pg
    assert errors == [], f"console errors or page errors: {errors}"


@pytest.fixture
def watched(context: object, live_server: str) -> Iterator[Any]:
    """A factory of extra pages (other sizes, a second tab) watched like `page`."""
    pages: list[Any] = []

    def make(ctx: Any = None) -> Any:
        pg = (ctx or context).new_page()  # type: ignore[union-attr]
        watch_console(pg)
        pg.base_url = live_server
        pages.append(pg)
        return pg

    yield make
    problems = [e for pg in pages for e in pg.js_errors]
    assert problems == [], f"console errors or page errors: {problems}"


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go (for people to look at; tests never compare them).

    ``$SVERTKA_SHOTS_DIR`` if set, else ``shots`` in this run's temporary directory, which all
    pytest-xdist workers share: ``/tmp/pytest-of-$USER/pytest-current/shots`` after the run.
    """
    if os.environ.get("SVERTKA_SHOTS_DIR"):
        path = Path(os.environ["SVERTKA_SHOTS_DIR"])
    else:
        base = tmp_path_factory.getbasetemp()
        # a worker's folder (popen-gw0) lies in the run's folder; every name is a different test's
        path = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path
