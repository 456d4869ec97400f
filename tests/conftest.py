"""Shared fixtures: an app on a temporary data directory, its client, the error-envelope check."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

with warnings.catch_warnings():
    # Starlette prefers httpx2 and warns at import when it finds httpx; the client works the same
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from server.config import Settings
from server.web.app import create_app

ENVELOPE_KEYS = {"status", "code", "field", "message", "accepted", "suggestion"}
TESTS = Path(__file__).resolve().parent

# Property tests judge results, never speed: no deadline per example, and no health check that
# times the drawing of examples (both fail on a loaded machine, e.g. beside another worker).
hypothesis_settings.register_profile(
    "svertka", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("svertka")

# Under pytest-xdist (pyproject's addopts, ../conftest.py) the tests of one group run on one
# worker, so the costly fixture they share is made once, not once per worker.
XDIST_GROUPS = {
    "nn/test_keras_files_roundtrip.py": "keras",  # Keras builds and saves every fixture model
    "rooms/": "rooms",  # a redis-server and three app processes (tests/rooms/conftest.py)
}
# Long single tests start first, so that none of them is left running alone at the end.
LONG_FIRST = (
    "web/test_schemathesis.py", "nn/test_export.py", "core/test_bench_smoke.py", "bench/",
    "test_dockerfile.py", "test_workers.py", "test_crash.py",
)


def _where(item: pytest.Item) -> str:
    path = Path(item.path)
    return path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    # before every other implementation: xdist names the groups in the test ids
    for item in items:
        group = next((g for prefix, g in XDIST_GROUPS.items() if _where(item).startswith(prefix)),
                     None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    result = yield
    if hasattr(config, "workerinput"):  # on a pytest-xdist worker: every worker sorts alike
        items.sort(key=lambda item: not _where(item).startswith(LONG_FIRST))
    return result


@pytest.fixture(scope="session")
def _ingested_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the samples already stored, decoded once per session."""
    from server.store import ImageStore
    from server.web.routes.samples import ingest_samples

    path = tmp_path_factory.mktemp("template") / "data"
    ingest_samples(ImageStore(Settings(data_dir=path).images_dir, max_bytes=1 << 30))
    return path


@pytest.fixture
def data_dir(tmp_path: Path, _ingested_data_dir: Path) -> Path:
    """A fresh data directory per test (a copy of the template, so start-up is quick)."""
    path = tmp_path / "data"
    shutil.copytree(_ingested_data_dir, path)
    return path


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


@pytest.fixture
def make_client(data_dir: Path) -> Iterator[Callable[..., TestClient]]:
    """Build clients of fresh apps on the same data directory, with settings overridden."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(Settings(data_dir=data_dir, **overrides)))
        client.__enter__()  # runs the lifespan: samples are ingested
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of an app with default limits on a temporary data directory."""
    return make_client()


def _assert_error(response: Any, status: int, field: str | None) -> dict[str, Any]:
    """The one check of the error envelope: status, code, field, a message naming the field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= ENVELOPE_KEYS, body
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert body["field"] == field, body
    assert isinstance(body["message"], str) and body["message"]
    if field is not None and field not in ("body",):
        assert field.split(".")[-1] in body["message"], body["message"]
    return body


@pytest.fixture
def assert_error() -> Callable[..., dict[str, Any]]:
    """``assert_error(response, status, field)`` -> the envelope, for further checks."""
    return _assert_error


def _image_bytes(fmt: str = "PNG", size: tuple[int, int] = (24, 16), mode: str = "RGB",
                 **save: Any) -> bytes:
    """A deterministic gradient picture encoded with Pillow (no files needed)."""
    import io

    import numpy as np
    from PIL import Image

    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack([xx * 255 // max(width - 1, 1), yy * 255 // max(height - 1, 1),
                    (xx + yy) % 256], axis=-1).astype(np.uint8)
    image = Image.fromarray(rgb, mode="RGB")
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


@pytest.fixture
def make_image() -> Callable[..., bytes]:
    """``make_image(fmt, size, mode, **save_options)`` -> encoded image bytes."""
    return _image_bytes
