"""`threads.share`: every chunk exactly once, whichever thread takes it; no wait for a helper
that never started; errors reach the caller."""

from __future__ import annotations

import threading

import pytest

from server.core.methods import threads


def _record(seen: list[tuple[int, str]], lock: threading.Lock):
    def work(chunks):
        for chunk in chunks:
            with lock:
                seen.append((chunk, threading.current_thread().name))

    return work


@pytest.mark.parametrize("count", [1, 2, 4])
@pytest.mark.parametrize("chunks", [0, 1, 3, 50])
def test_every_chunk_once(count: int, chunks: int) -> None:
    seen: list[tuple[int, str]] = []
    threads.share(_record(seen, threading.Lock()), list(range(chunks)), count)
    assert sorted(c for c, _ in seen) == list(range(chunks))


def test_a_helper_that_cannot_start_is_not_waited_for() -> None:
    """Every helper thread of the pool is held busy, so the call's helper job stays queued: the
    caller takes all the chunks itself and returns without waiting for it."""
    release = threading.Event()
    started = threading.Barrier(threads.MAX_THREADS)  # the held helpers and this test
    pool = threads._pool()
    held = [pool.submit(lambda: (started.wait(), release.wait(30))) for _ in
            range(threads.MAX_THREADS - 1)]
    try:
        started.wait(30)
        seen: list[tuple[int, str]] = []
        threads.share(_record(seen, threading.Lock()), list(range(10)), 2)
        assert sorted(c for c, _ in seen) == list(range(10))
        assert {name for _, name in seen} == {threading.current_thread().name}
    finally:
        release.set()
        for job in held:
            job.result()


def test_chunks_are_shared_when_helpers_run() -> None:
    """Each thread holds its first chunk until the other has taken one: both threads work."""
    both_took = threading.Barrier(2)
    names: set[str] = set()
    lock = threading.Lock()

    def work(chunks):
        for _ in chunks:
            name = threading.current_thread().name
            with lock:
                first = name not in names
                names.add(name)
            if first:
                both_took.wait(30)

    threads.share(work, list(range(6)), 2)
    assert len(names) == 2


def test_errors_propagate() -> None:
    def work(chunks):
        for chunk in chunks:
            if chunk == 3:
                raise RuntimeError("chunk 3")

    with pytest.raises(RuntimeError, match="chunk 3"):
        threads.share(work, list(range(8)), 2)
