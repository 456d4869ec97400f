"""The HDF5 reader's child process: answers cross back exactly; a crash, a memory blow-up, a hang,
a CPU spin or a surprise in the child is a clear 422 and the next file is read as usual; no free
reader is a 503; no child outlives its call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5_hooks
import numpy as np
import pytest
from keras_helpers import fixture, read, reader_pids

from server.nn import _h5_sandbox
from server.nn._h5_sandbox import ReaderUnavailableError, Sandbox
from server.nn.keras_files import ModelFileError


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """``make_sandbox(**options)``; at the end no reader process is left but the zygote."""
    before = reader_pids()
    made: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        made.append(Sandbox(**options))
        return made[-1]

    yield make
    for sandbox in made:
        assert sandbox.running == 0
    assert reader_pids() - before == set()


def refused(sandbox: Sandbox, func: Any, *args: Any) -> ModelFileError:
    with pytest.raises(ModelFileError) as caught:
        sandbox.run(func, *args, what="model.weights.h5")
    error = caught.value
    assert (error.status, error.code, error.param) == (422, "model_file", "file")
    assert str(error).startswith("`file`: model.weights.h5 ")
    assert sandbox.running == 0
    return error


def still_reads(sandbox: Sandbox) -> None:
    """The next file after a failure: the same sandbox answers, and a real model reads."""
    assert sandbox.run(h5_hooks.echo, [1, 2]) == [1, 2]
    assert read(fixture("chain.h5"), "chain.h5", sandbox=sandbox).total_params > 0


def test_answer_crosses_back_as_it_was(make_sandbox: Any) -> None:
    value = {"version": "3.15", "shape": (28, 28, 1), "none": None, "flag": True, "x": 1.5,
             "layers": [{"type": "Conv2D", "kernel_size": (3, 3), "padding": "same"}],
             "weights": {"conv2d": [np.arange(24, dtype=np.float32).reshape(2, 3, 4),
                                    np.zeros(0, np.float32), np.full((), 2.0)]}}
    got = make_sandbox().run(h5_hooks.echo, value)
    assert got.keys() == value.keys()
    assert got["shape"] == (28, 28, 1) and isinstance(got["shape"], tuple)
    assert got["layers"] == value["layers"]
    assert isinstance(got["layers"][0]["kernel_size"], tuple)
    for mine, theirs in zip(got["weights"]["conv2d"], value["weights"]["conv2d"], strict=True):
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
        np.testing.assert_array_equal(mine, theirs)
        assert mine.flags.writeable  # the models' code may treat them as its own arrays


def test_refusal_in_the_child_is_raised_here_unchanged(make_sandbox: Any) -> None:
    with pytest.raises(ModelFileError) as caught:
        make_sandbox().run(h5_hooks.refuse)
    error = caught.value
    assert (error.status, error.code, error.param) == (422, "model_file", "layers[2]")
    assert str(error).startswith("layer 'conv2d_1' (Conv2D, `layers[2]`): has shape [1]")
    assert error.accepted == "a file saved by Keras"


def test_crash_of_the_library_is_a_422_and_the_next_file_reads(make_sandbox: Any) -> None:
    sandbox = make_sandbox()
    error = refused(sandbox, h5_hooks.segfault, b"\x89HDF\r\n\x1a\n")
    assert "could not be read safely" in str(error)
    assert "SIGSEGV" in str(error)
    still_reads(sandbox)


def test_memory_beyond_the_limit_is_a_422_and_the_next_file_reads(make_sandbox: Any) -> None:
    sandbox = make_sandbox(memory_bytes=64 << 20)
    error = refused(sandbox, h5_hooks.allocate)
    assert "needed more than the 64 MiB of memory" in str(error)
    still_reads(sandbox)


def test_hang_past_the_deadline_is_killed_and_a_422(make_sandbox: Any) -> None:
    sandbox = make_sandbox(seconds=1)
    started = time.monotonic()
    error = refused(sandbox, h5_hooks.hang)
    assert time.monotonic() - started < 30  # bounded: the call does not wait for the hang
    assert "took longer than the 1 s a model file may take" in str(error)
    still_reads(sandbox)


def test_cpu_time_past_the_limit_is_a_422(make_sandbox: Any) -> None:
    error = refused(make_sandbox(), h5_hooks.spin_past_cpu_time)
    assert "used more than" in str(error)


@pytest.mark.parametrize(("hook", "words"), [
    (h5_hooks.surprise, "cannot be read (LookupError: nothing the reader expected)"),
    (h5_hooks.exit_quietly, "its reader process stopped (exit code 3)"),
])
def test_a_surprise_in_the_child_is_a_422(make_sandbox: Any, hook: Any, words: str) -> None:
    assert words in str(refused(make_sandbox(), hook))


@pytest.mark.parametrize("header", [
    b"[1, 2]", b'{"status": "refused", "value": 5}', b'{"status": "ok", "value": 1, '
    b'"arrays": [["<f4", [1000000000000]]]}', b'{"exit": "soon"}', b"\xff not json",
], ids=["list", "refusal-without-fields", "array-beyond-memory", "exit-not-a-code", "bytes"])
def test_an_answer_no_reader_of_ours_sends_is_a_422(make_sandbox: Any, header: bytes) -> None:
    error = refused(make_sandbox(), h5_hooks.answer_nonsense, header)
    assert "could not be read safely" in str(error)


def test_every_reader_busy_is_a_503_until_one_is_free(make_sandbox: Any,
                                                      tmp_path: Path) -> None:
    sandbox = make_sandbox(processes=1, wait=0, seconds=120)
    started = tmp_path / "started"
    outcome: list[BaseException] = []

    def occupy() -> None:
        try:
            sandbox.run(h5_hooks.hang, started)
        except ModelFileError as err:
            outcome.append(err)

    thread = threading.Thread(target=occupy)
    thread.start()
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for a condition (the child is reading), bounded
    assert sandbox.running == 1
    with pytest.raises(ReaderUnavailableError) as caught:
        sandbox.run(h5_hooks.echo, 1)
    assert caught.value.code == "busy"
    assert "every model reader is busy" in caught.value.message
    sandbox.close()  # the hanging child is killed; its caller gets the usual 422
    thread.join(60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and "SIGKILL" in str(outcome[0])
    assert sandbox.run(h5_hooks.echo, 2) == 2


def test_a_zygote_that_cannot_start_is_a_503(make_sandbox: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = make_sandbox()
    _h5_sandbox._stop_zygote()
    monkeypatch.setattr(_h5_sandbox, "EXECUTABLE", "/nonexistent/python3")
    with pytest.raises(ReaderUnavailableError) as caught:
        sandbox.run(h5_hooks.echo, 1)
    assert caught.value.code == "unavailable"
    monkeypatch.undo()
    assert sandbox.run(h5_hooks.echo, 1) == 1


def test_a_zygote_that_died_is_started_again(make_sandbox: Any) -> None:
    sandbox = make_sandbox()
    assert sandbox.run(h5_hooks.echo, 1) == 1
    (zygote,) = _h5_sandbox._zygote
    zygote.process.kill()
    zygote.process.wait()
    assert sandbox.run(h5_hooks.echo, 2) == 2
    assert _h5_sandbox._zygote[0] is not zygote


def test_one_zygote_serves_sandboxes_with_their_own_limits(make_sandbox: Any) -> None:
    small, large = make_sandbox(memory_bytes=64 << 20), make_sandbox(memory_bytes=8 << 30)
    assert "64 MiB" in str(refused(small, h5_hooks.allocate))
    assert large.run(h5_hooks.allocate_and_count, 1 << 30) == 1 << 30
    assert len(_h5_sandbox._zygote) == 1
