"""Room tests run against both backends: one worker in memory, and Redis with two workers
(separate processes on two ports sharing one redis-server) where students connect to the other
worker than their teacher."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rooms_support import REDIS_SERVER, Servers, start_app, start_redis, stop

# low enough that a test reaches each limit quickly, high enough for every other test
LIMITS = {"SVERTKA_MAX_ROOM_MEMBERS": "6", "SVERTKA_ROOM_MESSAGES_PER_SECOND": "40"}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server started for this session on a free loopback port."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip(f"redis-server not found at {REDIS_SERVER} (apt-get install redis-server)")
    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session", params=["memory", "redis"])
def servers(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The app in memory (one worker), or on Redis (two workers: teacher on one, students on
    the other)."""
    data: Path = tmp_path_factory.mktemp(f"rooms-{request.param}")
    limits = {k: float(v) for k, v in LIMITS.items()}
    if request.param == "memory":
        proc, url = start_app(data, LIMITS)
        try:
            yield Servers("memory", url, url, limits)
        finally:
            stop(proc)
        return
    redis = request.getfixturevalue("redis_url")
    env = {**LIMITS, "SVERTKA_REDIS_URL": f"{redis}/0"}
    first, a = start_app(data, env)
    try:
        second, b = start_app(data, env)
        try:
            yield Servers("redis", a, b, limits)
        finally:
            stop(second)
    finally:
        stop(first)
