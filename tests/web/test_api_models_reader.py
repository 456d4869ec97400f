"""POST /api/models when the HDF5 reader fails: a crash, a memory blow-up or a hang of libhdf5 is
a 422 on `file`, no free reader a 503 with Retry-After; the server answers the next request."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
import h5_hooks  # noqa: E402
from keras_helpers import fixture, reader_pids  # noqa: E402

from server.nn import keras_files  # noqa: E402
from server.nn.keras_files import ReaderUnavailableError  # noqa: E402

# the function each format's HDF5 data is read with in the reader process
READERS = {"convnet2d.keras": "_keras_weights_in", "chain.h5": "_h5_parts"}


def upload(client: Any, name: str) -> Any:
    return client.post("/api/models", files={"file": (name, fixture(name),
                                                      "application/octet-stream")})


@pytest.fixture(autouse=True)
def no_reader_left_behind() -> Iterator[None]:
    """After the apps have shut down, none of their reader processes is left (spares included)."""
    before = reader_pids()
    yield
    assert reader_pids() - before == set()


def serves_on(client: Any, name: str) -> None:
    """The server is alive and well: health, and the same file read for real."""
    assert client.get("/api/health").status_code == 200
    response = upload(client, name)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("hook", "settings", "words"), [
    (h5_hooks.segfault, {}, "it crashed the HDF5 library (its reader process died of SIGSEGV)"),
    (h5_hooks.allocate, {"model_reader_memory_bytes": 64 << 20},
     "reading it needed more than the 64 MiB of memory a model file may take"),
    (h5_hooks.hang, {"model_reader_seconds": 1},
     "reading it took longer than the 1 s a model file may take"),
], ids=["crash", "memory", "hang"])
@pytest.mark.parametrize("name", READERS)
def test_reader_failure_is_a_422_and_the_server_reads_the_next_file(
        make_client: Callable[..., Any], assert_error: Callable[..., dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch, name: str, hook: Any, settings: dict[str, Any],
        words: str) -> None:
    client = make_client(**settings)
    with monkeypatch.context() as patch:
        patch.setattr(keras_files, READERS[name], hook)
        body = assert_error(upload(client, name), 422, "file")
    assert body["code"] == "model_file"
    assert "could not be read safely" in body["message"]
    assert words in body["message"]
    serves_on(client, name)


def test_no_free_reader_is_a_503_with_retry_after(
        client: Any, assert_error: Callable[..., dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(*args: Any, **kwargs: Any) -> Any:
        raise ReaderUnavailableError("every model reader is busy (2 files are being read); "
                                     "try again in 5 s")

    with monkeypatch.context() as patch:
        patch.setattr(client.app.state.models.sandbox, "run", busy)
        response = upload(client, "chain.h5")
        body = assert_error(response, 503, None)
    assert body["code"] == "busy"
    assert response.headers["retry-after"] == "5"
    serves_on(client, "chain.h5")
